"""The ledger of applied files, in a schema of its own (never public, which Supabase's Data API exposes).

applied_files holds one row per applied file (its text, checksum, who, when,
how long); events is append-only: apply, fail, baseline, repair, rollback.
When Supabase's own migration table exists, applied files are mirrored there
so `supabase migration list` agrees.
"""

from dataclasses import dataclass
from datetime import datetime

import psycopg
from psycopg import sql
from psycopg.rows import dict_row

from approvals.sql_runner.files import MigrationFile

# Written out in the statements below, like the table names in migrations_sql/.
LEDGER_SCHEMA = "flow_migrations"

LEDGER_DDL = """
create schema if not exists flow_migrations;
create table if not exists flow_migrations.applied_files (
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
alter table flow_migrations.applied_files add column if not exists baseline boolean not null default false;
-- A file recorded without being run because a later file applies it in its place (the replacement's version).
alter table flow_migrations.applied_files add column if not exists superseded_by text;
create table if not exists flow_migrations.events (
    id          bigint generated always as identity primary key,
    version     text,
    action      text not null check (action in ('apply', 'fail', 'baseline', 'repair', 'rollback')),
    detail      text not null default '',
    happened_by text not null default current_user,
    happened_on timestamptz not null default now()
);
revoke all on schema flow_migrations from public;
"""


@dataclass(frozen=True)
class LedgerRow:
    version: str
    name: str
    checksum: str
    applied_text: str
    installed_by: str
    installed_on: datetime
    execution_ms: int
    in_transaction: bool
    success: bool
    baseline: bool = False
    superseded_by: str | None = None


def exists(conn: psycopg.Connection) -> bool:
    return conn.execute("select to_regclass(%s) is not null", [f"{LEDGER_SCHEMA}.applied_files"]).fetchone()[0]


def create(conn: psycopg.Connection) -> None:
    conn.execute(LEDGER_DDL)


def applied(conn: psycopg.Connection) -> dict[str, LedgerRow]:
    """The ledger's rows by version; empty when there is no ledger yet (nothing is created to read it)."""
    if not exists(conn):
        return {}
    cursor = conn.cursor(row_factory=dict_row)
    rows = cursor.execute("select * from flow_migrations.applied_files").fetchall()
    fields = LedgerRow.__dataclass_fields__
    return {row["version"]: LedgerRow(**{k: v for k, v in row.items() if k in fields}) for row in rows}


def log_event(conn: psycopg.Connection, *, version: str | None, action: str, detail: str = "") -> None:
    conn.execute(
        "insert into flow_migrations.events (version, action, detail) values (%s, %s, %s)",
        [version, action, detail],
    )


def record_applied(
    conn: psycopg.Connection, *, migration: MigrationFile, execution_ms: int, success: bool = True
) -> None:
    """The row for a file; called inside the file's own transaction when it has one."""
    conn.execute(
        """insert into flow_migrations.applied_files
            (version, name, checksum, applied_text, execution_ms, in_transaction, success)
            values (%s, %s, %s, %s, %s, %s, %s)
            on conflict (version) do update set
                name = excluded.name, checksum = excluded.checksum, applied_text = excluded.applied_text,
                execution_ms = excluded.execution_ms, success = excluded.success,
                installed_by = current_user, installed_on = now()""",
        [
            migration.version,
            migration.name,
            migration.checksum,
            migration.text,
            execution_ms,
            migration.in_transaction,
            success,
        ],
    )
    if success:
        log_event(conn, version=migration.version, action="apply", detail=f"{execution_ms} ms")
        mirror_to_supabase(conn, migration=migration)


def record_superseded(conn: psycopg.Connection, *, migration: MigrationFile, replacement: MigrationFile) -> None:
    """A pending file that a later one applies in its place: recorded with its own checksum, never run."""
    conn.execute(
        """insert into flow_migrations.applied_files
            (version, name, checksum, applied_text, execution_ms, in_transaction, superseded_by)
            values (%s, %s, %s, %s, 0, %s, %s)""",
        [
            migration.version,
            migration.name,
            migration.checksum,
            migration.text,
            migration.in_transaction,
            replacement.version,
        ],
    )
    log_event(conn, version=migration.version, action="apply", detail=f"not run: superseded by {replacement.name}")
    mirror_to_supabase(conn, migration=migration)


def record_baseline(conn: psycopg.Connection, *, migration: MigrationFile, checked: str) -> None:
    conn.execute(
        """insert into flow_migrations.applied_files
            (version, name, checksum, applied_text, execution_ms, in_transaction, baseline)
            values (%s, %s, %s, %s, 0, %s, true)""",
        [migration.version, migration.name, migration.checksum, migration.text, migration.in_transaction],
    )
    log_event(conn, version=migration.version, action="baseline", detail=checked)
    mirror_to_supabase(conn, migration=migration)


def accept_checksum(conn: psycopg.Connection, *, migration: MigrationFile, old_checksum: str) -> None:
    conn.execute(
        "update flow_migrations.applied_files set checksum = %s, applied_text = %s where version = %s",
        [migration.checksum, migration.text, migration.version],
    )
    log_event(
        conn,
        version=migration.version,
        action="repair",
        detail=f"accepted the changed file: checksum {old_checksum[:12]} -> {migration.checksum[:12]}",
    )


def forget(conn: psycopg.Connection, *, version: str, why: str) -> None:
    conn.execute("delete from flow_migrations.applied_files where version = %s", [version])
    log_event(conn, version=version, action="repair", detail=why)


def clear_after_rollback(conn: psycopg.Connection, *, versions: list[str]) -> None:
    if not exists(conn):
        return
    conn.execute("delete from flow_migrations.applied_files")
    log_event(conn, version=None, action="rollback", detail="dropped the schema; cleared " + ", ".join(versions))
    if _supabase_columns(conn):
        conn.execute("delete from supabase_migrations.schema_migrations where version = any(%s)", [versions])


def events(conn: psycopg.Connection) -> list[dict]:
    if not exists(conn):
        return []
    cursor = conn.cursor(row_factory=dict_row)
    return cursor.execute("select * from flow_migrations.events order by id").fetchall()


def _supabase_columns(conn: psycopg.Connection) -> set[str]:
    rows = conn.execute(
        """select column_name from information_schema.columns
           where table_schema = 'supabase_migrations' and table_name = 'schema_migrations'"""
    ).fetchall()
    return {row[0] for row in rows}


def mirror_to_supabase(conn: psycopg.Connection, *, migration: MigrationFile) -> None:
    """Also record the file in Supabase's migration table, when this database has one."""
    columns = _supabase_columns(conn)
    if "version" not in columns:
        return
    values = {"version": migration.version}
    if "name" in columns:
        values["name"] = migration.name.removesuffix(".sql").split("_", 1)[1]
    if "statements" in columns:
        values["statements"] = [migration.sql]
    # The columns vary with the Supabase CLI's version: composed as identifiers.
    statement = sql.SQL(
        "insert into supabase_migrations.schema_migrations ({names}) values ({placeholders}) "
        "on conflict (version) do nothing"
    ).format(
        names=sql.SQL(", ").join(map(sql.Identifier, values)),
        placeholders=sql.SQL(", ").join(sql.Placeholder() * len(values)),
    )
    conn.execute(statement, list(values.values()))
