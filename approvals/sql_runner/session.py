"""apply_sql's own database session: connecting (with --wait), the migration lock, tables' locks, its output.

Its own psycopg connection in autocommit mode, not Django's shared one, so that
the lock and each file's transaction are under the runner's control.
"""

import random
import re
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg

from approvals.sql_runner.files import MigrationFile
from approvals.sql_runner.reports import NoticePrinter

# Fixed key shared by every deploy of this project: hash of "flow-review:apply_sql".
ADVISORY_LOCK_KEY = 0x0F10_3E71
TRANSACTION_POOLER_PORT = 6543
LOCK_NOT_AVAILABLE = "55P03"  # what lock_timeout raises
DEADLOCK_DETECTED = "40P01"
# How long one attempt at a file waits for any one lock. Whoever queues behind
# a waiting ALTER waits at most this long; it is below deadlock_timeout (1 s),
# so in a lock cycle with the pipeline apply_sql gives up first and the
# pipeline's transaction goes through. The file is then tried again, whole,
# until --table-lock-timeout has passed.
LOCK_ATTEMPT_SECONDS = 0.2

EXIT_SQL_FAILED, EXIT_CONFIG, EXIT_VALIDATION, EXIT_LOCK_TIMEOUT, EXIT_UNREACHABLE = 1, 2, 3, 4, 5
# --rollback committed, but left objects this role may not drop (the storage
# policies on hosted Supabase): they are named, with where to remove them.
EXIT_LEFT_BEHIND = 6

# Retrying cannot fix these: someone has to fix the settings.
CONFIG_ERROR = re.compile(
    r'database ".*" does not exist|role ".*" does not exist|password authentication failed|no pg_hba\.conf entry'
    r"|authentication failed|SSL .*required|does not support SSL|invalid connection option|invalid sslmode",
    re.I,
)
# A server that is starting, restarting or busy: worth waiting for.
TRANSIENT_ERROR = re.compile(
    r"Connection refused|No such file or directory|the database system is (starting up|shutting down|in recovery"
    r"|not yet accepting connections)|too many clients|too many connections|remaining connection slots"
    r"|timeout expired|could not translate host name|server closed the connection|Connection reset"
    r"|Network is unreachable",
    re.I,
)


class ApplySqlError(Exception):
    """A stop with an exit code (see docs/apply-sql.md); report is the long explanation for stderr."""

    def __init__(self, summary: str, *, exit_code: int, report: str = ""):
        super().__init__(summary)
        self.summary = summary
        self.exit_code = exit_code
        self.report = report


def connection_params(django_connection) -> dict:
    """psycopg connect() arguments for a Django connection (starting an embedded server)."""
    params = django_connection.get_connection_params()
    for django_only in ("cursor_factory", "context", "prepare_threshold"):
        params.pop(django_only, None)
    return params


