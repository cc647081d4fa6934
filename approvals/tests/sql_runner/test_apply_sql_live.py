"""apply_sql on a live database: files that replace 009 and 010, lock waits bounded and retried, no deadlock
with the pipeline's lock order, a rehearsal that says what it locks (docs/apply-sql.md, "A live database")."""

import shutil
import threading
import time
from pathlib import Path

import psycopg
import pytest

from approvals.tests.scratch_database import ScratchDatabase, add_alias, remove_alias

PIPELINE_TABLES = ("projects", "artifacts", "jobs", "approvals", "runs")
# What a database's schema is, as far as the app and the pipeline can tell: compared between upgrade paths.
SCHEMA_FINGERPRINT = {
    "columns": """select table_name, column_name, data_type, is_nullable, column_default
                    from information_schema.columns where table_schema = 'public'""",
    "constraints": """select conrelid::regclass::text, conname, pg_get_constraintdef(oid), convalidated
                        from pg_constraint where connamespace = 'public'::regnamespace""",
    "indexes": """select indexrelid::regclass::text, pg_get_indexdef(indexrelid), indisvalid
                    from pg_index where indrelid::regclass::text not like 'pg_%%'
                     and indexrelid::regclass::text not like '%%.%%'""",
    "triggers": "select tgname, pg_get_triggerdef(oid) from pg_trigger where not tgisinternal",
    "routines": """select proname, pg_get_function_identity_arguments(oid), prosrc, prosecdef,
                          coalesce(proconfig::text, ''),
                          array(select unnest(proacl)::text order by 1)::text
                     from pg_proc where pronamespace = 'public'::regnamespace""",
    "tables": """select relname, relrowsecurity, array(select unnest(relacl)::text order by 1)::text from pg_class
                  where relnamespace = 'public'::regnamespace and relkind = 'r'""",
    "policies": "select tablename, policyname, roles::text, cmd, qual, with_check from pg_policies",
}


def fingerprint(db: ScratchDatabase) -> dict[str, set]:
    return {name: set(db.query(sql)) for name, sql in SCHEMA_FINGERPRINT.items()}


def folder_up_to(migrations_dir: Path, tmp_path: Path, last: int, *, also: tuple[int, ...] = ()) -> Path:
    """A copy of migrations_sql/ holding the files numbered up to `last` (and `also`) only."""
    folder = tmp_path / f"up_to_{last:03d}"
    folder.mkdir()
    for path in migrations_dir.glob("0*.sql"):
        if int(path.name[:3]) <= last or int(path.name[:3]) in also:
            shutil.copy(path, folder / path.name)
    return folder


def seed_pipeline_rows(db: ScratchDatabase) -> None:
    """A project, artifacts with jobs, runs on closed days, and approvals pending and decided: as the pipeline
    and reviewers left them before 009."""
    db.execute(
        """insert into projects (id, name) values ('00000000-0000-0000-0000-000000000001', 'Launch');
           insert into artifacts (id, project_id, name, kind, body_text, metadata)
           select ('00000000-0000-0000-0001-' || lpad(n::text, 12, '0'))::uuid,
                  '00000000-0000-0000-0000-000000000001', 'post ' || n, 'text', 'draft ' || n,
                  jsonb_build_object('prompt', 'prompt ' || n)
             from generate_series(1, 40) n;
           insert into jobs (id, kind, status, output_artifact_id, params)
           select ('00000000-0000-0000-0002-' || lpad(n::text, 12, '0'))::uuid, 'draft_post', 'needs_approval',
                  ('00000000-0000-0000-0001-' || lpad(n::text, 12, '0'))::uuid, '{}'
             from generate_series(1, 40) n;
           insert into runs (job_id, model, prompt_tokens, completion_tokens, cost_usd, created_at)
           select ('00000000-0000-0000-0002-' || lpad(n::text, 12, '0'))::uuid,
                  case when n % 2 = 0 then 'gpt-4o' else 'gpt-4o-mini' end, 100, 50, 0.001 * n,
                  now() - make_interval(days => 2 + n % 5)
             from generate_series(1, 40) n;
           insert into approvals (id, artifact_id, status, decided_by, decided_at)
           select ('00000000-0000-0000-0003-' || lpad(n::text, 12, '0'))::uuid,
                  ('00000000-0000-0000-0001-' || lpad(n::text, 12, '0'))::uuid,
                  case when n <= 20 then 'pending' when n % 2 = 0 then 'approved' else 'rejected' end,
                  case when n > 20 then 'rita' end, case when n > 20 then now() - interval '1 day' end
             from generate_series(1, 40) n;"""
    )


