"""apply_sql under load: a file that needs a busy table's lock gives up in seconds and says what to do; two
databases of one cluster prepared at the same time both succeed."""

import os
import tempfile
import threading
import time
from pathlib import Path

import psycopg

from approvals.management.commands.apply_sql import Command as ApplySqlCommand
from approvals.sql_runner.runner import SHIM_PATH
from approvals.tests.production_server import DedicatedPostgres


def test_a_file_blocked_by_a_busy_table_gives_up_quickly_and_says_what_to_do(scratch_db, migrations_dir):
    later = sorted(migrations_dir.glob("0*.sql"))[5:]  # 006 and after
    held_back = {path: path.read_text() for path in later}
    for path in later:
        path.unlink()
    assert scratch_db.apply_sql(directory=migrations_dir).code == 0  # 001-005, and the storage shim
    for path, text in held_back.items():
        path.write_text(text)

    with scratch_db.connect(application_name="busy-app") as reader:
        reader.execute("select count(*) from storage.objects")  # a transaction left open, reading the table
        # Without a lock timeout the run below would wait for this reader for ever: end it after 30 s.
        pid = reader.info.backend_pid
        release = threading.Timer(30, lambda: scratch_db.value("select pg_terminate_backend(%s)", [pid]))
        release.start()
        started = time.monotonic()
        result = scratch_db.apply_sql("--table-lock-timeout", "1", directory=migrations_dir)
        waited = time.monotonic() - started
        release.cancel()

    assert result.code == 1, result.text
    assert 1 <= waited < 10
    assert "--table-lock-timeout (1 s)" in result.text
    assert "55P03" in result.text
    assert "busy-app" in result.text or "another session" in result.text
    assert "006" not in scratch_db.ledger()


def test_unless_told_a_statement_waits_5_s_for_a_tables_lock():
    # The test above waits 1 s; this is the wait a deploy gets without the flag (docs/apply-sql.md).
    options = ApplySqlCommand().create_parser("manage.py", "apply_sql").parse_args([])

    assert options.table_lock_timeout == 5


def test_two_databases_of_a_fresh_cluster_prepared_at_once_both_get_the_roles():
    """Roles are per cluster: pytest-xdist's workers once failed here with "role anon already exists"."""
    with tempfile.TemporaryDirectory(prefix="flow-roles-") as folder:
        os.chmod(folder, 0o755)  # noqa: S103 (the PostgreSQL user must traverse it)
        cluster = DedicatedPostgres(Path(folder) / "pgdata")
        try:
            server = psycopg.connect(cluster.url, autocommit=True)
            for name in ("first", "second"):
                server.execute(f"create database {name}")
            first = psycopg.connect(cluster.url.replace("/postgres?", "/first?"))
            second = psycopg.connect(cluster.url.replace("/postgres?", "/second?"))
            first.execute(SHIM_PATH.read_text("utf-8"))  # creates the roles; not yet committed

            errors = []

            def prepare_second():
                try:
                    second.execute(SHIM_PATH.read_text("utf-8"))
                    second.commit()
                except psycopg.Error as error:
                    errors.append(error)

            racer = threading.Thread(target=prepare_second)
            racer.start()
            # The second saw no roles and now waits on the first's uncommitted "create role anon".
            deadline = time.monotonic() + 10
            while not _waits_on_a_lock(server, second.info.backend_pid):
                assert time.monotonic() < deadline, "the second preparation never reached the role"
                time.sleep(0.02)
            first.commit()
            racer.join(timeout=10)

            assert errors == []
            roles = {row[0] for row in server.execute("select rolname from pg_roles")}
            assert {"anon", "authenticated", "service_role"} <= roles
            assert second.execute("select to_regprocedure('auth.uid()') is not null").fetchone() == (True,)
            for connection in (first, second, server):
                connection.close()
        finally:
            cluster.close()


def _waits_on_a_lock(observer: psycopg.Connection, pid: int) -> bool:
    row = observer.execute("select wait_event_type from pg_stat_activity where pid = %s", [pid]).fetchone()
    return row is not None and row[0] == "Lock"
