"""apply_sql on real PostgreSQL: each test on a fresh scratch database of its own."""

import re
import socket
import threading
import time
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command

from approvals.sql_runner.session import ADVISORY_LOCK_KEY
from approvals.tests.scratch_database import FILES, VERSIONS, add_alias, apply_sql, remove_alias, untouched

# Recorded, not run, where still pending: later files apply them on a live database (docs/apply-sql.md).
SUPERSEDED = {
    "009_add_approval_reasons.sql": "011_approval_reasons_live.sql",
    "010_ops_rollups.sql": "014_ops_rollups_live.sql",
}
# What --rehearse runs: the files a run applies in a transaction.
REHEARSED = [
    name
    for name in FILES
    if name not in SUPERSEDED
    and not (Path(settings.SQL_MIGRATIONS_DIR) / name).read_text().startswith("-- apply_sql: no-transaction")
]
PIPELINE_TABLES = {"projects", "artifacts", "jobs", "approvals", "runs"}
# The reviewer app's own tables beside them: claims (008), the ops console's rollups and targets (010).
TABLES = PIPELINE_TABLES | {
    "review_claims",
    "run_cost_days",
    "run_cost_rollup",
    "review_targets",
    "review_items",
    "review_takebacks",
}
BUCKET_POLICIES = {"flow_artifacts_select", "flow_artifacts_insert", "flow_artifacts_update", "flow_artifacts_delete"}


def bucket_policies(db) -> set[str]:
    rows = db.query("select policyname from pg_policies where schemaname = 'storage' and tablename = 'objects'")
    return {row[0] for row in rows} & BUCKET_POLICIES


def buckets(db) -> list[str]:
    return [row[0] for row in db.query("select id from storage.buckets")]


# --- applying -------------------------------------------------------------------------------------


def test_fresh_apply_creates_the_schema_and_records_every_file(scratch_db):
    result = scratch_db.apply_sql()

    assert result.code == 0, result.text
    for name in FILES:
        if name in SUPERSEDED:
            assert f"Skipping {name}: superseded by {SUPERSEDED[name]}" in result.out
        else:
            assert re.search(rf"^Applying {re.escape(name)} \.\.\. OK \(\d+ ms\)$", result.out, re.M)
    assert scratch_db.public_tables() == TABLES
    assert buckets(scratch_db) == ["flow-artifacts"]
    assert bucket_policies(scratch_db) == BUCKET_POLICIES
    assert scratch_db.ledger() == VERSIONS
    assert {"django", "flow_migrations"} <= scratch_db.schemas()
    assert "already exists, skipping" not in result.text


def test_second_run_applies_nothing_and_says_so(scratch_db):
    scratch_db.apply_sql()

    result = scratch_db.apply_sql()

    assert result.code == 0
    assert "Nothing to apply" in result.out
    assert "Applying" not in result.out
    assert scratch_db.events("apply") == VERSIONS


def test_plan_lists_the_pending_files_and_changes_nothing(scratch_db):
    result = scratch_db.apply_sql("--plan")

    assert result.code == 0
    assert [line.split()[0] for line in result.out.splitlines() if line.startswith("  0")] == FILES
    assert untouched(scratch_db)


def test_rehearse_runs_every_file_then_leaves_nothing(scratch_db):
    result = scratch_db.apply_sql("--rehearse")

    assert result.code == 0, result.text
    assert result.out.count(" ... OK (") == len(REHEARSED)
    assert "the database is unchanged" in result.out
    assert untouched(scratch_db)


def test_broken_file_rolls_back_whole_and_leaves_the_ledger_unchanged(scratch_db, migrations_dir):
    broken = migrations_dir / "003_create_jobs.sql"
    text = broken.read_text().replace(
        "on public.jobs (status, created_at)", "on public.jbos (status, created_at)"
    )  # after `create table public.jobs` in the same file, which must be rolled back too
    broken.write_text(text)
    line_no = next(n for n, line in enumerate(text.splitlines(), 1) if "public.jbos" in line)
    column = text.splitlines()[line_no - 1].index("public.jbos") + 1

    result = scratch_db.apply_sql(directory=migrations_dir)

    assert result.code == 1
    assert f'{broken}:{line_no}:{column}: ERROR 42P01 relation "public.jbos" does not exist' in result.err
    assert re.search(r"\|\s+\^", result.err)  # the caret line under the source line
    assert "Committed in this run: 001_create_projects.sql, 002_create_artifacts.sql." in result.err
    assert f"Not attempted: {', '.join(FILES[3:])}." in result.err
    assert scratch_db.public_tables() == {"projects", "artifacts"}
    assert scratch_db.ledger() == ["001", "002"]
    assert scratch_db.events("fail") == ["003"]


