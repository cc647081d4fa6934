"""apply_sql on real PostgreSQL: each test on a fresh scratch database of its own."""

import re
import socket
import time

import pytest
from django.core.management import call_command

from approvals.sql_runner.session import ADVISORY_LOCK_KEY
from approvals.tests.scratch_database import add_alias, apply_sql, remove_alias

FILES = [
    "001_create_projects.sql",
    "002_create_artifacts.sql",
    "003_create_jobs.sql",
    "004_create_approvals.sql",
    "005_create_runs.sql",
    "006_create_storage_bucket.sql",
    "007_revoke_unneeded_privileges.sql",
]
VERSIONS = ["001", "002", "003", "004", "005", "006", "007"]
TABLES = {"projects", "artifacts", "jobs", "approvals", "runs"}
BUCKET_POLICIES = {"flow_artifacts_select", "flow_artifacts_insert", "flow_artifacts_update", "flow_artifacts_delete"}


def bucket_policies(db) -> set[str]:
    rows = db.query("select policyname from pg_policies where schemaname = 'storage' and tablename = 'objects'")
    return {row[0] for row in rows} & BUCKET_POLICIES


def buckets(db) -> list[str]:
    return [row[0] for row in db.query("select id from storage.buckets")]


def untouched(db) -> bool:
    """Nothing apply_sql creates is there: no tables, no shim schemas, no ledger, no Django schema."""
    return not db.public_tables() and not ({"auth", "storage", "django", "flow_migrations"} & db.schemas())


# --- applying -------------------------------------------------------------------------------------


def test_fresh_apply_creates_the_schema_and_records_every_file(scratch_db):
    result = scratch_db.apply_sql()

    assert result.code == 0, result.text
    for name in FILES:
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
    assert result.out.count(" ... OK (") == len(FILES)
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
    assert (
        "Not attempted: 004_create_approvals.sql, 005_create_runs.sql, 006_create_storage_bucket.sql, "
        "007_revoke_unneeded_privileges.sql." in result.err
    )
    assert scratch_db.public_tables() == {"projects", "artifacts"}
    assert scratch_db.ledger() == ["001", "002"]
    assert scratch_db.events("fail") == ["003"]


def test_runtime_error_without_a_server_position_still_names_the_line(scratch_db, migrations_dir):
    (migrations_dir / "099_seed_project.sql").write_text(
        "-- A row the pipeline would never write: an empty name.\n"
        "insert into public.projects (name) values ('fine');\n"
        "insert into public.projects (name) values ('');\n"
    )

    result = scratch_db.apply_sql(directory=migrations_dir)

    assert result.code == 1
    assert re.search(
        rf"^{re.escape(str(migrations_dir / '099_seed_project.sql'))}:3:\d+: ERROR 23514", result.err, re.M
    )
    assert "projects_name_length" in result.err
    assert scratch_db.value("select count(*) from public.projects") == 0


