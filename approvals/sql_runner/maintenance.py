"""apply_sql's ledger maintenance: --baseline, --repair and --rollback.

Each takes the migration lock and changes the ledger in one transaction, with
an event that says what was done and by whom.
"""

import re
from collections import Counter
from pathlib import Path

import psycopg

from approvals.sql_runner import ledger
from approvals.sql_runner.files import FileObjects, MigrationFile, objects_created, version_key
from approvals.sql_runner.runner import Runner
from approvals.sql_runner.session import EXIT_CONFIG, EXIT_LEFT_BEHIND, EXIT_VALIDATION, ApplySqlError

ROLLBACK_PATH = Path(__file__).with_name("rollback.sql")
# What rollback.sql undoes; a ledger holding other versions needs a rollback written for them first.
ROLLBACK_COVERS = set(range(1, 19))
DROP_TABLE = re.compile(r"^drop\s+table\s+(?:if\s+exists\s+)?public\.(\w+)", re.I | re.M)
PLURALS = {
    "table": "tables",
    "column": "columns",
    "index": "indexes",
    "function": "functions",
    "trigger": "triggers",
    "bucket": "buckets",
}


def _regclass_exists(conn: psycopg.Connection, schema: str, name: str) -> bool:
    return conn.execute(
        "select to_regclass(format('%%I.%%I', %s::text, %s::text)) is not null", [schema, name]
    ).fetchone()[0]


def check_objects(conn: psycopg.Connection, objects: FileObjects) -> tuple[list[str], list[str]]:
    """(found, missing): the file's tables, columns, indexes, functions, triggers and buckets."""
    found, missing = [], []

    def note(present: bool, what: str) -> None:
        (found if present else missing).append(what)

    for (schema, table), columns in objects.tables.items():
        if not _regclass_exists(conn, schema, table):
            missing.append(f"table {schema}.{table}")
            continue
        note(True, f"table {schema}.{table}")
        existing = {
            row[0]
            for row in conn.execute(
                "select column_name from information_schema.columns where table_schema = %s and table_name = %s",
                [schema, table],
            )
        }
        for column in columns:
            note(column in existing, f"column {schema}.{table}.{column}")
    for schema, index in objects.indexes:
        note(_regclass_exists(conn, schema, index), f"index {schema}.{index}")
    for schema, function in objects.functions:
        present = conn.execute(
            """select exists (select 1 from pg_proc p join pg_namespace n on n.oid = p.pronamespace
                              where n.nspname = %s and p.proname = %s)""",
            [schema, function],
        ).fetchone()[0]
        note(present, f"function {schema}.{function}()")
    for schema, table, trigger in objects.triggers:
        present = (
            _regclass_exists(conn, schema, table)
            and conn.execute(
                """select exists (select 1 from pg_trigger
                              where tgrelid = to_regclass(format('%%I.%%I', %s::text, %s::text)) and tgname = %s)""",
                [schema, table, trigger],
            ).fetchone()[0]
        )
        note(present, f"trigger {trigger} on {schema}.{table}")
    for bucket in objects.buckets:
        present = (
            _regclass_exists(conn, "storage", "buckets")
            and conn.execute("select exists (select 1 from storage.buckets where id = %s)", [bucket]).fetchone()[0]
        )
        note(present, f"bucket {bucket}")
    return found, missing


def baseline(runner: Runner) -> list[str]:
    """Record files as applied without running them, on a database migrated by hand.

    Files are taken in order while everything they create is there. A file
    with some objects present and others missing is a divergence: nothing is
    recorded. The first file with none of its objects stays pending, with
    every file after it, for a normal run to apply.
    """
    with runner.session():
        pending = runner.validate(runner.read_state(), allow_out_of_order=True, adopting=True)
        runner.prepare_committed()
        to_record: list[tuple[MigrationFile, list[str]]] = []
        stop_reason = ""
        for migration in pending:
            objects = objects_created(migration)
            if not objects:
                stop_reason = f"{migration.name} creates nothing that can be checked by reading it"
                break
            found, missing = check_objects(runner.conn, objects)
            if found and missing:
                raise ApplySqlError(
                    f"--baseline refused: {migration.name} is only partly there; nothing was recorded.",
                    exit_code=EXIT_VALIDATION,
                    report=f"{runner.label(migration)}: missing " + ", ".join(missing) + ".\nCreate what is "
                    "missing (the files are idempotent: running this one again in the SQL editor is enough), "
                    "then run --baseline again.",
                )
            if missing:
                stop_reason = f"none of what {migration.name} creates exists yet"
                break
            to_record.append((migration, found))
        with runner.conn.transaction():
            for migration, found in to_record:
                kinds = Counter(what.split(" ", 1)[0] for what in found)
                summary = "found " + ", ".join(f"{n} {PLURALS[kind] if n > 1 else kind}" for kind, n in kinds.items())
                ledger.record_baseline(runner.conn, migration=migration, checked=summary)
                runner.say(f"Baseline {migration.name}: {summary}; recorded as applied.")
        left = pending[len(to_record) :]
        if left:
            runner.say(f"Not recorded ({stop_reason}): {', '.join(m.name for m in left)}. Run apply_sql to apply them.")
        elif not pending:
            runner.say("Nothing to baseline: every file is already in the ledger.")
        return [m.name for m, _ in to_record]