class DatabaseSession:
    """A connection of apply_sql's own, the advisory lock, and progress output."""

    def __init__(
        self,
        params: dict,
        directory: Path,
        *,
        django_schema: str,
        out: Callable[..., None] = print,
        err: Callable[[str], None] = print,
        wait: float = 0,
        lock_timeout: float = 60,
        table_lock_timeout: float = 5,
    ):
        self.params = {"application_name": "apply_sql", **params}
        self.directory = Path(directory)
        self.django_schema = django_schema
        self._out, self.err = out, err
        self.wait, self.lock_timeout = wait, lock_timeout
        self.table_lock_timeout = table_lock_timeout
        self.conn: psycopg.Connection | None = None
        self._line_open = False

    # --- output -----------------------------------------------------------
    def say(self, text: str) -> None:
        self._close_line()
        self._out(text)

    def start_line(self, text: str) -> None:
        self._close_line()
        self._out(text, end="")
        self._line_open = True

    def end_line(self, text: str, *, name: str) -> None:
        self._out(f" {text}" if self._line_open else f"{name} ... {text}")
        self._line_open = False

    def _close_line(self) -> None:
        if self._line_open:
            self._out("")
            self._line_open = False

    def label(self, migration: MigrationFile) -> str:
        """The file as the deployer would type it: relative to the current folder when inside it."""
        try:
            return str(migration.path.resolve().relative_to(Path.cwd().resolve()))
        except ValueError:
            return str(migration.path)

    # --- connection and lock -----------------------------------------------
    def where(self) -> str:
        host, port = self.params.get("host") or "localhost", self.params.get("port") or 5432
        return f'database "{self.params.get("dbname", "")}" at {host}:{port}'

    def connect(self) -> None:
        if str(self.params.get("port") or "") == str(TRANSACTION_POOLER_PORT):
            raise ApplySqlError(
                f"Refusing port {TRANSACTION_POOLER_PORT}: that is a transaction-mode pooler (Supabase's Supavisor "
                "or PgBouncer in transaction mode): it hands each transaction to whichever server connection is "
                "free, so the session lock that keeps two deploys apart would not hold. Use the direct connection "
                "(db.<project>.supabase.co:5432) or the session pooler (port 5432) for apply_sql.",
                exit_code=EXIT_CONFIG,
            )
        deadline = time.monotonic() + self.wait
        told = False
        while True:
            try:
                self.conn = psycopg.connect(**self.params, autocommit=True)
                break
            except psycopg.OperationalError as error:
                reason = " ".join(str(error).split())
                if CONFIG_ERROR.search(reason):
                    raise ApplySqlError(
                        f"Cannot use the {self.where()}: {reason}. Retrying will not help: check DATABASE_URL "
                        "(or the DATABASES setting).",
                        exit_code=EXIT_CONFIG,
                    ) from None
                if TRANSIENT_ERROR.search(reason) and time.monotonic() < deadline:
                    if not told:
                        self.say(f"Waiting up to {self.wait:g} s for the {self.where()}: {reason}")
                        told = True
                    time.sleep(1)
                    continue
                waited = f" after waiting {self.wait:g} s" if self.wait else ""
                raise ApplySqlError(
                    f"Cannot reach the {self.where()}{waited}: {reason}", exit_code=EXIT_UNREACHABLE
                ) from None
        # A statement waiting for a table's lock (CREATE POLICY on a busy
        # storage.objects) queues every later reader of that table behind it:
        # give up after a few seconds instead, and say so (see Runner.failure).
        self.conn.execute(
            "select set_config('lock_timeout', %s, false)", [f"{round(self.table_lock_timeout * 1000)}ms"]
        )
        self.notices = NoticePrinter(out=self.say, err=self.err)
        self.notices.before_each = self._close_line
        self.conn.add_notice_handler(self.notices)

    # --- waiting for tables' locks -----------------------------------------
    def lock_attempt_seconds(self) -> float:
        """Each attempt's lock_timeout: LOCK_ATTEMPT_SECONDS, within the budget and below deadlock_timeout."""
        deadlock = self.conn.execute(
            "select extract(epoch from current_setting('deadlock_timeout')::interval)"
        ).fetchone()[0]
        return min(LOCK_ATTEMPT_SECONDS, self.table_lock_timeout, float(deadlock) / 2)

    def set_lock_timeout(self, seconds: float) -> None:
        """lock_timeout on apply_sql's connection; 0: no limit."""
        value = f"{max(1, round(seconds * 1000))}ms" if seconds else "0"
        self.conn.execute("select set_config('lock_timeout', %s, false)", [value])

    def with_lock_retries(self, attempt: Callable[[], int]) -> tuple[int, int]:
        """attempt() under a short lock_timeout, again after a pause while a lock was busy or a deadlock
        chose apply_sql, until --table-lock-timeout has passed; (its result, how many attempts it took)."""
        self.set_lock_timeout(self.lock_attempt_seconds())
        deadline = time.monotonic() + self.table_lock_timeout
        attempts = 0
        try:
            while True:
                attempts += 1
                try:
                    return attempt(), attempts
                except psycopg.Error as error:
                    if error.sqlstate not in (LOCK_NOT_AVAILABLE, DEADLOCK_DETECTED) or time.monotonic() >= deadline:
                        raise
                # A pause longer than the wait, so the sessions queued behind it get through first.
                time.sleep(min(max(0.0, deadline - time.monotonic()), random.uniform(0.2, 0.6)))  # noqa: S311
        finally:
            self.set_lock_timeout(self.table_lock_timeout)

    def close(self) -> None:
        if self.conn is not None:
            self.conn.close()
            self.conn = None

    def lock_holder(self) -> tuple[int, str, str] | None:
        """Who holds the migration lock: (pid, what it runs, a sentence for the deployer)."""
        row = self.conn.execute(
            """select a.pid, a.usename, a.application_name, a.client_addr, a.state,
                      extract(epoch from now() - coalesce(a.query_start, a.backend_start))::int,
                      left(regexp_replace(a.query, '\\s+', ' ', 'g'), 160)
               from pg_locks l join pg_stat_activity a on a.pid = l.pid
               where l.locktype = 'advisory' and l.granted and l.database = (
                       select oid from pg_database where datname = current_database())
                 and ((l.classid::bigint << 32) | l.objid::bigint) = %s and l.objsubid = 1""",
            [ADVISORY_LOCK_KEY],
        ).fetchone()
        if row is None:
            return None
        pid, user, app, addr, state, seconds, query = row
        origin = f" from {addr}" if addr else ""
        running = f", running: {query}" if query else ""
        return (
            pid,
            query,
            f"backend {pid} (user {user}, {app or 'no application name'}{origin}, {state} for {seconds} s{running})",
        )

    def lock(self) -> None:
        """Session-level advisory lock, polled: never a blocking or transaction-level one."""
        deadline = time.monotonic() + self.lock_timeout
        last_seen = None
        while not self.conn.execute("select pg_try_advisory_lock(%s)", [ADVISORY_LOCK_KEY]).fetchone()[0]:
            holder = self.lock_holder()
            if time.monotonic() >= deadline:
                held_by = holder[2] if holder else "a backend that has just released it"
                stop = f" with `select pg_terminate_backend({holder[0]})`" if holder else ""
                raise ApplySqlError(
                    f"Timed out after {self.lock_timeout:g} s waiting for the migration lock, held by {held_by}. "
                    f"Another apply_sql is running; if it is stuck, stop it{stop}.",
                    exit_code=EXIT_LOCK_TIMEOUT,
                )
            if holder and holder[:2] != last_seen:
                self.say(f"Waiting for the migration lock (up to {self.lock_timeout:g} s), held by {holder[2]}")
                last_seen = holder[:2]
            time.sleep(max(0.0, min(1.0, deadline - time.monotonic())))

    @contextmanager
    def session(self, *, locked: bool = True) -> Iterator[None]:
        self.connect()
        try:
            if locked:
                self.lock()
            yield
        finally:
            self._close_line()
            self.close()
