"""apply_sql killed (SIGKILL) in the middle of a file: the database has all of the file or none of it,
and the next run finishes the job."""

import signal
import time

import pytest

pytestmark = pytest.mark.slow

SLOW_FILE = """\
-- 099: a table, a row in it, a pause long enough to be killed in, then a second table.
create table public.fault_probe (id integer primary key);
insert into public.fault_probe values (1);
select pg_sleep(5);
create table public.fault_probe_after (id integer primary key);
"""


def wait_for_sleeping_backend(scratch_db, *, timeout: float = 60) -> int:
    """The pid of the server backend running the slow file, once it is inside pg_sleep."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        rows = scratch_db.query(
            "select pid from pg_stat_activity where datname = %s and state = 'active' and query like %s",
            [scratch_db.name, "%pg_sleep(5)%"],
        )
        if rows:
            return rows[0][0]
        time.sleep(0.05)
    raise AssertionError("apply_sql never reached the slow file")


def file_effects(scratch_db) -> dict:
    return {
        "fault_probe": scratch_db.value("select to_regclass('public.fault_probe') is not null"),
        "fault_probe_after": scratch_db.value("select to_regclass('public.fault_probe_after') is not null"),
        "ledger_099": "099" in scratch_db.ledger(),
    }


def test_apply_sql_killed_mid_file_leaves_none_of_it_and_the_next_run_applies_it_whole(scratch_db, migrations_dir):
    assert scratch_db.apply_sql(directory=migrations_dir).code == 0  # 001-007
    (migrations_dir / "099_slow_file.sql").write_text(SLOW_FILE)

    first = scratch_db.manage("apply_sql", "--dir", str(migrations_dir))
    backend = wait_for_sleeping_backend(scratch_db)
    first.send_signal(signal.SIGKILL)
    first.wait(timeout=30)
    assert first.returncode == -signal.SIGKILL

    # The server has not even noticed yet (its backend is still asleep inside the file's
    # transaction): from outside, none of the file is there.
    assert file_effects(scratch_db) == {"fault_probe": False, "fault_probe_after": False, "ledger_099": False}

    # The next run waits for the dead run's lock, which goes when its backend ends and
    # rolls back, then applies the file whole.
    second = scratch_db.manage("apply_sql", "--dir", str(migrations_dir))
    out, err = second.communicate(timeout=120)

    assert second.returncode == 0, out + err
    assert "099" in out
    assert not scratch_db.query("select 1 from pg_stat_activity where pid = %s", [backend])
    assert file_effects(scratch_db) == {"fault_probe": True, "fault_probe_after": True, "ledger_099": True}
    assert scratch_db.query("select id from public.fault_probe") == [(1,)]
    assert scratch_db.events("apply").count("099") == 1

    third = scratch_db.manage("apply_sql", "--dir", str(migrations_dir))
    out, err = third.communicate(timeout=120)
    assert third.returncode == 0 and "Nothing to apply" in out, out + err
