"""The contract with the pipeline (docs/pipeline.md): the rows each decision writes, read back in SQL, and
the notify payload as a LISTENing agent receives it on a connection of its own."""

import json
import subprocess
import sys

import psycopg
import pytest
from django.conf import settings
from django.db import connection
from psycopg.conninfo import make_conninfo

from approvals.decisions import approve_with_edits, decide, request_changes
from approvals.tests.factories import make_pending_review
from bench import example_agent

pytestmark = pytest.mark.usefixtures("transactional_pipeline_db")


def sql(query: str, params=None) -> list[tuple]:
    """Rows as PostgreSQL returns them; jsonb columns (Django's cursor leaves them as text) parsed."""
    with connection.cursor() as cursor:
        cursor.execute(query, params)
        jsonb = [column.type_code == JSONB_OID for column in cursor.description]
        return [
            tuple(json.loads(value) if is_json and value else value for value, is_json in zip(row, jsonb, strict=True))
            for row in cursor
        ]


JSONB_OID = 3802


@pytest.fixture
def agent_connection():
    """A connection of the pipeline's own, outside Django, listening as an agent does."""
    with psycopg.connect(**example_agent.app_connection_params(connection), autocommit=True) as conn:
        conn.execute("listen flow_approvals")
        yield conn


def received(conn: psycopg.Connection) -> list[dict]:
    return [json.loads(notify.payload) for notify in conn.notifies(timeout=1, stop_after=1)]


def post(**fields):
    return make_pending_review(metadata={"platform": "x"}, body_text="Launch day!", **fields)


def test_approve_writes_its_rows_and_payload(agent_connection):
    approval = post()
    draft_id = approval.artifact_id

    decide(approval_id=approval.id, decision="approved", notes="Good.", reasons=["tone"], decided_by="ana")

    assert sql("select status, outcome, notes, reasons, decided_by from approvals where id = %s", [approval.id]) == [
        ("approved", "approved", "Good.", ["tone"], "ana")
    ]
    assert sql("select status, error from jobs where output_artifact_id = %s", [draft_id]) == [("done", None)]
    assert received(agent_connection) == [
        {
            "approval_id": str(approval.id),
            "artifact_id": str(draft_id),
            "status": "approved",
            "decision": "approved",
            "decided_by": "ana",
            "reasons": ["tone"],
        }
    ]


def test_reject_is_final_and_queues_nothing(agent_connection):
    approval = post()

    decide(approval_id=approval.id, decision="rejected", notes="", reasons=["legal", "brand"], decided_by="ana")

    assert sql("select status, outcome, notes, reasons from approvals where id = %s", [approval.id]) == [
        ("rejected", "rejected", None, ["brand", "legal"])
    ]
    assert sql("select status, error from jobs") == [("failed", "Rejected by ana: ")]
    assert received(agent_connection) == [
        {
            "approval_id": str(approval.id),
            "artifact_id": str(approval.artifact_id),
            "status": "rejected",
            "decision": "rejected",
            "decided_by": "ana",
            "reasons": ["brand", "legal"],
        }
    ]


def test_request_changes_rejects_and_queues_a_revision_job(agent_connection):
    approval = post()
    draft_id = approval.artifact_id

    result = request_changes(approval_id=approval.id, notes="Shorter.", reasons=["length", "tone"], decided_by="ana")

    assert sql("select status, outcome, notes, reasons from approvals where id = %s", [approval.id]) == [
        ("rejected", "changes_requested", "Shorter.", ["tone", "length"])
    ]
    assert sql("select kind, status, error from jobs where output_artifact_id = %s", [draft_id]) == [
        ("draft_post", "failed", "Changes requested by ana: tone, length; Shorter.")
    ]
    assert sql(
        "select id, kind, status, input_artifact_id, output_artifact_id, params from jobs where status = 'queued'"
    ) == [
        (
            result.revision_job_id,
            "draft_post",
            "queued",
            draft_id,
            None,
            {"revision_of": str(approval.id), "notes": "Shorter.", "reasons": ["tone", "length"]},
        )
    ]
    assert received(agent_connection) == [
        {
            "approval_id": str(approval.id),
            "artifact_id": str(draft_id),
            "status": "rejected",
            "decision": "changes_requested",
            "decided_by": "ana",
            "reasons": ["tone", "length"],
            "revision_job_id": str(result.revision_job_id),
        }
    ]


def test_approve_with_edits_approves_a_new_version_and_closes_the_draft(agent_connection):
    approval = post()
    draft = approval.artifact

    result = approve_with_edits(approval_id=approval.id, body="Launch day.", notes="Calmer.", decided_by="ana")

    assert sql(
        """select kind, body_text, version, previous_version_id, created_by, metadata
             from artifacts where id = %s""",
        [result.artifact_id],
    ) == [("text", "Launch day.", 2, draft.id, None, {"platform": "x", "edited_by": "ana", "edit_of": str(draft.id)})]
    assert sql("select body_text, version from artifacts where id = %s", [draft.id]) == [("Launch day!", 1)]
    assert sql(
        "select artifact_id, status, outcome, notes, decided_by from approvals order by status, artifact_id = %s",
        [draft.id],
    ) == [
        (result.artifact_id, "approved", "approved_with_edits", "Calmer.", "ana"),
        (draft.id, "rejected", "replaced_by_edit", "Replaced by ana's edit, approved as a new version.", "ana"),
    ]
    assert sql("select status, output_artifact_id, error from jobs") == [("done", result.artifact_id, None)]
    assert received(agent_connection) == [
        {
            "approval_id": str(result.approval_id),
            "artifact_id": str(result.artifact_id),
            "status": "approved",
            "decision": "approved_with_edits",
            "decided_by": "ana",
            "reasons": [],
            "edit_of": str(draft.id),
            "replaced_approval_id": str(approval.id),
        }
    ]


def test_the_example_agent_answers_a_request_for_changes_with_a_pending_next_version(agent_connection):
    approval = post()
    request = request_changes(approval_id=approval.id, notes="Add the date.", reasons=[], decided_by="ana")

    revision = example_agent.work_once(agent_connection)

    assert revision.job_id == request.revision_job_id
    assert sql(
        "select version, previous_version_id, body_text, metadata->>'revision_of' from artifacts where id = %s",
        [revision.artifact_id],
    ) == [(2, approval.artifact_id, "Launch day!\n(Add the date.)", str(approval.id))]
    assert sql("select status, output_artifact_id, attempts from jobs where id = %s", [request.revision_job_id]) == [
        ("needs_approval", revision.artifact_id, 1)
    ]
    assert sql("select id, status from approvals where artifact_id = %s", [revision.artifact_id]) == [
        (revision.approval_id, "pending")
    ]
    assert example_agent.work_once(agent_connection) is None  # nothing left queued


def test_the_example_agent_runs_from_the_command_line_once():
    approval = post()
    request_changes(approval_id=approval.id, notes="Add the date.", reasons=["accuracy"], decided_by="ana")
    libpq_options = {
        k: v for k, v in example_agent.app_connection_params(connection).items() if k != "prepare_threshold"
    }
    database_url = make_conninfo(**libpq_options)

    run = subprocess.run(
        [sys.executable, "-m", "bench.example_agent", "--once", "--database-url", database_url],
        cwd=settings.BASE_DIR,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )

    assert run.returncode == 0, run.stderr
    assert run.stdout.endswith("1 revision job(s) answered.\n")
    versions = "select version, status from artifacts join approvals on approvals.artifact_id = artifacts.id"
    assert sorted(sql(versions)) == [(1, "rejected"), (2, "pending")]
