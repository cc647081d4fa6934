"""The runner behind `manage.py apply_sql`: applies migrations_sql/ in order, safely.

Each file runs whole in one transaction together with its ledger row, under a
session advisory lock, on a connection of its own (not Django's). Everything
that can be checked before running (changed files, order, transaction
markers) is checked before anything changes.
"""

import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import psycopg

from approvals.sql_runner import ledger
from approvals.sql_runner.files import MigrationFile, discover, objects_created, transaction_problems, version_key
from approvals.sql_runner.replacements import replacement_for, replacement_problems, replacements
from approvals.sql_runner.reports import (
    checksum_diff,
    do_block_offset,
    format_sql_error,
    quoted_name_offset,
    status_table,
    when,
)
from approvals.sql_runner.session import (  # noqa: F401  (connection_params: the command's entry point)
    DEADLOCK_DETECTED,
    EXIT_CONFIG,
    EXIT_SQL_FAILED,
    EXIT_VALIDATION,
    LOCK_NOT_AVAILABLE,
    ApplySqlError,
    DatabaseSession,
    connection_params,
)

SHIM_PATH = Path(__file__).with_name("supabase_shim.sql")


@dataclass(frozen=True)
class FileState:
    version: str
    name: str
    state: str  # applied, pending, changed, failed, missing
    migration: MigrationFile | None
    row: ledger.LedgerRow | None


def file_states(files: list[MigrationFile], rows: dict[str, ledger.LedgerRow]) -> list[FileState]:
    by_version = {f.version: f for f in files}
    states = []
    for version in sorted(set(by_version) | set(rows), key=version_key):
        migration, row = by_version.get(version), rows.get(version)
        if row is None:
            state = "pending"
        elif not row.success:
            state = "failed"
        elif migration is None:
            state = "missing"
        elif row.checksum != migration.checksum:
            state = "changed"
        else:
            state = "applied"
        name = migration.name if migration else row.name
        states.append(FileState(version=version, name=name, state=state, migration=migration, row=row))
    return states


