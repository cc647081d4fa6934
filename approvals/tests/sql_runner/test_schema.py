"""The SQL schema as the pipeline meets it, and the unmanaged models' fit to it (on the test database)."""

import re

import pytest
from django.apps import apps
from django.core.management import call_command
from django.db import IntegrityError, connection, models, transaction

from approvals.models import (
    NOTES_MAX_LENGTH,
    ApprovalOutcome,
    ApprovalReason,
    ApprovalStatus,
    ArtifactKind,
    JobStatus,
)
from approvals.tests.factories import make_artifact, make_job, make_pending_review, make_project, make_run

# The pipeline's five tables, then the reviewer app's own (008 and after).
TABLES = ["projects", "artifacts", "jobs", "approvals", "runs", "review_claims"]
# 010_ops_rollups.sql: the costs rollup, review targets and review analytics' items.
OPS_TABLES = ["run_cost_days", "run_cost_rollup", "review_targets", "review_items", "review_takebacks"]

pytestmark = pytest.mark.django_db


def fetch(sql: str, params=None) -> list[tuple]:
    """Run one statement; its rows, if it returns any."""
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall() if cursor.description else []


def rejected(sql: str, params=None) -> str:
    """Run a write that the schema must refuse; return PostgreSQL's message."""
    with pytest.raises(IntegrityError) as error, transaction.atomic():
        fetch(sql, params)
    return str(error.value)


# --- row-level security and checks -------------------------------------------------------------------


def test_row_level_security_is_enabled_on_every_table():
    rows = fetch(
        """select c.relname, c.relrowsecurity from pg_class c join pg_namespace n on n.oid = c.relnamespace
           where n.nspname = 'public' and c.relname = any(%s)""",
        [TABLES + OPS_TABLES],
    )
    assert dict(rows) == {table: True for table in TABLES + OPS_TABLES}


@pytest.mark.parametrize(
    ("kind", "body_column", "value"),
    [
        ("text", "body_json", '{"a": 1}'),
        ("json", "body_text", "hello"),
        ("file", "body_text", "hello"),
        ("text", None, None),
    ],
    ids=["text-with-json-body", "json-with-text-body", "file-with-text-body", "text-with-no-body"],
)
def test_artifact_kind_must_match_exactly_one_body(kind, body_column, value):
    project = make_project()
    columns = f", {body_column}" if body_column else ""
    values = ", %s" if body_column else ""
    cast = "::jsonb" if body_column == "body_json" else ""
    message = rejected(
        f"insert into public.artifacts (project_id, name, kind{columns}) values (%s, 'a', %s{values}{cast})",  # noqa: S608 fixed names and columns from this test
        [project.id, kind, *([value] if body_column else [])],
    )
    assert "artifacts_body_matches_kind" in message


def test_artifact_with_text_and_a_second_body_is_rejected():
    project = make_project()
    message = rejected(
        """insert into public.artifacts (project_id, name, kind, body_text, storage_path)
           values (%s, 'a', 'text', 'hello', 'proj/1/a.png')""",
        [project.id],
    )
    assert "artifacts_body_matches_kind" in message


def test_unknown_statuses_and_kinds_are_rejected():
    artifact = make_artifact()
    assert "artifacts_kind_valid" in rejected(
        "insert into public.artifacts (project_id, name, kind) values (%s, 'a', 'video')", [artifact.project_id]
    )
    assert "jobs_status_valid" in rejected("insert into public.jobs (kind, status) values ('draft_post', 'paused')")
    assert "approvals_status_valid" in rejected(
        "insert into public.approvals (artifact_id, status, decided_by, decided_at) values (%s, 'maybe', 'ana', now())",
        [artifact.id],
    )


def test_decision_needs_decided_at_and_pending_must_not_have_one():
    artifact = make_artifact()
    assert "approvals_decided_at_iff_decided" in rejected(
        "insert into public.approvals (artifact_id, status, decided_by) values (%s, 'approved', 'ana')", [artifact.id]
    )
    assert "approvals_decided_at_iff_decided" in rejected(
        "insert into public.approvals (artifact_id, status, decided_at) values (%s, 'pending', now())", [artifact.id]
    )


def test_notes_are_limited_to_ten_thousand_characters():
    artifact = make_artifact()
    insert = """insert into public.approvals (artifact_id, status, notes, decided_by, decided_at)
                values (%s, 'rejected', %s, 'ana', now())"""

    assert "approvals_notes_length" in rejected(insert, [artifact.id, "x" * (NOTES_MAX_LENGTH + 1)])
    fetch(insert, [artifact.id, "x" * NOTES_MAX_LENGTH])
    assert fetch("select count(*) from public.approvals where artifact_id = %s", [artifact.id]) == [(1,)]


