"""Row-level security, proven in SQL as Supabase's Data API would run it.

PostgREST connects, then in each request's transaction does `SET LOCAL ROLE`
to `anon` or `authenticated` and puts the JWT's claims in
`request.jwt.claims`. The tests do the same on a connection of their own, in
one transaction that is always rolled back; each attempt runs in a savepoint,
so a refusal does not end the transaction.
"""

import json
import uuid

import psycopg
import pytest
from django.db import connections
from psycopg import errors

from approvals.sql_runner.session import connection_params

pytestmark = pytest.mark.django_db

TABLES = ("projects", "artifacts", "jobs", "approvals", "runs")
USER_ID = uuid.UUID("6f1c2d3e-4b5a-4c6d-8e7f-90a1b2c3d4e5")
IDS = {table: uuid.uuid4() for table in TABLES}


class Session:
    def __init__(self, conn: psycopg.Connection):
        self.conn = conn

    def run(self, sql: str, params=None) -> psycopg.Cursor:
        return self.conn.execute(sql, params)

    def attempt(self, sql: str, params=None):
        """The statement's rows (or row count), or the error PostgreSQL refused it with."""
        try:
            with self.conn.transaction():
                cursor = self.conn.execute(sql, params)
                return cursor.fetchall() if cursor.description else cursor.rowcount
        except psycopg.Error as error:
            return error

    def become(self, role: str, *, claims: dict | None = None) -> None:
        self.run(f"set local role {role}")
        if claims is not None:
            self.run("select set_config('request.jwt.claims', %s, true)", [json.dumps(claims)])


@pytest.fixture
def sql():
    """The test database, as its owner, in a transaction that is rolled back; the pipeline's rows seeded."""
    with psycopg.connect(**connection_params(connections["default"])) as conn, conn.transaction(force_rollback=True):
        session = Session(conn)
        seed(session)
        yield session


def seed(session: Session) -> None:
    session.run("insert into projects (id, name) values (%s, 'RLS project')", [IDS["projects"]])
    session.run(
        "insert into artifacts (id, project_id, name, kind, body_text) values (%s, %s, 'post', 'text', 'Hello')",
        [IDS["artifacts"], IDS["projects"]],
    )
    session.run(
        "insert into jobs (id, kind, status, output_artifact_id) values (%s, 'draft_post', 'needs_approval', %s)",
        [IDS["jobs"], IDS["artifacts"]],
    )
    session.run("insert into approvals (id, artifact_id) values (%s, %s)", [IDS["approvals"], IDS["artifacts"]])
    session.run("insert into runs (id, job_id, model) values (%s, %s, 'gpt-4o-mini')", [IDS["runs"], IDS["jobs"]])


# A row each table accepts, with a fresh id; parents are the seeded rows.
NEW_ROWS = {
    "projects": ("insert into projects (id, name) values (%s, 'new project')", []),
    "artifacts": (
        "insert into artifacts (id, project_id, name, kind, body_text) values (%s, %s, 'new', 'text', 'x')",
        ["projects"],
    ),
    "jobs": ("insert into jobs (id, kind, output_artifact_id) values (%s, 'render_image', %s)", ["artifacts"]),
    "approvals": (
        "insert into approvals (id, artifact_id, status, decided_by, decided_at)"
        " values (%s, %s, 'approved', 'x', now())",
        ["artifacts"],
    ),
    "runs": ("insert into runs (id, job_id, model) values (%s, %s, 'claude')", ["jobs"]),
}


def insert_new(session: Session, table: str):
    statement, parents = NEW_ROWS[table]
    new_id = uuid.uuid4()
    return new_id, session.attempt(statement, [new_id, *(IDS[parent] for parent in parents)])


def touch(table: str) -> str:
    # An update every table accepts: set a column to its own value.
    column = "model" if table == "runs" else ("name" if table in ("projects", "artifacts") else "status")
    return f"update {table} set {column} = {column} where id = %s"  # noqa: S608 table names from the fixed TABLES list


# --- anon ----------------------------------------------------------------------


@pytest.mark.parametrize("table", TABLES)
def test_anon_may_not_touch_any_table(sql, table):
    sql.become("anon")

    refusals = [
        sql.attempt(f"select * from {table}"),  # noqa: S608 table names from the fixed TABLES list
        insert_new(sql, table)[1],
        sql.attempt(touch(table), [IDS[table]]),
        sql.attempt(f"delete from {table} where id = %s", [IDS[table]]),  # noqa: S608 table names from the fixed TABLES list
    ]

    assert all(isinstance(refusal, errors.InsufficientPrivilege) for refusal in refusals), refusals


