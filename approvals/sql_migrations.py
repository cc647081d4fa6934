"""The runner behind `manage.py apply_sql`: applies migrations_sql/ in order, safely.

Each file runs whole in one transaction together with its ledger row, under a
session advisory lock, on a connection of its own (not Django's).
"""

import hashlib
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import psycopg

LEDGER_SCHEMA = "flow_migrations"
# Fixed key shared by every deploy of this project: hash of "flow-review:apply_sql".
ADVISORY_LOCK_KEY = 0x0F10_3E71
SHIM_PATH = Path(__file__).parent / "sql" / "supabase_shim.sql"
FILE_NAME = re.compile(r"^(?P<version>\d+)_(?P<slug>[A-Za-z0-9_]+)\.sql$")
NO_TRANSACTION_MARKER = "-- apply_sql: no-transaction"

LEDGER_DDL = f"""
create schema if not exists {LEDGER_SCHEMA};
create table if not exists {LEDGER_SCHEMA}.applied_files (
    version        text primary key,
    name           text not null,
    checksum       text not null,
    applied_text   text not null,
    installed_by   text not null default current_user,
    installed_on   timestamptz not null default now(),
    execution_ms   integer not null,
    in_transaction boolean not null default true,
    success        boolean not null default true
);
create table if not exists {LEDGER_SCHEMA}.events (
    id          bigint generated always as identity primary key,
    version     text,
    action      text not null check (action in ('apply', 'fail', 'baseline', 'repair', 'rollback')),
    detail      text not null default '',
    happened_by text not null default current_user,
    happened_on timestamptz not null default now()
);
revoke all on schema {LEDGER_SCHEMA} from public;
"""


def normalized_text(text: str) -> str:
    """Text as compared for checksums: no BOM, LF endings, no trailing blanks."""
    text = text.removeprefix("\ufeff").replace("\r\n", "\n").replace("\r", "\n")
    lines = [line.rstrip() for line in text.split("\n")]
    return "\n".join(lines).rstrip("\n") + "\n"


def checksum(text: str) -> str:
    return hashlib.sha256(normalized_text(text).encode()).hexdigest()


@dataclass(frozen=True)
class MigrationFile:
    version: str
    name: str
    path: Path
    text: str

    @property
    def checksum(self) -> str:
        return checksum(self.text)

    @property
    def in_transaction(self) -> bool:
        first_line = normalized_text(self.text).split("\n", 1)[0].strip().lower()
        return first_line != NO_TRANSACTION_MARKER


def discover(directory: Path) -> list[MigrationFile]:
    files = []
    for path in sorted(Path(directory).glob("*.sql")):
        match = FILE_NAME.match(path.name)
        if match:
            files.append(
                MigrationFile(version=match["version"], name=path.name, path=path, text=path.read_text("utf-8"))
            )
    return sorted(files, key=lambda f: int(f.version))


def connection_params(django_connection) -> dict:
    """psycopg connect() arguments for a Django connection (starting an embedded server)."""
    params = django_connection.get_connection_params()
    for django_only in ("cursor_factory", "context", "prepare_threshold"):
        params.pop(django_only, None)
    return params


class Runner:
    def __init__(self, params: dict, directory: Path, *, django_schema: str, out: Callable[[str], None] = print):
        self.params = params
        self.directory = Path(directory)
        self.django_schema = django_schema
        self.out = out
        self.conn: psycopg.Connection | None = None

    def connect(self) -> None:
        self.conn = psycopg.connect(**self.params, autocommit=True)

    def close(self) -> None:
        if self.conn is not None:
            self.conn.close()
            self.conn = None

    def lock(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while not self.conn.execute("select pg_try_advisory_lock(%s)", [ADVISORY_LOCK_KEY]).fetchone()[0]:
            if time.monotonic() > deadline:
                raise TimeoutError("another apply_sql holds the migration lock")
            time.sleep(1)

    def is_supabase(self) -> bool:
        row = self.conn.execute(
            "select to_regclass('auth.users') is not null and to_regclass('storage.buckets') is not null"
        ).fetchone()
        return row[0]

    def prepare(self) -> None:
        """The shim (plain PostgreSQL only), Django's schema and the ledger."""
        with self.conn.transaction():
            if not self.is_supabase():
                self.conn.execute(SHIM_PATH.read_text("utf-8"))
            self.conn.execute(f'create schema if not exists "{self.django_schema}"')
            self.conn.execute(LEDGER_DDL)

    def applied(self) -> dict[str, dict]:
        cursor = self.conn.cursor(row_factory=psycopg.rows.dict_row)
        return {row["version"]: row for row in cursor.execute(f"select * from {LEDGER_SCHEMA}.applied_files")}

    def apply_file(self, migration: MigrationFile) -> int:
        started = time.monotonic()
        with self.conn.transaction():
            self.conn.execute(migration.text)
            elapsed_ms = round((time.monotonic() - started) * 1000)
            self.conn.execute(
                f"""insert into {LEDGER_SCHEMA}.applied_files
                    (version, name, checksum, applied_text, execution_ms, in_transaction)
                    values (%s, %s, %s, %s, %s, %s)""",
                [migration.version, migration.name, migration.checksum, migration.text, elapsed_ms, True],
            )
            self.conn.execute(
                f"insert into {LEDGER_SCHEMA}.events (version, action) values (%s, 'apply')", [migration.version]
            )
        return elapsed_ms

    def apply(self, lock_timeout: float = 60) -> list[str]:
        self.connect()
        try:
            self.lock(lock_timeout)
            self.prepare()
            done = self.applied()
            pending = [f for f in discover(self.directory) if f.version not in done]
            if not pending:
                self.out("Nothing to apply: the database is up to date.")
            for migration in pending:
                elapsed_ms = self.apply_file(migration)
                self.out(f"Applying {migration.name} ... OK ({elapsed_ms} ms)")
            return [f.name for f in pending]
        finally:
            self.close()
