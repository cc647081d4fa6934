"""apply_sql killed (SIGKILL) in the middle of a file: the database has all of the file or none of it,
and the next run finishes the job."""

import signal
import time

import pytest

pytestmark = pytest.mark.slow

# Above every real file's number, so it is never refused as out of order.
SLOW_VERSION = "900"
# A lock the test holds while the first run is killed: the file waits at it, mid-way.
GATE_KEY = 7_008  # as written in SLOW_FILE
SLOW_FILE = """\
-- After every real file: a table, a row, a wait at a gate the test holds (killed there), a second table.
create table public.fault_probe (id integer primary key);
insert into public.fault_probe values (1);
select pg_advisory_xact_lock_shared(7008);
create table public.fault_probe_after (id integer primary key);
"""


def wait_for_backend_at_the_gate(scratch_db, *, timeout: float = 60) -> int:
    """The pid of the server backend running the slow file, once it waits at the gate."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        rows = scratch_db.query(
            "select pid from pg_locks where locktype = 'advisory' and objid = %s and not granted", [GATE_KEY]
        )
        if rows:
            return rows[0][0]
        time.sleep(0.05)
    raise AssertionError("apply_sql never reached the gate in the slow file")


def file_effects(scratch_db) -> dict:
    return {
        "fault_probe": scratch_db.value("select to_regclass('public.fault_probe') is not null"),
        "fault_probe_after": scratch_db.value("select to_regclass('public.fault_probe_after') is not null"),
        "in_ledger": SLOW_VERSION in scratch_db.ledger(),
    }


def test_apply_sql_killed_mid_file_leaves_none_of_it_and_the_next_run_applies_it_whole(scratch_db, migrations_dir):
    assert scratch_db.apply_sql(directory=migrations_dir).code == 0  # the real files
    (migrations_dir / f"{SLOW_VERSION}_slow_file.sql").write_text(SLOW_FILE)

    with scratch_db.connect(autocommit=True) as gate:
        gate.execute("select pg_advisory_lock(%s)", [GATE_KEY])
        first = scratch_db.manage("apply_sql", "--dir", str(migrations_dir))
        backend = wait_for_backend_at_the_gate(scratch_db)
        first.send_signal(signal.SIGKILL)
        first.wait(timeout=30)
        assert first.returncode == -signal.SIGKILL

        # The server has not even noticed yet (its backend still waits inside the file's
        # transaction): from outside, none of the file is there.
        assert file_effects(scratch_db) == {"fault_probe": False, "fault_probe_after": False, "in_ledger": False}

        # The next run waits for the dead run's lock, which goes when its backend, past
        # the gate, finds its client gone and rolls back; then it applies the file whole.
        second = scratch_db.manage("apply_sql", "--dir", str(migrations_dir))
    out, err = second.communicate(timeout=120)

    assert second.returncode == 0, out + err
    assert SLOW_VERSION in out
    assert not scratch_db.query("select 1 from pg_stat_activity where pid = %s", [backend])
    assert file_effects(scratch_db) == {"fault_probe": True, "fault_probe_after": True, "in_ledger": True}
    assert scratch_db.query("select id from public.fault_probe") == [(1,)]
    assert scratch_db.events("apply").count(SLOW_VERSION) == 1

    third = scratch_db.manage("apply_sql", "--dir", str(migrations_dir))
    out, err = third.communicate(timeout=120)
    assert third.returncode == 0 and "Nothing to apply" in out, out + err