def frozen(rows: list[tuple]) -> set[tuple]:
    return {tuple(tuple(value) if isinstance(value, list) else value for value in row) for row in rows}


def review_items(db: ScratchDatabase) -> set[tuple]:
    return frozen(db.query("select * from review_items"))


def rebuilt_review_items(db: ScratchDatabase) -> set[tuple]:
    """What rebuild_review_items() (010's backfill, in one pass) makes of the same rows; rolled back."""
    with db.connect() as conn:
        conn.execute("select rebuild_review_items()")
        rows = frozen(conn.execute("select * from review_items").fetchall())
        conn.rollback()
    return rows


def waits_for_a_lock_on(db: ScratchDatabase, table: str, application: str, *, seconds: float) -> bool:
    """True once a session of `application` waits for a lock on `table` (polled; a retrying waiter comes and goes)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if db.value(
            """select count(*) from pg_locks l join pg_stat_activity a on a.pid = l.pid
                where not l.granted and l.relation = to_regclass(%s) and a.application_name = %s""",
            [f"public.{table}", application],
        ):
            return True
        time.sleep(0.005)
    return False


# --- one end state, whichever way a database gets there ---------------------------------------------------


def test_a_fresh_database_and_one_that_applied_todays_009_and_010_end_the_same(scratch_db, migrations_dir, tmp_path):
    fresh = scratch_db
    assert fresh.apply_sql(directory=migrations_dir).code == 0
    upgraded = ScratchDatabase(alias=f"{fresh.alias}_up", name=f"{fresh.name}_up", params=fresh.params)
    fresh.execute(f'create database "{upgraded.name}"')
    add_alias(upgraded.alias, NAME=upgraded.name)
    try:
        first = upgraded.apply_sql(directory=folder_up_to(migrations_dir, tmp_path, 10))
        assert first.code == 0, first.text
        assert "Applying 010_ops_rollups.sql ... OK" in first.out  # today's 009 and 010, as written
        then = upgraded.apply_sql(directory=migrations_dir)
        assert then.code == 0, then.text

        assert fingerprint(upgraded) == fingerprint(fresh)
        assert upgraded.apply_sql("--check", directory=migrations_dir).code == 0
    finally:
        remove_alias(upgraded.alias)
        fresh.execute(f'drop database if exists "{upgraded.name}" with (force)')


def test_pending_009_and_010_are_recorded_with_their_checksums_and_not_run(scratch_db, migrations_dir):
    result = scratch_db.apply_sql(directory=migrations_dir)

    assert result.code == 0, result.text
    assert "Skipping 009_add_approval_reasons.sql: superseded by 011_approval_reasons_live.sql" in result.out
    assert "Skipping 010_ops_rollups.sql: superseded by 014_ops_rollups_live.sql" in result.out
    assert "Applying 010_ops_rollups.sql" not in result.out
    rows = dict(scratch_db.query("select version, superseded_by from flow_migrations.applied_files"))
    assert rows["009"] == "011" and rows["010"] == "014" and rows["011"] is None
    status = scratch_db.apply_sql("--status", directory=migrations_dir)
    assert "superseded by 011" in status.out and "superseded by 014" in status.out
    assert "0 pending, 0 changed" in status.out


def test_a_superseded_file_that_changes_still_stops_the_run(scratch_db, migrations_dir):
    assert scratch_db.apply_sql(directory=migrations_dir).code == 0
    path = migrations_dir / "010_ops_rollups.sql"
    path.write_text(path.read_text() + "\nselect 1;\n")

    result = scratch_db.apply_sql(directory=migrations_dir)

    assert result.code == 3
    assert "010_ops_rollups.sql: checksum mismatch" in result.err


def test_a_file_may_replace_only_an_earlier_file_in_the_folder(scratch_db, migrations_dir):
    (migrations_dir / "901_stand_in.sql").write_text("-- apply_sql: replaces 950\nselect 1;\n")

    result = scratch_db.apply_sql(directory=migrations_dir)

    assert result.code == 3
    assert "901_stand_in.sql: says `-- apply_sql: replaces 950`" in result.err
    assert scratch_db.ledger() == []


# --- 009 and 010's work, apart ----------------------------------------------------------------------------


def test_the_approval_checks_are_added_not_valid_and_validated_by_a_later_file(scratch_db, migrations_dir, tmp_path):
    # 011 without 012 (and 014 in 010's place, which needs 011's columns).
    assert scratch_db.apply_sql(directory=folder_up_to(migrations_dir, tmp_path, 11, also=(14,))).code == 0
    checks = "select conname, convalidated from pg_constraint where conname like 'approvals_%%' and contype = 'c'"
    added = dict(scratch_db.query(checks))
    assert added["approvals_reasons_known"] is False and added["approvals_outcome_matches_status"] is False

    assert scratch_db.apply_sql("--allow-out-of-order", directory=migrations_dir).code == 0

    validated = dict(scratch_db.query(checks))
    assert validated["approvals_reasons_known"] is True and validated["approvals_outcome_matches_status"] is True


def test_the_backfill_matches_a_full_rebuild_and_keeps_what_the_trigger_wrote_meanwhile(
    scratch_db, migrations_dir, tmp_path
):
    assert scratch_db.apply_sql(directory=folder_up_to(migrations_dir, tmp_path, 8)).code == 0
    seed_pipeline_rows(scratch_db)
    assert scratch_db.apply_sql(directory=folder_up_to(migrations_dir, tmp_path, 14)).code == 0
    # Between 014 (the trigger) and 015 (the backfill): a reviewer decides, then the job logs one more run.
    decided = "00000000-0000-0000-0003-000000000001"
    with scratch_db.connect() as conn:
        conn.execute(
            "update approvals set status = 'approved', decided_by = 'vera', decided_at = now() where id = %s",
            [decided],
        )
        conn.execute(
            "insert into runs (job_id, model, cost_usd) values ('00000000-0000-0000-0002-000000000001', 'gpt-4o', 5)"
        )
    item = "select * from review_items where approval_id = %s"
    at_decision = scratch_db.query(item, [decided])

    result = scratch_db.apply_sql(directory=migrations_dir)

    assert result.code == 0, result.text
    assert scratch_db.query(item, [decided]) == at_decision
    items, rebuilt = review_items(scratch_db), rebuilt_review_items(scratch_db)
    assert len(items) == 40
    differs = {row[0] for row in items ^ rebuilt}
    assert {str(approval) for approval in differs} == {decided}  # the rebuild would count the later run
    assert scratch_db.value("select count(*) from run_cost_days where rolled_up_at is not null") > 0


def test_running_the_ops_rollups_file_again_takes_no_access_exclusive_lock_on_a_pipeline_table(
    scratch_db, migrations_dir
):
    assert scratch_db.apply_sql(directory=migrations_dir).code == 0
    replacement = (migrations_dir / "014_ops_rollups_live.sql").read_text()

    with scratch_db.connect() as conn:
        conn.execute(replacement)
        modes = conn.execute(
            """select c.relname, l.mode from pg_locks l join pg_class c on c.oid = l.relation
                where l.pid = pg_backend_pid() and c.relname = any(%s)""",
            [list(PIPELINE_TABLES)],
        ).fetchall()
        conn.rollback()

    assert modes
    assert {mode for _, mode in modes} <= {"ShareRowExclusiveLock", "AccessShareLock", "RowShareLock"}


def test_service_role_can_refresh_the_costs_rollup(scratch_db):
    assert scratch_db.apply_sql().code == 0

    with scratch_db.connect() as conn:
        conn.execute("set role service_role")
        refreshed = conn.execute("select refresh_run_cost_rollup()").fetchone()[0]

    assert refreshed == 0


# --- locks: waited for briefly, taken in the pipeline's order -----------------------------------------------


def test_a_file_waiting_for_a_busy_table_holds_up_others_only_briefly_then_goes_through(scratch_db, migrations_dir):
    assert scratch_db.apply_sql(directory=migrations_dir).code == 0
    (migrations_dir / "901_add_a_column.sql").write_text(
        "alter table public.approvals add column if not exists note_count integer;\n"
    )
    waits: list[float] = []
    done = threading.Event()

    def queue_reader() -> None:
        with scratch_db.connect(autocommit=True) as conn:
            while not done.is_set():
                started = time.monotonic()
                conn.execute("select count(*) from approvals")
                waits.append(time.monotonic() - started)
                time.sleep(0.01)

    with scratch_db.connect(application_name="long-report") as report:
        report.execute("select count(*) from approvals")  # a transaction left open for 1.5 s
        reader = threading.Thread(target=queue_reader)
        reader.start()
        threading.Timer(1.5, report.rollback).start()
        result = scratch_db.apply_sql(directory=migrations_dir)
        done.set()
        reader.join()

    assert max(waits) < 1.0  # each wait is 0.2 s at most; a 5 s lock_timeout kept the queue waiting 1.5 s
    assert result.code == 0, result.text
    assert "Applying 901_add_a_column.sql ... OK" in result.out and "a table was busy before" in result.out


def test_no_deadlock_with_the_pipeline_writing_an_artifact_then_its_approval(scratch_db, migrations_dir, tmp_path):
    # Up to 009's columns (011 where 011 replaces it; its index, built concurrently, would wait for the
    # pipeline's open transaction below): then the files for 010 are what runs beside the pipeline.
    staged = folder_up_to(migrations_dir, tmp_path, 9, also=(11, 12, 13))
    assert scratch_db.apply_sql(directory=staged).code == 0
    project = scratch_db.value("insert into projects (name) values ('Launch') returning id")

    with scratch_db.connect() as pipeline:
        artifact = pipeline.execute(
            "insert into artifacts (project_id, name, kind, body_text) values (%s, 'post', 'text', 'hi') returning id",
            [project],
        ).fetchone()[0]
        deploy = scratch_db.manage("apply_sql")
        try:
            if not waits_for_a_lock_on(scratch_db, "artifacts", "apply_sql", seconds=20):
                deploy.kill()
                pytest.fail("apply_sql never waited for the artifacts: " + "".join(deploy.communicate()))
            pipeline.execute("insert into approvals (artifact_id) values (%s)", [artifact])  # would close the cycle
            pipeline.commit()
        finally:
            out, err = deploy.communicate(timeout=120)

    assert deploy.returncode == 0, out + err
    assert scratch_db.value("select count(*) from approvals where artifact_id = %s", [artifact]) == 1
    assert "40P01" not in out + err


# --- rehearsal and rollback --------------------------------------------------------------------------------


def test_rehearse_leaves_out_the_long_work_and_names_the_locks_it_held(scratch_db, migrations_dir, tmp_path):
    assert scratch_db.apply_sql(directory=folder_up_to(migrations_dir, tmp_path, 8)).code == 0

    result = scratch_db.apply_sql("--rehearse", directory=migrations_dir)

    assert result.code == 0, result.text
    assert "Skipped 010_ops_rollups.sql: superseded by 014_ops_rollups_live.sql." in result.out
    assert "Skipped 015_backfill_ops_rollups.sql: it runs outside a transaction" in result.out
    assert "Rehearsing 010_ops_rollups.sql" not in result.out
    assert "Held until the rollback" in result.out and "ACCESS EXCLUSIVE on public.approvals" in result.out
    assert "SHARE ROW EXCLUSIVE on public.artifacts" in result.out


def test_rehearse_gives_way_to_the_pipeline_instead_of_deadlocking_with_it(scratch_db, migrations_dir, tmp_path):
    assert scratch_db.apply_sql(directory=folder_up_to(migrations_dir, tmp_path, 8)).code == 0
    project = scratch_db.value("insert into projects (name) values ('Launch') returning id")

    with scratch_db.connect() as pipeline:
        artifact = pipeline.execute(
            "insert into artifacts (project_id, name, kind, body_text) values (%s, 'post', 'text', 'hi') returning id",
            [project],
        ).fetchone()[0]
        rehearsal = scratch_db.manage("apply_sql", "--rehearse")
        try:
            assert waits_for_a_lock_on(scratch_db, "artifacts", "apply_sql", seconds=20), "it never waited"
            started = time.monotonic()
            pipeline.execute("insert into approvals (artifact_id) values (%s)", [artifact])
            waited = time.monotonic() - started
            pipeline.commit()
        finally:
            out, err = rehearsal.communicate(timeout=120)

    assert rehearsal.returncode == 0, out + err
    assert waited < 1.0  # the rehearsal gave way after 0.2 s
    assert scratch_db.value("select count(*) from approvals where artifact_id = %s", [artifact]) == 1
    assert scratch_db.ledger() == [f"{n:03d}" for n in range(1, 9)]


@pytest.mark.parametrize(
    "table", ["review_items", "review_targets", "run_cost_rollup", "run_cost_days", "review_claims", *PIPELINE_TABLES]
)
def test_the_rollback_confirmation_names_every_table_it_drops(scratch_db, table):
    result = scratch_db.apply_sql("--rollback")

    assert result.code == 2
    assert table in result.err


def test_service_role_refresh_needs_no_other_grant_after_a_rollback_and_a_new_apply(scratch_db):
    assert scratch_db.apply_sql().code == 0
    assert scratch_db.apply_sql("--rollback", "--yes").code == 0
    assert scratch_db.apply_sql().code == 0

    with scratch_db.connect() as conn:
        conn.execute("set role service_role")
        assert conn.execute("select refresh_run_cost_rollup()").fetchone()[0] == 0


def test_the_pipeline_role_still_cannot_call_the_backfill(scratch_db):
    assert scratch_db.apply_sql().code == 0

    with scratch_db.connect() as conn, pytest.raises(psycopg.errors.InsufficientPrivilege):
        conn.execute("set role authenticated")
        conn.execute("call backfill_ops_rollups()")