@pytest.mark.parametrize("table", TABLES)
def test_anon_sees_no_row_even_when_granted_the_table_as_supabase_does_by_default(sql, table):
    # Supabase's default privileges grant new public tables to anon; only RLS then stands
    # between the anon key and the data. Grant it here and check that RLS holds alone.
    sql.run(f"grant select, insert, update, delete on {table} to anon")
    sql.become("anon")

    assert sql.attempt(f"select id from {table}") == []  # noqa: S608 table names from the fixed TABLES list
    assert sql.attempt(touch(table), [IDS[table]]) == 0
    assert sql.attempt(f"delete from {table} where id = %s", [IDS[table]]) == 0  # noqa: S608 table names from the fixed TABLES list
    refused = insert_new(sql, table)[1]
    assert isinstance(refused, errors.InsufficientPrivilege)
    assert "row-level security" in str(refused)

    sql.run("reset role")
    assert sql.attempt(f"select count(*) from {table} where id = %s", [IDS[table]]) == [(1,)]  # nothing was deleted  # noqa: S608 table names from the fixed TABLES list


def test_anon_may_not_touch_review_claims(sql):
    sql.run(
        "insert into review_claims (approval_id, claimant, expires_at) values (%s, 'ana', now() + interval '5 min')",
        [IDS["approvals"]],
    )
    sql.become("anon")

    refusals = [
        sql.attempt("select * from review_claims"),
        sql.attempt("update review_claims set claimant = 'mallory'"),
        sql.attempt("delete from review_claims"),
    ]

    assert all(isinstance(refusal, errors.InsufficientPrivilege) for refusal in refusals), refusals


def test_authenticated_may_work_with_review_claims(sql):
    sql.become("authenticated", claims=CLAIMS)

    inserted = sql.attempt(
        "insert into review_claims (approval_id, claimant, expires_at) values (%s, 'ana', now() + interval '5 min')",
        [IDS["approvals"]],
    )
    assert inserted == 1
    assert sql.attempt("delete from review_claims where approval_id = %s", [IDS["approvals"]]) == 1


# --- authenticated -------------------------------------------------------------

CLAIMS = {"sub": str(USER_ID), "role": "authenticated", "aud": "authenticated", "email": "pipeline@example.com"}


@pytest.mark.parametrize("table", TABLES)
def test_authenticated_may_read_insert_update_and_delete(sql, table):
    sql.become("authenticated", claims=CLAIMS)

    assert sql.attempt(f"select id from {table} where id = %s", [IDS[table]]) == [(IDS[table],)]  # noqa: S608 table names from the fixed TABLES list
    new_id, inserted = insert_new(sql, table)
    assert inserted == 1
    assert sql.attempt(touch(table), [new_id]) == 1
    assert sql.attempt(f"delete from {table} where id = %s", [new_id]) == 1  # noqa: S608 table names from the fixed TABLES list
    assert sql.attempt(f"select id from {table} where id = %s", [new_id]) == []  # noqa: S608 table names from the fixed TABLES list


def test_auth_uid_is_the_jwt_subject_and_fills_project_owner(sql):
    sql.become("authenticated", claims=CLAIMS)

    assert sql.attempt("select auth.uid(), auth.role()") == [(USER_ID, "authenticated")]
    new_id, _ = insert_new(sql, "projects")
    assert sql.attempt("select owner_id from projects where id = %s", [new_id]) == [(USER_ID,)]
    artifact_id, _ = insert_new(sql, "artifacts")
    assert sql.attempt("select created_by from artifacts where id = %s", [artifact_id]) == [(USER_ID,)]


def test_without_claims_auth_uid_is_null(sql):
    sql.become("authenticated")

    assert sql.attempt("select auth.uid()") == [(None,)]
    new_id, _ = insert_new(sql, "projects")
    assert sql.attempt("select owner_id from projects where id = %s", [new_id]) == [(None,)]


# --- storage.objects -----------------------------------------------------------


@pytest.fixture
def buckets(sql):
    """flow-artifacts (from 006) with one object, and a second bucket with one, created by the owner."""
    sql.run("insert into storage.buckets (id, name) values ('other-bucket', 'other-bucket')")
    sql.run("insert into storage.objects (bucket_id, name) values ('flow-artifacts', 'proj/1/seeded.png')")
    sql.run("insert into storage.objects (bucket_id, name) values ('other-bucket', 'private/secret.pdf')")
    return sql