def test_server_warnings_are_shown_and_rerun_notices_are_not(scratch_db, migrations_dir):
    (migrations_dir / "099_warn.sql").write_text(
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


# --- checksums and repair -------------------------------------------------------------------------


def test_changed_applied_file_is_refused_with_a_diff(scratch_db, migrations_dir):
    scratch_db.apply_sql(directory=migrations_dir)
    jobs = migrations_dir / "003_create_jobs.sql"
    jobs.write_text(jobs.read_text().replace("default 'queued'", "default 'running'"))
    (migrations_dir / "099_later.sql").write_text("create table public.later (id int);\n")

    result = scratch_db.apply_sql(directory=migrations_dir)

    assert result.code == 3
    assert "003_create_jobs.sql: checksum mismatch" in result.err
    assert "-  status             text not null default 'queued'," in result.err
    assert "+  status             text not null default 'running'," in result.err
    assert "later" not in scratch_db.public_tables()


def test_line_ending_and_whitespace_changes_are_not_changes(scratch_db, migrations_dir):
    scratch_db.apply_sql(directory=migrations_dir)
    projects = migrations_dir / "001_create_projects.sql"
    text = projects.read_text()
    crlf = "\ufeff" + "\r\n".join(line + "  " for line in text.split("\n")) + "\r\n\r\n"
    projects.write_bytes(crlf.encode())

    result = scratch_db.apply_sql(directory=migrations_dir)

    assert result.code == 0, result.text
    assert "Nothing to apply" in result.out


def test_repair_accepts_a_changed_file_and_logs_it(scratch_db, migrations_dir):
    scratch_db.apply_sql(directory=migrations_dir)
    jobs = migrations_dir / "003_create_jobs.sql"
    jobs.write_text(jobs.read_text() + "\ncomment on column public.jobs.error is 'Why it failed.';\n")

    repaired = scratch_db.apply_sql("--repair", "003", directory=migrations_dir)
    after = scratch_db.apply_sql(directory=migrations_dir)

    assert repaired.code == 0
    assert "Accepted the changed 003_create_jobs.sql" in repaired.out
    assert after.code == 0 and "Nothing to apply" in after.out
    assert scratch_db.events("repair") == ["003"]
    assert "Why it failed." in scratch_db.value(
        "select applied_text from flow_migrations.applied_files where version = '003'"
    )


# --- locking --------------------------------------------------------------------------------------


@pytest.mark.slow
def test_two_concurrent_runs_apply_each_file_exactly_once(scratch_db, migrations_dir):
    # A slow last file keeps the first run inside the lock while the second arrives.
    (migrations_dir / "099_take_a_while.sql").write_text("select pg_sleep(3);\n")
    args = ["apply_sql", "--dir", str(migrations_dir)]

    runs = [scratch_db.manage(*args), scratch_db.manage(*args)]
    outputs = [run.communicate(timeout=120) for run in runs]

    assert [run.returncode for run in runs] == [0, 0], outputs
    stdouts = [out for out, _ in outputs]
    assert sum("Nothing to apply" in out for out in stdouts) == 1
    waited = next(out for out in stdouts if "Nothing to apply" in out)
    assert "Waiting for the migration lock" in waited
    assert sorted(scratch_db.events("apply")) == [*VERSIONS, "099"]


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


# --- adopting a database migrated by hand ----------------------------------------------------------


def migrate_by_hand(db, directory, files) -> None:
    """What the Supabase SQL editor does: the shim (Supabase has these objects), then the files as pasted."""
    from approvals.sql_runner.runner import SHIM_PATH

    db.execute(SHIM_PATH.read_text())
    for name in files:
        db.execute((directory / name).read_text())


def test_hand_migrated_database_stops_a_normal_run_and_baseline_adopts_it(scratch_db, migrations_dir):
    migrate_by_hand(scratch_db, migrations_dir, FILES)

    refused = scratch_db.apply_sql(directory=migrations_dir)
    adopted = scratch_db.apply_sql("--baseline", directory=migrations_dir)
    status = scratch_db.apply_sql("--status", directory=migrations_dir)
    after = scratch_db.apply_sql(directory=migrations_dir)

    assert refused.code == 3
    assert "--baseline" in refused.err
    assert adopted.code == 0, adopted.text
    # 007 only revokes privileges: nothing to find by reading it, so a normal run applies it (it is idempotent).
    assert scratch_db.events("baseline") == VERSIONS[:6]
    assert status.out.count("applied (baseline)") == 6
    assert after.code == 0 and "Applying 007_revoke_unneeded_privileges.sql ... OK" in after.out
    assert scratch_db.ledger() == VERSIONS
    assert scratch_db.events("apply") == ["007"]


def test_baseline_leaves_files_not_yet_run_pending(scratch_db, migrations_dir):
    migrate_by_hand(scratch_db, migrations_dir, FILES[:4])

    adopted = scratch_db.apply_sql("--baseline", directory=migrations_dir)
    after = scratch_db.apply_sql(directory=migrations_dir)

    assert adopted.code == 0
    assert scratch_db.events("baseline") == VERSIONS[:4]
    assert "Applying 005_create_runs.sql ... OK" in after.out
    assert scratch_db.events("apply") == ["005", "006", "007"]


def test_baseline_refuses_a_file_whose_columns_are_missing(scratch_db, migrations_dir):
    migrate_by_hand(scratch_db, migrations_dir, FILES)
    scratch_db.execute("alter table public.approvals drop column notes")

    result = scratch_db.apply_sql("--baseline", directory=migrations_dir)

    assert result.code == 3
    assert "missing column public.approvals.notes" in result.err
    assert scratch_db.ledger() == []


# --- what files may contain -----------------------------------------------------------------------


def test_pending_file_numbered_below_an_applied_one_is_refused(scratch_db, migrations_dir):
    (migrations_dir / "099_later.sql").write_text("create table public.later (id int);\n")
    scratch_db.apply_sql(directory=migrations_dir)
    (migrations_dir / "098_merged_late.sql").write_text("create table public.merged_late (id int);\n")

    refused = scratch_db.apply_sql(directory=migrations_dir)
    allowed = scratch_db.apply_sql("--allow-out-of-order", directory=migrations_dir)

    assert refused.code == 3
    assert "098_merged_late.sql: pending but numbered below a file already applied" in refused.err
    assert allowed.code == 0
    assert "merged_late" in scratch_db.public_tables()


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ("begin;\ncreate table public.t (id int);\ncommit;\n", "line 1: BEGIN"),
        ("create index concurrently if not exists runs_model_idx2 on public.runs (model);\n", "line 1: this statement"),
    ],
    ids=["own-transaction", "concurrently-without-marker"],
)
def test_file_that_cannot_run_in_a_transaction_is_refused_before_anything_runs(
    scratch_db, migrations_dir, body, expected
):
    (migrations_dir / "099_bad.sql").write_text(body)

    result = scratch_db.apply_sql(directory=migrations_dir)

    assert result.code == 3
    assert f"099_bad.sql: {expected}" in result.err
    assert untouched(scratch_db)


