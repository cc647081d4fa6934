"""Test database built the way production is: apply_sql, then Django's migrate."""

from pathlib import Path

import pytest
from django.core.management import call_command
from django.db import connections

# A staff client and a small dataset for the ops console's tests.
from approvals.tests.admin_fixtures import ops_client, ops_dataset  # noqa: F401

# Chromium per browser test module and its pages, kept between tests; Django's async-safety check
# relaxed in those tests only.
from approvals.tests.browser_fixtures import browser, open_page, page_pool, sync_database_calls_allowed  # noqa: F401

# A fresh database per test, and a scratch copy of migrations_sql/, for apply_sql's tests.
from approvals.tests.scratch_database import migrations_dir, scratch_db  # noqa: F401

# Local and S3 (moto server) buckets for the storage, file view and preview tests.
from approvals.tests.storage_fixtures import (  # noqa: F401
    bucket,
    isolated_file_caches,
    local_bucket,
    moto_server,
    private_moto_server,
    s3_bucket,
)


def pytest_addoption(parser):
    parser.addoption(
        "--screenshots",
        metavar="DIR",
        default=None,
        help="where the browser tests save their screenshots (`make screenshots` passes docs/screenshots); "
        "by default a temporary folder, so that tests never write tracked files",
    )


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(items):
    """Slow tests that leave the test database alone run first.

    pytest-django puts tests without the database last, which put the
    benchmarks' smoke runs and the server tests at the end of the run: one
    worker then ran them while the other sat idle. pytest-xdist hands each
    worker a contiguous share and lets an idle one take from the end of
    another's, so with them first the run ends on short tests on both
    workers. Tests that use the database keep pytest-django's order: a
    transactional test's flush would remove rows the others rely on.
    """
    items.sort(key=lambda item: not (item.get_closest_marker("slow") and not _uses_the_test_database(item)))


def _uses_the_test_database(item: pytest.Item) -> bool:
    fixtures = set(getattr(item, "fixturenames", ()))
    return bool(item.get_closest_marker("django_db") or fixtures & {"db", "transactional_db", "live_server"})


@pytest.fixture
def screenshots_dir(request, tmp_path) -> Path:
    chosen = request.config.getoption("--screenshots")
    directory = Path(chosen) if chosen else tmp_path / "screenshots"
    directory.mkdir(parents=True, exist_ok=True)
    return directory


@pytest.hookimpl(wrapper=True)
def pytest_runtest_protocol(item, nextitem):
    with sync_database_calls_allowed(item):
        return (yield)


@pytest.fixture(scope="session")
def django_db_setup(django_test_environment, django_db_blocker, django_db_modify_db_settings):
    # django_db_modify_db_settings gives each pytest-xdist worker a test database of its own (test_postgres_gw0, ...).
    from django.conf import settings

    with django_db_blocker.unblock():
        connection = connections["default"]
        original_name = connection.settings_dict["NAME"]
        test_name = _create_empty_test_database(connection)
        connection.close()
        settings.DATABASES["default"]["NAME"] = test_name
        connection.settings_dict["NAME"] = test_name
        call_command("apply_sql", verbosity=0, stdout=_Discard())
        call_command("migrate", verbosity=0, interactive=False)

    yield

    with django_db_blocker.unblock():
        connection.creation.destroy_test_db(original_name, verbosity=0)


def _create_empty_test_database(connection) -> str:
    """An empty test database, named as Django names it (TEST NAME, or test_ + NAME).

    Created over a connection of our own rather than by Django's create_test_db,
    which would run Django's migrations before apply_sql has built the schema
    they depend on.
    """
    import psycopg
    from django.db.backends.base.creation import TEST_DATABASE_PREFIX
    from psycopg import sql

    from approvals.sql_runner.session import connection_params

    name = connection.settings_dict["TEST"]["NAME"] or TEST_DATABASE_PREFIX + connection.settings_dict["NAME"]
    # Connected to the maintenance database, as Django's own creation does: NAME need not exist.
    params = {**connection_params(connection), "dbname": "postgres"}
    with psycopg.connect(**params, autocommit=True) as server:
        server.execute(sql.SQL("drop database if exists {} with (force)").format(sql.Identifier(name)))
        server.execute(sql.SQL("create database {}").format(sql.Identifier(name)))
        server.execute(sql.SQL(NO_WAIT_FOR_WAL_FLUSH).format(sql.Identifier(name)))
    return name


# Test data need not survive a crash of the server: a commit then returns without
# waiting for its WAL to reach the disk (1-2 ms a commit here, 0.04 without).
# What other sessions see, and when, is unchanged.
NO_WAIT_FOR_WAL_FLUSH = "alter database {} set synchronous_commit = off"


@pytest.fixture(autouse=True, scope="session")
def fast_password_hasher():
    """Hashing at production cost took nearly half the suite's time; no test here measures it."""
    from django.test import override_settings

    with override_settings(PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"]):
        yield


@pytest.fixture(autouse=True)
def fresh_project_menu():
    """Each worker process keeps the project menu for a few seconds; each test starts without it."""
    from approvals.filter_menus import forget_project_menu

    forget_project_menu()


class _Discard:
    def write(self, text):
        pass

    def flush(self):
        pass


@pytest.fixture
def reviewer(db):
    from approvals.tests.factories import make_reviewer

    return make_reviewer("reviewer")


@pytest.fixture
def reviewer_client(client, reviewer):
    client.force_login(reviewer)
    return client


# Children first; cascade covers rows the pipeline linked across tables.
PIPELINE_TABLES = ("runs", "approvals", "jobs", "artifacts", "projects")


@pytest.fixture
def transactional_pipeline_db(transactional_db):
    """A transactional database whose pipeline rows are removed after the test.

    Django's flush after a transactional test empties managed tables only; the
    pipeline's tables are unmanaged, so committed rows would leak into later tests.
    """
    yield
    with connections["default"].cursor() as cursor:
        cursor.execute(f"truncate {', '.join(PIPELINE_TABLES)} cascade")


@pytest.fixture
def listener(transactional_pipeline_db):
    """A separate connection LISTENing on flow_approvals, as the pipeline would."""
    wrapper = connections.create_connection("default")
    wrapper.ensure_connection()
    wrapper.connection.autocommit = True
    wrapper.connection.execute("listen flow_approvals")
    yield wrapper.connection
    wrapper.close()


@pytest.fixture
def demo_site(settings, tmp_path):
    """seed_demo's data and account, with its files, thumbnails and password file under tmp_path."""
    settings.VAR_DIR = tmp_path
    settings.THUMBNAIL_CACHE_DIR = tmp_path / "thumbnails"
    default = settings.STORAGES["default"]
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {**default, "OPTIONS": {**default.get("OPTIONS", {}), "location": str(tmp_path / "bucket")}},
    }
    call_command("seed_demo", stdout=_Discard())
    return {"username": "demo", "password": (tmp_path / "demo-login.txt").read_text().strip()}