def objects(sql: Session):
    return sql.attempt("select bucket_id, name from storage.objects order by bucket_id, name")


def test_authenticated_works_with_objects_in_flow_artifacts(buckets):
    sql = buckets
    sql.become("authenticated", claims=CLAIMS)

    inserted = sql.attempt("insert into storage.objects (bucket_id, name) values ('flow-artifacts', 'proj/2/new.png')")
    assert inserted == 1
    assert objects(sql) == [("flow-artifacts", "proj/1/seeded.png"), ("flow-artifacts", "proj/2/new.png")]
    renamed = sql.attempt("update storage.objects set name = 'proj/2/renamed.png' where name = 'proj/2/new.png'")
    assert renamed == 1
    assert sql.attempt("delete from storage.objects where name = 'proj/2/renamed.png'") == 1


def test_authenticated_cannot_reach_another_buckets_objects(buckets):
    sql = buckets
    sql.become("authenticated", claims=CLAIMS)

    assert ("other-bucket", "private/secret.pdf") not in objects(sql)
    refused = sql.attempt("insert into storage.objects (bucket_id, name) values ('other-bucket', 'planted.png')")
    assert isinstance(refused, errors.InsufficientPrivilege) and "row-level security" in str(refused)
    assert sql.attempt("update storage.objects set name = 'x' where bucket_id = 'other-bucket'") == 0
    assert sql.attempt("delete from storage.objects where bucket_id = 'other-bucket'") == 0
    # Nor move an object of ours out into it.
    moved = sql.attempt("update storage.objects set bucket_id = 'other-bucket' where name = 'proj/1/seeded.png'")
    assert isinstance(moved, errors.InsufficientPrivilege)

    sql.run("reset role")
    assert sql.attempt("select name from storage.objects where bucket_id = 'other-bucket'") == [("private/secret.pdf",)]


def test_anon_cannot_reach_any_object(buckets):
    sql = buckets
    sql.become("anon")

    assert isinstance(objects(sql), errors.InsufficientPrivilege)
    planted = sql.attempt("insert into storage.objects (bucket_id, name) values ('flow-artifacts', 'x.png')")
    assert isinstance(planted, errors.InsufficientPrivilege)


@pytest.mark.parametrize("role", ["anon", "authenticated"])
@pytest.mark.parametrize(
    "call",
    [
        "select public.refresh_run_cost_rollup()",
        "select public.rebuild_review_items()",
        "select count(*) from public.run_cost_days_with_runs(current_date)",
    ],
    ids=["refresh_run_cost_rollup", "rebuild_review_items", "run_cost_days_with_runs"],
)
def test_the_ops_consoles_helper_functions_are_not_an_api(sql, role, call):
    sql.become(role)

    assert isinstance(sql.attempt(call), errors.InsufficientPrivilege)


# review_takebacks (016): the decision service writes it as the tables' owner; an API role may at most read it.
TAKEBACK_STATEMENTS = {
    "select": "select approval_id from review_takebacks",
    "insert": "insert into review_takebacks (approval_id, kind, taken_back_by) values (%(approval)s, 'undo', 'api')",
    "update": "update review_takebacks set taken_back_by = 'api'",
    "delete": "delete from review_takebacks",
}
TAKEBACK_ALLOWED = {
    "anon": set(),
    "authenticated": {"select"},
    "service_role": {"select", "insert", "update", "delete"},
}


@pytest.mark.parametrize("operation", TAKEBACK_STATEMENTS)
@pytest.mark.parametrize("role", TAKEBACK_ALLOWED)
def test_review_takebacks_are_read_at_most_by_the_api_roles(sql, role, operation):
    decided = uuid.uuid4()
    sql.run(
        "insert into approvals (id, artifact_id, status, decided_by, decided_at)"
        " values (%s, %s, 'approved', 'ana', now())",
        [decided, IDS["artifacts"]],
    )
    sql.run("insert into review_takebacks (approval_id, kind, taken_back_by) values (%s, 'reopen', 'lead')", [decided])
    sql.become(role, claims={"sub": str(USER_ID), "role": role})

    outcome = sql.attempt(TAKEBACK_STATEMENTS[operation], {"approval": IDS["approvals"]})

    if operation in TAKEBACK_ALLOWED[role]:
        assert not isinstance(outcome, psycopg.Error), outcome
        assert outcome == ([(decided,)] if operation == "select" else 1)
    else:
        assert isinstance(outcome, errors.InsufficientPrivilege), outcome