def repair(runner: Runner, *, version: str) -> str:
    """Accept a changed file's checksum, or forget a failed or missing file, for one named version."""
    wanted = version.split("_", 1)[0]
    if not wanted.isdigit():
        raise ApplySqlError(f"--repair takes a version number such as 003, not {version!r}.", exit_code=EXIT_CONFIG)
    with runner.session():
        matches = [s for s in runner.read_state() if version_key(s.version) == int(wanted)]
        if not matches:
            raise ApplySqlError(f"No file and no ledger row has version {wanted}.", exit_code=EXIT_CONFIG)
        target = matches[0]
        with runner.conn.transaction():
            if target.state == "failed":
                ledger.forget(runner.conn, version=target.version, why="cleared the failed state; it will run again")
                done = f"Cleared the failed state of {target.name}: the next apply_sql runs it again."
            elif target.state == "changed":
                ledger.accept_checksum(runner.conn, migration=target.migration, old_checksum=target.row.checksum)
                done = f"Accepted the changed {target.name} (its new text is now the applied one); it is not re-run."
            elif target.state == "missing":
                ledger.forget(runner.conn, version=target.version, why="file no longer in the folder")
                done = f"Removed {target.name}, which is no longer in the folder, from the ledger."
            else:
                done = f"Nothing to repair for {target.name}: it is {target.state}."
        runner.say(done)
        return done


def tables_dropped() -> list[str]:
    """Every table rollback.sql drops, in its order: what --rollback's confirmation names."""
    return DROP_TABLE.findall(ROLLBACK_PATH.read_text())


def _covered() -> str:
    return ", ".join(f"{version:03d}" for version in sorted(ROLLBACK_COVERS))


def rollback(runner: Runner) -> None:
    """rollback.sql and the clearing of the ledger, in one transaction; the events are kept."""
    script = MigrationFile(version="0", name=ROLLBACK_PATH.name, path=ROLLBACK_PATH, text=ROLLBACK_PATH.read_text())
    with runner.session():
        applied = sorted(ledger.applied(runner.conn), key=version_key)
        uncovered = [v for v in applied if version_key(v) not in ROLLBACK_COVERS]
        if uncovered:
            raise ApplySqlError(
                f"--rollback refused: {ROLLBACK_PATH.name} undoes {_covered()} only, and the ledger also holds "
                f"{', '.join(uncovered)}. Undo those first.",
                exit_code=EXIT_VALIDATION,
            )
        try:
            with runner.conn.transaction():
                objects = 0
                if _regclass_exists(runner.conn, "storage", "objects"):
                    objects = runner.conn.execute(
                        "select count(*) from storage.objects where bucket_id = 'flow-artifacts'"
                    ).fetchone()[0]
                runner.conn.execute(script.sql)
                policies_left = _bucket_policies_left(runner.conn)
                ledger.clear_after_rollback(runner.conn, versions=applied)
        except psycopg.Error as error:
            raise runner.failure(
                script,
                error,
                offset=runner.error_offset(script, error),
                footer=["Rollback failed: everything was rolled back, nothing was dropped."],
            ) from None
        policies = "its policies" if not policies_left else "not its policies (see below)"
        runner.say(
            "Rolled back: dropped the reviewer app's tables (claims, takebacks, costs rollup, review items and "
            "targets), runs, approvals, jobs, artifacts, projects and set_updated_at(); removed the bucket "
            f"flow-artifacts ({objects} object rows) and {policies}; cleared the ledger "
            f"({len(applied)} rows; its events are kept)."
        )
        if objects:
            runner.err(
                "  Deleting object rows does not delete their files in Supabase Storage: empty the bucket through "
                "the dashboard or the API to free them."
            )
        if policies_left:
            raise ApplySqlError(
                f"Rollback done except for {len(policies_left)} storage policies this role may not drop.",
                exit_code=EXIT_LEFT_BEHIND,
                report="Left on storage.objects (the role running apply_sql does not own that table): "
                + ", ".join(policies_left)
                + ".\nDelete them in the Supabase dashboard (Storage > Policies), or as the table's owner: "
                + "; ".join(f"drop policy {name} on storage.objects" for name in policies_left)
                + ".",
            )


def _bucket_policies_left(conn: psycopg.Connection) -> list[str]:
    """The flow-artifacts policies still on storage.objects (rollback.sql only warns when it may not drop one)."""
    return [
        row[0]
        for row in conn.execute(
            "select policyname from pg_policies where schemaname = 'storage' and tablename = 'objects' "
            "and policyname like 'flow\\_artifacts\\_%' order by policyname"
        )
    ]
