"""apply_sql under load: a file that needs a busy table's lock gives up in seconds and says what to do."""

import threading
import time


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
        result = scratch_db.apply_sql(directory=migrations_dir)
        waited = time.monotonic() - started
        release.cancel()

    assert result.code == 1, result.text
    assert waited < 15
    assert "55P03" in result.text
    assert "--table-lock-timeout" in result.text
    assert "busy-app" in result.text or "another session" in result.text
    assert "006" not in scratch_db.ledger()