class Runner(DatabaseSession):
    # --- preparation and validation --------------------------------------
    def is_supabase(self) -> bool:
        row = self.conn.execute(
            "select to_regclass('auth.users') is not null and to_regclass('storage.buckets') is not null"
        ).fetchone()
        return row[0]

    def prepare(self) -> None:
        """The shim (plain PostgreSQL only), Django's schema and the ledger, in the current transaction."""
        if not self.is_supabase():
            self.conn.execute(SHIM_PATH.read_text("utf-8"))
        self.conn.execute(f'create schema if not exists "{self.django_schema}"')
        ledger.create(self.conn)

    def read_state(self) -> list[FileState]:
        if not self.directory.is_dir():
            raise ApplySqlError(f"No migrations folder at {self.directory}.", exit_code=EXIT_CONFIG)
        files = discover(self.directory)
        numbers = Counter(version_key(f.version) for f in files)
        clashes = [f.name for f in files if numbers[version_key(f.version)] > 1]
        if clashes:
            raise ApplySqlError(
                f"Files share a version number: {', '.join(clashes)}. Renumber all but one.",
                exit_code=EXIT_VALIDATION,
            )
        return file_states(files, ledger.applied(self.conn))

    def existing_tables(self, files: list[MigrationFile]) -> list[str]:
        names = [f"{schema}.{table}" for f in files for schema, table in objects_created(f).tables]
        if not names:
            return []
        rows = self.conn.execute(
            "select name from unnest(%s::text[]) as name where to_regclass(name) is not null", [names]
        )
        return [row[0] for row in rows]

    def validate(
        self, states: list[FileState], *, allow_out_of_order: bool = False, adopting: bool = False
    ) -> list[MigrationFile]:
        """The pending files, in order, once nothing stands in their way; else a stop with exit 3."""
        pending = [s.migration for s in states if s.state == "pending"]
        if pending and not adopting and not any(s.row for s in states):
            tables = self.existing_tables(pending)
            if tables:
                raise ApplySqlError(
                    "The database already has tables that migrations_sql/ creates "
                    f"({', '.join(tables)}) but no apply_sql ledger: it was probably migrated by hand (for "
                    "instance in the Supabase SQL editor). Run `manage.py apply_sql --baseline` to check its "
                    "tables and columns and record the files as applied without running them.",
                    exit_code=EXIT_VALIDATION,
                )
        problems = []
        numbers = Counter(version_key(s.version) for s in states)
        for s in states:
            if numbers[version_key(s.version)] > 1:
                problems.append(f"{s.name}: its version {s.version} is also written another way (e.g. 3 and 003)")
        for s in states:
            if s.state == "changed":
                problems.append(
                    f"{s.name}: checksum mismatch: the file changed after it was applied on "
                    f"{when(s.row.installed_on)}. Revert it and put the change in a new file, or accept it with "
                    f"`apply_sql --repair {s.version}`.\n"
                    + checksum_diff(label=s.name, applied_text=s.row.applied_text, current_text=s.migration.text)
                )
            elif s.state == "missing":
                problems.append(
                    f"{s.name}: applied on {when(s.row.installed_on)} but no longer in {self.directory}. Restore "
                    f"it, or remove it from the ledger with `apply_sql --repair {s.version}`."
                )
            elif s.state == "failed":
                problems.append(
                    f"{s.name}: failed earlier outside a transaction, so it may have left changes behind. Check "
                    f"what it did, then clear the failed state with `apply_sql --repair {s.version}` to retry it."
                )
        applied_numbers = [version_key(s.version) for s in states if s.row]
        replaced = replacements([s.migration for s in states if s.migration])
        if applied_numbers and not allow_out_of_order:
            for migration in pending:
                # A file that a later one replaces is never run: its place in the order does not matter.
                if version_key(migration.version) < max(applied_numbers) and not replacement_for(
                    replaced, migration.version
                ):
                    problems.append(
                        f"{migration.name}: pending but numbered below a file already applied (out of order, "
                        "often a merge mistake). Renumber it after the last applied file, or run with "
                        "--allow-out-of-order."
                    )
        for migration in pending:
            problems += [f"{self.label(migration)}: {p}" for p in transaction_problems(migration)]
        problems += replacement_problems([s.migration for s in states if s.migration])
        if problems:
            raise ApplySqlError(
                f"apply_sql refused to run: {len(problems)} problem(s) found before anything changed.",
                exit_code=EXIT_VALIDATION,
                report="\n\n".join(problems),
            )
        return pending

    def superseded(self, pending: list[MigrationFile]) -> dict[str, MigrationFile]:
        """The pending files that a later file applies in their place, by version, with that file."""
        replaced = replacements(discover(self.directory))
        found = {m.version: replacement_for(replaced, m.version) for m in pending}
        return {version: by for version, by in found.items() if by is not None}

    # --- running files ------------------------------------------------------
    def execute_concurrently(self, migration: MigrationFile) -> int:
        """A CONCURRENTLY statement waits, by design, for every transaction already open on its table, and
        blocks no one's reads or writes meanwhile: given a lock_timeout it would fail instead and leave an
        INVALID index behind. It waits as long as it takes."""
        self.set_lock_timeout(0)
        try:
            return self.execute_file(migration)
        finally:
            self.set_lock_timeout(self.table_lock_timeout)

    def execute_file(self, migration: MigrationFile) -> int:
        started = time.monotonic()
        self.conn.execute(migration.sql)
        return round((time.monotonic() - started) * 1000)

    def apply_file(self, migration: MigrationFile) -> tuple[int, int]:
        """(milliseconds, attempts). A file in a transaction is tried again while a table is busy."""
        if not migration.in_transaction:
            # Recorded as failed first: if the statement or this process dies, the ledger says so.
            ledger.record_applied(self.conn, migration=migration, execution_ms=0, success=False)
            elapsed_ms = (
                self.execute_concurrently(migration) if migration.concurrently else self.execute_file(migration)
            )
            with self.conn.transaction():
                ledger.record_applied(self.conn, migration=migration, execution_ms=elapsed_ms)
            return elapsed_ms, 1

        def attempt() -> int:
            with self.conn.transaction():
                elapsed_ms = self.execute_file(migration)
                ledger.record_applied(self.conn, migration=migration, execution_ms=elapsed_ms)
            return elapsed_ms

        return self.with_lock_retries(attempt)

    def record_superseded(self, migration: MigrationFile, replacement: MigrationFile) -> None:
        with self.conn.transaction():
            ledger.record_superseded(self.conn, migration=migration, replacement=replacement)
        self.say(
            f"Skipping {migration.name}: superseded by {replacement.name}, which applies it without stalling a "
            "live database; recorded with its checksum, not run."
        )

    def error_offset(
        self, migration: MigrationFile, error: psycopg.Error, setup: Callable[[], None] = lambda: None
    ) -> int | None:
        """Where in the file the error is: from the server's position, else by re-running it
        statement by statement in a transaction that is always rolled back."""
        if error.diag.statement_position:
            return int(error.diag.statement_position) - 1
        if error.sqlstate in (LOCK_NOT_AVAILABLE, DEADLOCK_DETECTED):
            # Re-running holds the earlier statements' locks while the busy one waits: as briefly as a run.
            self.set_lock_timeout(self.lock_attempt_seconds())
            try:
                return self.locate(migration, error, setup)
            finally:
                self.set_lock_timeout(self.table_lock_timeout)
        return self.locate(migration, error, setup)

    def locate(self, migration: MigrationFile, error: psycopg.Error, setup: Callable[[], None]) -> int | None:
        statements = migration.statements()
        if not migration.in_transaction:
            # One statement, run outside a transaction: re-running it is not safe, reading it is.
            if not statements:
                return None
            start, text = statements[0].start, statements[0].text
            return do_block_offset(migration, start, error) or quoted_name_offset(start, text, error) or start

        class Located(Exception):
            offset: int | None = None

        try:
            with self.conn.transaction():
                setup()
                for statement in statements:
                    try:
                        with self.conn.transaction():
                            self.conn.execute(statement.text)
                    except psycopg.Error as again:
                        found = Located()
                        if again.sqlstate == error.sqlstate:
                            position = again.diag.statement_position
                            found.offset = (
                                statement.start + int(position) - 1
                                if position
                                else do_block_offset(migration, statement.start, again)
                                or quoted_name_offset(statement.start, statement.text, again)
                                or statement.start
                            )
                        raise found from None
                raise Located()
        except Located as located:
            return located.offset
        except psycopg.Error:
            return None

    def failure(
        self, migration: MigrationFile, error: psycopg.Error, *, offset: int | None, footer: list[str]
    ) -> ApplySqlError:
        report = format_sql_error(label=self.label(migration), migration=migration, error=error, offset=offset)
        if error.sqlstate == LOCK_NOT_AVAILABLE:
            footer = [*self.lock_advice(), *footer]
        return ApplySqlError(
            f"{migration.name} failed ({error.sqlstate or 'error'}); see above.",
            exit_code=EXIT_SQL_FAILED,
            report="\n".join([report, "", *footer]),
        )

    def lock_advice(self) -> list[str]:
        """What to do when a statement waited longer than --table-lock-timeout for a table's lock."""
        holders = self.conn.execute(
            """select distinct a.pid, coalesce(nullif(a.application_name, ''), a.usename), a.state,
                      left(regexp_replace(a.query, '[[:space:]]+', ' ', 'g'), 120)
                 from pg_locks l join pg_stat_activity a on a.pid = l.pid
                where l.granted and l.relation is not null and a.pid <> pg_backend_pid()
                  and a.datname = current_database()"""
        ).fetchall()
        return [
            f"Another session held a lock on a table this file changes, for longer than --table-lock-timeout "
            f"({self.table_lock_timeout:g} s); apply_sql gave up rather than queue every reader of that table "
            "behind it. Run it again when traffic is low, end the blocking session, or raise --table-lock-timeout.",
            *(f"  holding locks: backend {pid} ({who}), {state}: {query}" for pid, who, state, query in holders),
        ]

    def prepare_committed(self) -> None:
        try:
            with self.conn.transaction():
                self.prepare()
        except psycopg.Error as error:
            raise self.preparation_failed(error) from None

    def preparation_failed(self, error: psycopg.Error) -> ApplySqlError:
        return ApplySqlError(
            "Preparing the database failed (the Supabase shim, Django's schema or the ledger); nothing was applied.",
            exit_code=EXIT_SQL_FAILED,
            report=f"{SHIM_PATH.name} or the ledger DDL: ERROR {error.sqlstate or ''} {error}".strip(),
        )

    def apply(self, *, allow_out_of_order: bool = False) -> list[str]:
        with self.session():
            pending = self.validate(self.read_state(), allow_out_of_order=allow_out_of_order)
            self.prepare_committed()
            if not pending:
                self.say("Nothing to apply: the database is up to date.")
                return []
            committed: list[str] = []
            superseded = self.superseded(pending)
            for index, migration in enumerate(pending):
                if migration.version in superseded:
                    self.record_superseded(migration, superseded[migration.version])
                    continue
                self.start_line(f"Applying {migration.name} ...")
                try:
                    elapsed_ms, attempts = self.apply_file(migration)
                except psycopg.Error as error:
                    self.end_line("FAILED", name=f"Applying {migration.name}")
                    ledger.log_event(
                        self.conn, version=migration.version, action="fail", detail=f"{error.sqlstate}: {error}"
                    )
                    outcome = (
                        f"Rolled back {migration.name}: nothing from it was applied; the ledger is unchanged."
                        if migration.in_transaction
                        else f"{migration.name} ran outside a transaction: the ledger marks it failed. Check what it "
                        "changed (a failed CREATE INDEX CONCURRENTLY leaves an INVALID index: drop it), then "
                        f"`apply_sql --repair {migration.version}` to retry it."
                    )
                    not_attempted = [m.name for m in pending[index + 1 :]]
                    raise self.failure(
                        migration,
                        error,
                        offset=self.error_offset(migration, error),
                        footer=[
                            outcome,
                            f"Committed in this run: {', '.join(committed) or 'none'}.",
                            f"Not attempted: {', '.join(not_attempted) or 'none'}.",
                        ],
                    ) from None
                retried = f", at attempt {attempts}: a table was busy before" if attempts > 1 else ""
                self.end_line(f"OK ({elapsed_ms} ms{retried})", name=f"Applying {migration.name}")
                committed.append(migration.name)
            self.say(f"Applied {len(committed)} file(s).")
            return committed

    # --- read-only views -------------------------------------------------
    def plan(self, *, allow_out_of_order: bool = False) -> list[str]:
        with self.session(locked=False):
            pending = self.validate(self.read_state(), allow_out_of_order=allow_out_of_order)
            supabase = self.is_supabase()
            if not pending:
                self.say("Nothing to apply: the database is up to date.")
            else:
                self.say(f"Would apply {len(pending)} file(s), in this order:")
                superseded = self.superseded(pending)
                for migration in pending:
                    mode = "in a transaction" if migration.in_transaction else "outside a transaction"
                    if migration.version in superseded:
                        mode = f"not run: superseded by {superseded[migration.version].name}"
                    self.say(f"  {migration.name}  ({mode})")
            prep = ["Django's schema", f"the ledger schema {ledger.LEDGER_SCHEMA}"]
            if not supabase:
                prep.insert(0, "the Supabase compatibility shim")
            self.say(f"Before them, where missing: {', '.join(prep)}. Nothing was changed.")
            return [m.name for m in pending]

    def status(self, *, check: bool = False) -> list[FileState]:
        with self.session(locked=False):
            states = self.read_state()
            rows = []
            for s in states:
                row = s.row
                state = "applied (baseline)" if s.state == "applied" and row.baseline else s.state
                if s.state == "applied" and row.superseded_by:
                    state = f"superseded by {row.superseded_by}"
                took = f"{row.execution_ms} ms" if row and not (row.baseline or row.superseded_by) else ""
                rows.append(
                    (s.version, s.name, state, when(row and row.installed_on), row.installed_by if row else "", took)
                )
            self.say(status_table(rows) if rows else f"No migration files in {self.directory}.")
            counts = {
                name: sum(s.state == name for s in states) for name in ("pending", "changed", "failed", "missing")
            }
            self.say(", ".join(f"{n} {name}" for name, n in counts.items()) + ".")
        if check and (counts["changed"] or counts["failed"] or counts["missing"]):
            raise ApplySqlError("apply_sql --check: files need attention (see above).", exit_code=EXIT_VALIDATION)
        if check and counts["pending"]:
            raise ApplySqlError(f"apply_sql --check: {counts['pending']} file(s) pending.", exit_code=EXIT_SQL_FAILED)
        return states