def test_runtime_error_without_a_server_position_still_names_the_line(scratch_db, migrations_dir):
    (migrations_dir / "907_seed_project.sql").write_text(
        "-- A row the pipeline would never write: an empty name.\n"
        "insert into public.projects (name) values ('fine');\n"
        "insert into public.projects (name) values ('');\n"
    )

    result = scratch_db.apply_sql(directory=migrations_dir)

    assert result.code == 1
    assert re.search(
        rf"^{re.escape(str(migrations_dir / '907_seed_project.sql'))}:3:\d+: ERROR 23514", result.err, re.M
    )
    assert "projects_name_length" in result.err
    assert scratch_db.value("select count(*) from public.projects") == 0


def test_server_warnings_are_shown_and_rerun_notices_are_not(scratch_db, migrations_dir):
    (migrations_dir / "907_warn.sql").write_text(
        "create table if not exists public.projects (id uuid);\n"
        "do $$ begin\n"
        "  raise notice 'policy check done';\n"
        "  raise warning 'not allowed to create policy x' using hint = 'Create it in the dashboard.';\n"
        "end $$;\n"
    )

    result = scratch_db.apply_sql(directory=migrations_dir)

    assert result.code == 0
    assert "NOTICE: policy check done" in result.out
    assert "WARNING: not allowed to create policy x" in result.err
    assert "HINT: Create it in the dashboard." in result.err
    assert "skipping" not in result.text


def test_applied_files_are_mirrored_into_supabase_migrations_when_that_table_exists(scratch_db):
    scratch_db.execute(
        "create schema supabase_migrations;"
        "create table supabase_migrations.schema_migrations (version text primary key, statements text[], name text)"
    )

    scratch_db.apply_sql()

    rows = scratch_db.query("select version, name from supabase_migrations.schema_migrations order by version")
    assert rows[0] == ("001", "create_projects")
    assert [row[0] for row in rows] == VERSIONS


# --- locking --------------------------------------------------------------------------------------


# A lock the test holds to keep a run inside its last file for as long as the test needs.
GATE_KEY = 7_007


