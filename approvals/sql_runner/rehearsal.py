"""`apply_sql --rehearse`: the pending files run in one transaction, then rolled back.

A dry run on a live database takes the locks a real run takes, and holds each
one until the rollback: the files that a real run applies outside a
transaction (indexes built concurrently, validations, batched backfills) are
left out, every lock is waited for under the same short timeout (again,
whole, while a table is busy), and the report names the locks that stopped
the pipeline's writes and for how long.
"""

import time

import psycopg

from approvals.sql_runner import ledger
from approvals.sql_runner.files import MigrationFile
from approvals.sql_runner.runner import Runner
from approvals.sql_runner.session import DEADLOCK_DETECTED, LOCK_NOT_AVAILABLE

# Locks that stop the pipeline's writes (or its reads) while a rehearsal holds them, weakest first.
BLOCKING_LOCK_MODES = ("ShareLock", "ShareRowExclusiveLock", "ExclusiveLock", "AccessExclusiveLock")

# pg_locks' mode names as the deployer reads them in PostgreSQL's documentation.
MODE_NAMES = {
    "ShareLock": "SHARE",
    "ShareRowExclusiveLock": "SHARE ROW EXCLUSIVE",
    "ExclusiveLock": "EXCLUSIVE",
    "AccessExclusiveLock": "ACCESS EXCLUSIVE",
}


def existing_tables(conn: psycopg.Connection) -> list[int]:
    return conn.execute("select coalesce(array_agg(oid), '{}') from pg_class where relkind in ('r', 'p')").fetchone()[0]


def blocking_locks(conn: psycopg.Connection, tables: list[int]) -> list[str]:
    """The locks this session holds on `tables` that stop other sessions' writes: 'ACCESS EXCLUSIVE on public.x'.

    Tables the rehearsal itself created are left out: no other session can see them."""
    rows = conn.execute(
        """select l.mode, format('%%I.%%I', n.nspname, c.relname)
             from pg_locks l
             join pg_class c on c.oid = l.relation
             join pg_namespace n on n.oid = c.relnamespace
            where l.pid = pg_backend_pid() and l.granted and l.mode = any(%s) and c.oid = any(%s::oid[])
              and n.nspname not in ('pg_catalog', 'flow_migrations')
            order by 2, 1""",
        [list(BLOCKING_LOCK_MODES), tables],
    ).fetchall()
    strongest: dict[str, str] = {}
    for mode, table in rows:
        if table not in strongest or BLOCKING_LOCK_MODES.index(mode) > BLOCKING_LOCK_MODES.index(strongest[table]):
            strongest[table] = mode
    return [f"{MODE_NAMES[mode]} on {table}" for table, mode in strongest.items()]


class Rehearsal:
    def __init__(self, runner: Runner, pending: list[MigrationFile]):
        self.runner = runner
        self.superseded = runner.superseded(pending)
        self.files = [m for m in pending if m.in_transaction and m.version not in self.superseded]
        self.skipped = [m for m in pending if m not in self.files]
        self.done: list[MigrationFile] = []
        self.current: MigrationFile | None = None
        self.held: list[str] = []
        self.held_ms = 0

    def run_once(self) -> int:
        """One attempt: every file in a transaction of its own nested in one, rolled back at the end."""
        self.done, self.current, self.held = [], None, []
        conn = self.runner.conn
        try:
            with conn.transaction():
                tables = existing_tables(conn)
                self.runner.prepare()
                started = time.monotonic()
                for migration in self.files:
                    self.current = migration
                    with conn.transaction():
                        elapsed_ms = self.runner.execute_file(migration)
                        ledger.record_applied(conn, migration=migration, execution_ms=elapsed_ms)
                    self.done.append(migration)
                    self.runner.say(f"Rehearsing {migration.name} ... OK ({elapsed_ms} ms)")
                self.held = blocking_locks(conn, tables)
                self.held_ms = round((time.monotonic() - started) * 1000)
                raise psycopg.Rollback()
        except psycopg.Error as error:
            if error.sqlstate in (LOCK_NOT_AVAILABLE, DEADLOCK_DETECTED) and self.current is not None:
                self.runner.say(f"  {self.current.name} waited too long for a lock: rolled back, trying again.")
            raise
        return len(self.done)

    def setup_for_locating(self) -> None:
        """Before re-running the failing file statement by statement: what ran before it."""
        self.runner.prepare()
        for earlier in self.done:
            self.runner.conn.execute(earlier.sql)

    def report(self) -> None:
        say = self.runner.say
        for migration in self.skipped:
            if migration.version in self.superseded:
                say(f"Skipped {migration.name}: superseded by {self.superseded[migration.version].name}.")
            else:
                say(f"Skipped {migration.name}: it runs outside a transaction, so it cannot be rehearsed.")
        if self.held:
            say(
                f"Held until the rollback, {self.held_ms} ms after the first file started: "
                + "; ".join(self.held)
                + ". Writes to those tables (and reads, under ACCESS EXCLUSIVE) waited meanwhile."
            )
        else:
            say("It held no lock on an existing table that stops other sessions' writes.")
        say(f"Rehearsed {len(self.done)} file(s), then rolled back: the database is unchanged.")


def rehearse(runner: Runner, *, allow_out_of_order: bool = False) -> None:
    """Every pending file that a run applies in a transaction, in one transaction, then rolled back."""
    with runner.session():
        pending = runner.validate(runner.read_state(), allow_out_of_order=allow_out_of_order)
        if not pending:
            runner.say("Nothing to rehearse: the database is up to date.")
            return
        rehearsal = Rehearsal(runner, pending)
        try:
            runner.with_lock_retries(rehearsal.run_once)
        except psycopg.Error as error:
            if rehearsal.current is None:
                raise runner.preparation_failed(error) from None
            runner.say(f"Rehearsing {rehearsal.current.name} ... FAILED")
            raise runner.failure(
                rehearsal.current,
                error,
                offset=runner.error_offset(rehearsal.current, error, rehearsal.setup_for_locating),
                footer=["Rehearsal failed: everything was rolled back, the database is unchanged."],
            ) from None
        rehearsal.report()
