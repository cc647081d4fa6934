"""A small agent that answers reviewers' requests for changes, as docs/pipeline.md describes.

    python -m bench.example_agent --once      # work off the queued revision jobs, then exit
    python -m bench.example_agent             # also LISTEN on flow_approvals and work as requests come in

It speaks only SQL, like the pipeline: it picks a queued revision job with
`for update skip locked` (several agents may run), writes the next version of
the artifact with previous_version_id pointing at the rejected one, hands the
job to review (`needs_approval`, output_artifact_id = the new version) and
opens the new version's pending approval, all in one transaction.

Its "model" is deterministic so that the loop can be tested: it fits the post
to its network's limit and writes the reviewer's notes in, where a real agent
would prompt its model with the notes and reason codes.

Database: --database-url, else DATABASE_URL, else the app's own settings (the
embedded server under var/).
"""

import argparse
import json
import os
import select
import sys
import uuid
from dataclasses import dataclass

import psycopg
from psycopg.types.json import Jsonb

# The limits table and counting need no Django: the agent fits posts exactly as the review page counts them.
from approvals.networks.counting import count_post
from approvals.networks.limits import Network, network_for

CHANNEL = "flow_approvals"

# Pick the oldest queued revision job nobody else holds; skip the ones another agent has locked.
# Files are left to an agent that can make them.
_NEXT_JOB_SQL = """
select jobs.id, jobs.kind, jobs.input_artifact_id, jobs.params
  from jobs join artifacts on artifacts.id = jobs.input_artifact_id
 where jobs.status = 'queued' and jobs.params ? 'revision_of' and artifacts.kind in ('text', 'json')
 order by jobs.created_at, jobs.id
 limit 1
 for update of jobs skip locked
"""
_DRAFT_SQL = """
select project_id, name, kind, body_text, body_json, mime_type, metadata, version from artifacts where id = %s
"""
_NEXT_VERSION_SQL = "select coalesce(max(version), 0) + 1 from artifacts where project_id = %s and name = %s"


@dataclass(frozen=True)
class Revision:
    job_id: uuid.UUID
    artifact_id: uuid.UUID
    version: int
    approval_id: uuid.UUID


def revise_text(text: str, *, notes: str, network: Network | None) -> str:
    """The example's stand-in for a model: the notes written in as the last line, the whole cut to fit the
    network's limit as the review page counts it."""
    revised = text.rstrip()
    if notes.strip():
        revised += f"\n({notes.strip().splitlines()[0]})"
    while network is not None and len(revised) > 1 and count_post(network, revised).length > network.limit:
        revised = revised[:-2].rstrip() + "…"
    return revised


def revise_json(value, *, notes: str, reasons: list[str]):
    if isinstance(value, dict):
        return {**value, "revision_notes": notes, "revision_reasons": reasons}
    return {"revised": value, "revision_notes": notes, "revision_reasons": reasons}


def work_once(conn: psycopg.Connection) -> Revision | None:
    """Answer one queued revision job in one transaction; None when there is none."""
    with conn.transaction(), conn.cursor() as cursor:
        row = cursor.execute(_NEXT_JOB_SQL).fetchone()
        if row is None:
            return None
        job_id, _, draft_id, params = row
        cursor.execute(
            "update jobs set status = 'running', started_at = now(), attempts = attempts + 1 where id = %s", [job_id]
        )
        project_id, name, artifact_kind, body_text, body_json, mime_type, metadata, _ = cursor.execute(
            _DRAFT_SQL, [draft_id]
        ).fetchone()
        notes, reasons = params.get("notes") or "", params.get("reasons") or []
        metadata = metadata if isinstance(metadata, dict) else {}
        if artifact_kind == "text":
            body_text = revise_text(body_text, notes=notes, network=network_for(metadata))
        else:
            body_json = revise_json(body_json, notes=notes, reasons=reasons)
        (version,) = cursor.execute(_NEXT_VERSION_SQL, [project_id, name]).fetchone()
        (artifact_id,) = cursor.execute(
            """insert into artifacts (project_id, name, kind, body_text, body_json, mime_type, version,
                                      previous_version_id, metadata)
               values (%s, %s, %s, %s, %s, %s, %s, %s, %s) returning id""",
            [
                project_id,
                name,
                artifact_kind,
                body_text,
                Jsonb(body_json) if body_json is not None else None,
                mime_type,
                version,
                draft_id,
                Jsonb({**metadata, "revision_of": params["revision_of"]}),
            ],
        ).fetchone()
        cursor.execute(
            "update jobs set status = 'needs_approval', output_artifact_id = %s where id = %s", [artifact_id, job_id]
        )
        (approval_id,) = cursor.execute(
            "insert into approvals (artifact_id) values (%s) returning id", [artifact_id]
        ).fetchone()
    return Revision(job_id=job_id, artifact_id=artifact_id, version=version, approval_id=approval_id)


def work_off(conn: psycopg.Connection) -> list[Revision]:
    done = []
    while (revision := work_once(conn)) is not None:
        print(f"job {revision.job_id}: wrote v{revision.version} ({revision.artifact_id}), pending review")
        done.append(revision)
    return done


def listen(conn: psycopg.Connection) -> None:
    """Work off the queue, then again whenever a decision asks for changes (the notify payload says so)."""
    conn.execute(f"listen {CHANNEL}")
    work_off(conn)
    while True:
        if select.select([conn.fileno()], [], [], 60)[0] == []:
            work_off(conn)  # a request missed while disconnected is still in the queue
            continue
        for notify in conn.notifies(timeout=0):
            if json.loads(notify.payload).get("decision") == "changes_requested":
                work_off(conn)


def _connection_params(database_url: str | None) -> dict:
    url = database_url or os.environ.get("DATABASE_URL")
    if url:
        return {"conninfo": url}
    # No URL: the app's own database (the embedded server under var/), found the way the app finds it.
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "flowsite.settings")
    import django
    from django.db import connections

    django.setup()
    return app_connection_params(connections["default"])


def app_connection_params(django_connection) -> dict:
    """psycopg.connect() arguments for the database a Django connection points at, without Django's
    own adapters (they leave jsonb as text; an agent reads JSON)."""
    params = django_connection.get_connection_params()
    return {key: value for key, value in params.items() if key not in {"context", "cursor_factory"}}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--once", action="store_true", help="work off the queued revision jobs, then exit")
    parser.add_argument("--database-url", help="postgresql:// URL (default: DATABASE_URL, else the app's database)")
    args = parser.parse_args(argv)
    with psycopg.connect(**_connection_params(args.database_url), autocommit=True) as conn:
        if args.once:
            done = work_off(conn)
            print(f"{len(done)} revision job(s) answered.")
            return 0
        listen(conn)
    return 0


if __name__ == "__main__":
    sys.exit(main())