def test_two_files_with_one_version_number_are_refused(scratch_db, migrations_dir):
    (migrations_dir / "006_also_six.sql").write_text("create table public.also_six (id int);\n")

    result = scratch_db.apply_sql(directory=migrations_dir)

    assert result.code == 3
    assert "006_also_six.sql, 006_create_storage_bucket.sql" in result.err
    assert untouched(scratch_db)


def test_no_transaction_marker_runs_create_index_concurrently(scratch_db, migrations_dir):
    (migrations_dir / "099_runs_provider_index.sql").write_text(
        "-- apply_sql: no-transaction\n"
        "-- Built without blocking the pipeline's writes.\n"
        "create index concurrently if not exists runs_provider_idx on public.runs (provider);\n"
    )

    result = scratch_db.apply_sql(directory=migrations_dir)

    assert result.code == 0, result.text
    assert scratch_db.value(
        "select indisvalid from pg_index where indexrelid = to_regclass('public.runs_provider_idx')"
    )
    assert scratch_db.query("select in_transaction from flow_migrations.applied_files where version = '099'") == [
        (False,)
    ]


def test_failed_no_transaction_file_stays_failed_until_repaired(scratch_db, migrations_dir):
    marker_file = migrations_dir / "099_runs_provider_index.sql"
    marker_file.write_text(
        "-- apply_sql: no-transaction\ncreate index concurrently runs_provider_idx on public.runz (provider);\n"
    )
    column = marker_file.read_text().splitlines()[1].index("public.runz") + 1
    failed = scratch_db.apply_sql(directory=migrations_dir)
    blocked = scratch_db.apply_sql(directory=migrations_dir)
    marker_file.write_text(marker_file.read_text().replace("runz", "runs"))
    repaired = scratch_db.apply_sql("--repair", "99", directory=migrations_dir)
    retried = scratch_db.apply_sql(directory=migrations_dir)

    assert failed.code == 1
    assert f"{marker_file}:2:{column}: ERROR 42P01" in failed.err
    assert "marks it failed" in failed.err
    assert blocked.code == 3
    assert "--repair 099" in blocked.err
    assert repaired.code == 0
    assert retried.code == 0, retried.text
    assert scratch_db.events("apply")[-1] == "099"


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
    assert all(re.search(rf"^{v} .* applied .* {user} ", after.out, re.M) for v in VERSIONS), after.out
    assert "0 pending, 0 changed, 0 failed, 0 missing." in after.out


def test_migrate_before_apply_sql_keeps_django_tables_out_of_public(scratch_db):
    call_command("migrate", database=scratch_db.alias, verbosity=0, interactive=False)

    django_tables = scratch_db.query(
        "select table_schema, count(*) from information_schema.tables where table_name like 'django%%' group by 1"
    )
    assert [schema for schema, _ in django_tables] == ["django"]
    assert scratch_db.public_tables() == set()
    assert scratch_db.apply_sql().code == 0