def wait_for_gate_waiter(db, *, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    waiting = "select count(*) from pg_locks where locktype = 'advisory' and objid = %s and not granted"
    while db.value(waiting, [GATE_KEY]) == 0:
        assert time.monotonic() < deadline, "the first apply_sql never reached the gate in its last file"
        time.sleep(0.05)


class Output:
    """A process's stdout, read line by line in a thread, so the test can wait for a line with a deadline."""

    def __init__(self, process):
        self.lines: list[str] = []
        self._thread = threading.Thread(target=lambda: self.lines.extend(iter(process.stdout.readline, "")))
        self._thread.start()

    def wait_for(self, text: str, *, timeout: float = 60) -> bool:
        deadline = time.monotonic() + timeout
        while not any(text in line for line in self.lines) and time.monotonic() < deadline:
            time.sleep(0.05)
        return any(text in line for line in self.lines)

    def text(self) -> str:
        self._thread.join(timeout=120)
        return "".join(self.lines)


@pytest.mark.slow
def test_two_concurrent_runs_apply_each_file_exactly_once(scratch_db, migrations_dir):
    # The last file waits at a gate the test holds: the first run stays inside the
    # migration lock until the second has said it is waiting, whatever the timing.
    (migrations_dir / "900_wait_at_the_gate.sql").write_text(f"select pg_advisory_xact_lock_shared({GATE_KEY});\n")
    args = ["apply_sql", "--dir", str(migrations_dir)]

    with scratch_db.connect(autocommit=True) as gate:
        gate.execute("select pg_advisory_lock(%s)", [GATE_KEY])
        runs = [scratch_db.manage(*args)]
        wait_for_gate_waiter(scratch_db)
        runs.append(scratch_db.manage(*args))
        second = Output(runs[1])
        second.wait_for("Waiting for the migration lock")
    # The gate opens when its connection closes.
    outputs = [runs[0].communicate(timeout=120), (second.text(), runs[1].stderr.read())]
    runs[1].wait(timeout=120)

    assert [run.returncode for run in runs] == [0, 0], outputs
    stdouts = [out for out, _ in outputs]
    assert sum("Nothing to apply" in out for out in stdouts) == 1
    waited = next(out for out in stdouts if "Nothing to apply" in out)
    assert "Waiting for the migration lock" in waited
    assert sorted(scratch_db.events("apply")) == [*VERSIONS, "900"]


def test_lock_timeout_names_the_backend_holding_the_lock(scratch_db):
    with scratch_db.connect(autocommit=True, application_name="deploy-from-ci") as holder:
        holder.execute("select pg_advisory_lock(%s)", [ADVISORY_LOCK_KEY])
        pid = holder.info.backend_pid

        started = time.monotonic()
        result = scratch_db.apply_sql("--lock-timeout", "1")

    assert result.code == 4
    assert time.monotonic() - started < 10
    assert f"held by backend {pid}" in result.text
    assert "deploy-from-ci" in result.text
    assert scratch_db.ledger() == []


# --- rollback -------------------------------------------------------------------------------------


def supabase_delete_guard(db) -> None:
    """Supabase's guard: DELETE on storage tables fails unless storage.allow_delete_query is set."""
    db.execute(
        """create function storage.protect_delete() returns trigger language plpgsql as $$
           begin
             if current_setting('storage.allow_delete_query', true) is distinct from 'true' then
               raise exception 'Direct deletion from storage tables is not allowed. Use the Storage API instead.';
             end if;
             return null;
           end $$;
           create trigger protect_buckets_delete before delete on storage.buckets
             for each statement execute function storage.protect_delete();
           create trigger protect_objects_delete before delete on storage.objects
             for each statement execute function storage.protect_delete();"""
    )


def test_rollback_drops_the_five_tables_and_the_bucket(scratch_db):
    scratch_db.apply_sql()
    supabase_delete_guard(scratch_db)
    scratch_db.execute("insert into storage.objects (bucket_id, name) values ('flow-artifacts', 'proj/1/hero.png')")

    result = scratch_db.apply_sql("--rollback", "--yes")

    assert result.code == 0, result.text
    assert scratch_db.public_tables() == set()
    assert buckets(scratch_db) == []
    assert bucket_policies(scratch_db) == set()
    assert scratch_db.value("select to_regprocedure('public.set_updated_at()')") is None
    assert scratch_db.ledger() == []
    assert scratch_db.events("rollback") == [None]
    assert scratch_db.apply_sql().code == 0  # and it applies again from scratch
    assert scratch_db.public_tables() == TABLES


def test_rollback_without_yes_refuses(scratch_db):
    scratch_db.apply_sql()

    result = scratch_db.apply_sql("--rollback")

    assert result.code == 2
    assert "--yes" in result.err
    assert scratch_db.public_tables() == TABLES


# --- connecting -----------------------------------------------------------------------------------


def test_wait_fails_fast_on_a_missing_database(scratch_db):
    add_alias("missing", NAME=f"{scratch_db.name}_missing")
    try:
        started = time.monotonic()
        result = apply_sql("missing", "--wait", "30")
    finally:
        remove_alias("missing")

    assert result.code == 2
    assert time.monotonic() - started < 10
    assert "does not exist" in result.err


def test_unreachable_server_exits_5_after_waiting(scratch_db):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        free_port = probe.getsockname()[1]
    add_alias("unreachable", HOST="127.0.0.1", PORT=str(free_port))
    try:
        result = apply_sql("unreachable", "--wait", "1")
    finally:
        remove_alias("unreachable")

    assert result.code == 5
    assert "Connection refused" in result.err


def test_transaction_mode_pooler_port_is_refused(scratch_db):
    add_alias("pooler", HOST="127.0.0.1", PORT="6543")
    try:
        result = apply_sql(
            "pooler",
        )
    finally:
        remove_alias("pooler")

    assert result.code == 2
    assert "transaction-mode pooler" in result.err


# --- status and Django's own tables ------------------------------------------------------------------


def test_status_and_check_report_pending_then_applied_files(scratch_db):
    before = scratch_db.apply_sql("--check")
    scratch_db.apply_sql()
    after = scratch_db.apply_sql("--status", "--check")

    assert before.code == 1
    assert f"{len(VERSIONS)} pending" in before.out
    assert after.code == 0
    user = scratch_db.value("select current_user")
    assert all(
        re.search(rf"^{v} .* (applied .* {user} |superseded by \d+ .* {user}$)", after.out, re.M) for v in VERSIONS
    ), after.out
    assert "0 pending, 0 changed, 0 failed, 0 missing." in after.out


def test_migrate_before_apply_sql_keeps_django_tables_out_of_public(scratch_db):
    call_command("migrate", database=scratch_db.alias, verbosity=0, interactive=False)

    django_tables = scratch_db.query(
        "select table_schema, count(*) from information_schema.tables where table_name like 'django%%' group by 1"
    )
    assert [schema for schema, _ in django_tables] == ["django"]
    assert scratch_db.public_tables() == set()
    assert scratch_db.apply_sql().code == 0
