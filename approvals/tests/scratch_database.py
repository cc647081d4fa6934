"""A fresh database per test, on the same server as Django's test database, for apply_sql's tests.

Each scratch database gets a Django alias of its own, so tests call the
command exactly as a deployer does (`apply_sql --database ALIAS`), and a
DATABASE_URL for running `manage.py` in a separate process. The shared test
database is never touched.
"""

import copy
import io
import os
import shutil
import subprocess
import sys
import uuid
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

import psycopg
import pytest
from django.conf import settings
from django.core.management import CommandError, call_command
from django.db import connections

from approvals.sql_runner.runner import connection_params

ROOT = Path(__file__).resolve().parents[2]


# Every real file, as the runner finds them; files a test adds are numbered 9xx, after all of them.
FILES = sorted(path.name for path in Path(settings.SQL_MIGRATIONS_DIR).glob("[0-9][0-9][0-9]_*.sql"))
VERSIONS = [name.split("_", 1)[0] for name in FILES]


def untouched(db) -> bool:
    """Nothing apply_sql creates is there: no tables, no shim schemas, no ledger, no Django schema."""
    return not db.public_tables() and not ({"auth", "storage", "django", "flow_migrations"} & db.schemas())


@dataclass
class Result:
    code: int
    out: str
    err: str

    @property
    def text(self) -> str:
        return self.out + self.err


@dataclass
class ScratchDatabase:
    alias: str
    name: str
    params: dict

    @property
    def url(self) -> str:
        """DATABASE_URL for a manage.py process of its own (host may be a socket folder)."""
        user = quote(self.params.get("user") or "", safe="")
        password = quote(self.params.get("password") or "", safe="")
        credentials = f"{user}:{password}@" if password else f"{user}@"
        host, port = self.params.get("host") or "", self.params.get("port") or ""
        if host.startswith("/"):
            return f"postgresql://{credentials}/{self.name}?host={quote(host)}" + (f"&port={port}" if port else "")
        return f"postgresql://{credentials}{host}{':' + str(port) if port else ''}/{self.name}"

    def connect(self, **kwargs) -> psycopg.Connection:
        return psycopg.connect(**{**self.params, "dbname": self.name, **kwargs})

    def query(self, sql: str, params=None) -> list[tuple]:
        with self.connect() as conn:
            return conn.execute(sql, params).fetchall()

    def value(self, sql: str, params=None):
        return self.query(sql, params)[0][0]

    def execute(self, sql: str) -> None:
        with self.connect(autocommit=True) as conn:
            conn.execute(sql)

    def apply_sql(self, *args: str, directory: Path | None = None) -> Result:
        return apply_sql(self.alias, *args, directory=directory)

    def manage(self, *args: str) -> subprocess.Popen:
        """`manage.py ARGS` in a process of its own, with DATABASE_URL pointing here."""
        env = {**os.environ, "DATABASE_URL": self.url, "PYTHONUNBUFFERED": "1"}
        return subprocess.Popen(
            [sys.executable, "manage.py", *args],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )

    # Views of the database that the tests compare.
    def public_tables(self) -> set[str]:
        rows = self.query("select table_name from information_schema.tables where table_schema = 'public'")
        return {row[0] for row in rows}

    def schemas(self) -> set[str]:
        return {row[0] for row in self.query("select nspname from pg_namespace where nspname not like 'pg_%'")}

    def ledger(self) -> list[str]:
        if not self.value("select to_regclass('flow_migrations.applied_files') is not null"):
            return []
        return [row[0] for row in self.query("select version from flow_migrations.applied_files order by version")]

    def events(self, action: str) -> list[str]:
        rows = self.query("select version from flow_migrations.events where action = %s order by id", [action])
        return [row[0] for row in rows]


def apply_sql(alias: str, *args: str, directory: Path | None = None) -> Result:
    """`manage.py apply_sql ARGS --database ALIAS`, in this process."""
    out, err = io.StringIO(), io.StringIO()
    if directory is not None:
        args = (*args, "--dir", str(directory))
    try:
        call_command("apply_sql", *args, database=alias, stdout=out, stderr=err)
        code = 0
    except CommandError as error:
        code = error.returncode
        err.write(f"{error}\n")
    return Result(code=code, out=out.getvalue(), err=err.getvalue())


def add_alias(alias: str, **overrides) -> None:
    """A DATABASES entry like default's (plain PostgreSQL backend: the server is already running)."""
    entry = copy.deepcopy(connections["default"].settings_dict)
    entry.update(ENGINE="django.db.backends.postgresql", **overrides)
    connections.settings[alias] = entry
    settings.DATABASES[alias] = entry


def remove_alias(alias: str) -> None:
    if alias in connections.settings:
        connections[alias].close()
        del connections[alias]
        del connections.settings[alias]
    settings.DATABASES.pop(alias, None)


@pytest.fixture
def scratch_db(django_db_blocker):
    server = connection_params(connections["default"])  # also starts the embedded server if that is the one
    name = f"apply_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(**server, autocommit=True) as admin:
        admin.execute(f'create database "{name}"')
        admin.execute(f'alter database "{name}" set synchronous_commit = off')  # as conftest's test database
    add_alias(name, NAME=name)
    params = {key: value for key, value in server.items() if key != "dbname"}
    try:
        with django_db_blocker.unblock():
            yield ScratchDatabase(alias=name, name=name, params=params)
    finally:
        remove_alias(name)
        with psycopg.connect(**server, autocommit=True) as admin:
            admin.execute(f'drop database if exists "{name}" with (force)')


@pytest.fixture
def migrations_dir(tmp_path) -> Path:
    """A scratch copy of migrations_sql/ that a test may break or extend."""
    directory = tmp_path / "migrations_sql"
    shutil.copytree(settings.SQL_MIGRATIONS_DIR, directory)
    return directory