def test_reason_codes_outside_the_list_are_rejected():
    artifact = make_artifact()
    insert = """insert into public.approvals (artifact_id, status, reasons, decided_by, decided_at)
                values (%s, 'rejected', %s, 'ana', now())"""

    assert "approvals_reasons_known" in rejected(insert, [artifact.id, ["tone", "vibes"]])
    assert "approvals_reasons_known" in rejected(insert, [artifact.id, ["tone", None]])
    fetch(insert, [artifact.id, ["tone", "legal"]])
    assert fetch("select reasons from public.approvals where artifact_id = %s", [artifact.id]) == [(["tone", "legal"],)]


def test_reasons_default_to_empty_for_rows_the_pipeline_inserts():
    artifact = make_artifact()
    inserted = fetch("insert into public.approvals (artifact_id) values (%s) returning reasons, outcome", [artifact.id])
    assert inserted == [([], None)]


def test_outcome_must_agree_with_status():
    artifact = make_artifact()
    insert = """insert into public.approvals (artifact_id, status, outcome, decided_by, decided_at)
                values (%s, %s, %s, 'ana', now())"""

    assert "approvals_outcome_matches_status" in rejected(insert, [artifact.id, "approved", "changes_requested"])
    assert "approvals_outcome_matches_status" in rejected(insert, [artifact.id, "rejected", "approved_with_edits"])
    fetch(insert, [artifact.id, "rejected", "changes_requested"])


def test_at_most_one_pending_approval_per_artifact():
    approval = make_pending_review()
    assert "approvals_one_pending_per_artifact" in rejected(
        "insert into public.approvals (artifact_id) values (%s)", [approval.artifact_id]
    )


def test_a_claim_needs_a_claimant_and_an_expiry_after_it_was_taken():
    approval = make_pending_review()
    insert = (
        "insert into public.review_claims (approval_id, claimant, expires_at) values (%s, %s, now() + %s::interval)"
    )
    assert "review_claims_claimant_length" in rejected(insert, [approval.id, "", "5 minutes"])
    assert "review_claims_expires_after_claimed" in rejected(insert, [approval.id, "ana", "-1 second"])


def test_one_claim_per_approval():
    approval = make_pending_review()
    insert = "insert into public.review_claims (approval_id, claimant, expires_at) values (%s, %s, now() + '5 min')"
    fetch(insert, [approval.id, "ana"])
    assert "review_claims_pkey" in rejected(insert, [approval.id, "ben"])


def test_deleting_an_approval_ends_its_claim():
    approval = make_pending_review()
    fetch(
        "insert into public.review_claims (approval_id, claimant, expires_at) values (%s, 'ana', now() + '5 min')",
        [approval.id],
    )
    fetch("delete from public.approvals where id = %s", [approval.id])
    assert fetch("select count(*) from public.review_claims where approval_id = %s", [approval.id]) == [(0,)]


# --- behaviour: cascades, triggers, generated columns ---------------------------------------------------


def test_deleting_a_project_cascades_to_its_artifacts_and_their_approvals():
    approval = make_pending_review()
    project_id, artifact_id = approval.artifact.project_id, approval.artifact_id
    job_id = approval.artifact.output_jobs.get().id

    fetch("delete from public.projects where id = %s", [project_id])

    assert fetch("select count(*) from public.artifacts where project_id = %s", [project_id]) == [(0,)]
    assert fetch("select count(*) from public.approvals where artifact_id = %s", [artifact_id]) == [(0,)]
    # Jobs outlive their artifacts: the reference is cleared, the job's history (and its runs) stays.
    assert fetch("select output_artifact_id from public.jobs where id = %s", [job_id]) == [(None,)]
    assert fetch("select count(*) from public.runs where job_id = %s", [job_id]) == [(1,)]


@pytest.mark.parametrize("table", ["projects", "artifacts", "jobs", "approvals"])
def test_updated_at_moves_on_every_update(table):
    # Rows written as the pipeline would, with an old updated_at (the trigger fires on update only).
    old = "2001-01-01 00:00:00+00"
    [(project,)] = fetch("insert into public.projects (name, updated_at) values ('p', %s) returning id", [old])
    [(artifact,)] = fetch(
        """insert into public.artifacts (project_id, name, kind, body_text, updated_at)
           values (%s, 'a', 'text', 'draft', %s) returning id""",
        [project, old],
    )
    [(job,)] = fetch(
        "insert into public.jobs (kind, output_artifact_id, updated_at) values ('draft_post', %s, %s) returning id",
        [artifact, old],
    )
    [(approval,)] = fetch(
        "insert into public.approvals (artifact_id, updated_at) values (%s, %s) returning id", [artifact, old]
    )
    row_id = {"projects": project, "artifacts": artifact, "jobs": job, "approvals": approval}[table]

    # Even an update that tries to set updated_at itself gets the current time.
    fetch(f"update public.{table} set updated_at = %s where id = %s", [old, row_id])  # noqa: S608 fixed names and columns from this test

    [(updated_at, now)] = fetch(f"select updated_at, now() from public.{table} where id = %s", [row_id])  # noqa: S608 fixed names and columns from this test
    assert updated_at == now


def test_total_tokens_is_generated_from_prompt_and_completion():
    run = make_run(job=make_job(), prompt_tokens=1200, completion_tokens=300)
    assert fetch("select total_tokens from public.runs where id = %s", [run.id]) == [(1500,)]

    fetch("update public.runs set completion_tokens = 800 where id = %s", [run.id])

    run.refresh_from_db()
    assert run.total_tokens == 2000


def test_choices_match_the_check_constraints():
    def allowed(constraint: str) -> set[str]:
        [(definition,)] = fetch("select pg_get_constraintdef(oid) from pg_constraint where conname = %s", [constraint])
        return set(re.findall(r"'([^']+)'::text", definition))

    assert allowed("artifacts_kind_valid") == set(ArtifactKind.values)
    assert allowed("jobs_status_valid") == set(JobStatus.values)
    assert allowed("approvals_status_valid") == set(ApprovalStatus.values)
    assert allowed("approvals_reasons_known") == set(ApprovalReason.values)
    assert allowed("approvals_outcome_matches_status") == set(ApprovalOutcome.values)


# --- models against the live schema -------------------------------------------------------------------


def live_columns(table: str) -> dict[str, dict]:
    rows = fetch(
        """select column_name, data_type, is_nullable = 'YES', numeric_precision, numeric_scale, is_generated,
                  udt_name
           from information_schema.columns where table_schema = 'public' and table_name = %s""",
        [table],
    )

    return {
        name: {
            "type": _column_type(data_type, precision, scale, udt_name),
            "null": nullable,
            "generated": generated == "ALWAYS",
        }
        for name, data_type, nullable, precision, scale, generated, udt_name in rows
    }


def _column_type(data_type: str, precision, scale, udt_name: str) -> str:
    """The type as Django's db_type spells it (an array's element type is its udt_name without the "_")."""
    if data_type == "numeric":
        return f"numeric({precision}, {scale})"
    if data_type == "ARRAY":
        return f"{udt_name.removeprefix('_')}[]"
    return data_type


def approvals_models() -> list[type[models.Model]]:
    return list(apps.get_app_config("approvals").get_models())


def test_every_table_has_an_unmanaged_model():
    assert sorted(model._meta.db_table for model in approvals_models()) == sorted(TABLES + OPS_TABLES)
    assert not any(model._meta.managed for model in approvals_models())


@pytest.mark.parametrize("model", approvals_models(), ids=lambda model: model.__name__)
def test_model_fields_match_the_live_columns(model):
    columns = live_columns(model._meta.db_table)
    fields = {field.column: field for field in model._meta.concrete_fields}

    assert set(columns) == set(fields), "columns without a field, or fields without a column"
    for name, field in fields.items():
        column = columns[name]
        assert field.db_type(connection) == column["type"], name
        assert isinstance(field, models.GeneratedField) == column["generated"], name
        if isinstance(field, models.GeneratedField):
            # A generated column's nullability follows its expression: every input must be NOT NULL.
            inputs = {ref.name for ref in field.expression.flatten() if isinstance(ref, models.F)}
            assert inputs and all(not columns[model._meta.get_field(i).column]["null"] for i in inputs), name
        else:
            assert field.null == column["null"], name


@pytest.mark.parametrize("model", approvals_models(), ids=lambda model: model.__name__)
def test_foreign_keys_point_where_the_schema_does_and_leave_deletes_to_it(model):
    rows = fetch(
        """select a.attname, c.confrelid::regclass::text, c.confdeltype
           from pg_constraint c join pg_attribute a on a.attrelid = c.conrelid and a.attnum = c.conkey[1]
           where c.contype = 'f' and c.conrelid = %s::regclass""",
        [f"public.{model._meta.db_table}"],
    )
    # Where the database cascades or sets null, Django leaves it to the database
    # (DO_NOTHING): CASCADE or SET_NULL would read and change every dependent row in Python first.
    on_delete = {"c": models.DO_NOTHING, "n": models.DO_NOTHING, "a": models.PROTECT, "r": models.PROTECT}
    schema = {column: (target, on_delete[action]) for column, target, action in rows}
    mapped = {
        field.column: (field.related_model._meta.db_table, field.remote_field.on_delete)
        for field in model._meta.concrete_fields
        if field.is_relation
    }
    assert mapped == schema


def test_makemigrations_has_nothing_to_add():
    call_command("makemigrations", "approvals", "--check", "--dry-run", verbosity=0)


def test_public_holds_only_the_sql_tables_and_django_its_own_schema():
    public = {row[0] for row in fetch("select table_name from information_schema.tables where table_schema = 'public'")}
    django_tables = fetch(
        "select distinct table_schema from information_schema.tables where table_name in ('django_migrations', "
        "'auth_user', 'django_session', 'django_admin_log', 'django_content_type')"
    )
    assert public == set(TABLES + OPS_TABLES)
    assert django_tables == [("django",)]
