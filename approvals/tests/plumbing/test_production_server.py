"""The deployed shape, end to end: gunicorn with production settings on a PostgreSQL that a test stops and starts.

During the outage pages answer 503 saying the database is unavailable (never
a traceback); once the server is back the same workers serve again, with no
restart of the app.
"""

import json
import os
import re
import tempfile
import time
from pathlib import Path

import psutil
import pytest

from approvals.tests.production_server import REVIEWER, DedicatedPostgres, ProductionApp

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def database():
    # Not under pytest's basetemp: pytest keeps /tmp/pytest-of-<user> at 0700
    # (and resets it when another run starts), and as root pgserver runs
    # PostgreSQL as its own user, which must reach the data folder.
    with tempfile.TemporaryDirectory(prefix="flow-restart-") as folder:
        os.chmod(folder, 0o755)  # noqa: S103 (the PostgreSQL user must traverse it)
        server = DedicatedPostgres(Path(folder) / "pgdata")
        yield server
        server.close()


@pytest.fixture(scope="module")
def app(database, tmp_path_factory):
    app = ProductionApp(database, tmp_path_factory.mktemp("app"))
    app.deploy()
    yield app
    app.stop()


@pytest.fixture(scope="module")
def reviewer(app):
    browser = app.browser()
    response = browser.log_in(*REVIEWER)
    assert response.status == 302, response.body[-2000:]
    return browser


def json_lines(app: ProductionApp) -> list[dict]:
    return [json.loads(line) for line in app.log_lines() if line.startswith("{")]


def test_plain_http_is_redirected_to_https(app):
    browser = app.browser()
    response = browser.get("/login/", headers={"X-Forwarded-Proto": "http"})
    assert response.status == 301
    assert response.headers["location"] == f"https://127.0.0.1:{app.port}/login/"


def test_https_responses_carry_hsts_and_secure_cookies(app):
    browser = app.browser()
    page = browser.get("/login/")

    assert page.status == 200
    assert page.headers["strict-transport-security"] == "max-age=31536000; includeSubDomains; preload"
    csrf_cookie = next(cookie for cookie in page.cookies if cookie.startswith("csrftoken="))
    assert "Secure" in csrf_cookie

    browser.log_in(*REVIEWER)
    session_cookie = next(cookie for cookie in browser.log_in(*REVIEWER).cookies if cookie.startswith("sessionid="))
    assert "Secure" in session_cookie and "HttpOnly" in session_cookie


def test_static_files_are_served_hashed_and_cached_for_good(app, reviewer):
    page = reviewer.get("/")
    stylesheet = re.search(r'href="(/static/approvals/app\.[0-9a-f]{12}\.css)"', page.body).group(1)

    response = reviewer.get(stylesheet)

    assert response.status == 200
    assert "immutable" in response.headers["cache-control"]
    assert ".queue" in response.body or ":root" in response.body


def logged(app: ProductionApp, predicate, *, timeout: float = 10):
    """The first log line matching predicate; gunicorn writes its access line after the response."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for line in app.log_lines():
            if predicate(line):
                return line
        time.sleep(0.05)
    raise AssertionError("no such log line")


def test_each_request_is_one_json_log_line_with_its_id_and_user(app, reviewer):
    response = reviewer.get("/history/", headers={"X-Request-ID": "trace-history-1"})

    assert response.status == 200
    assert response.headers["x-request-id"] == "trace-history-1"
    line = json.loads(logged(app, lambda line: line.startswith("{") and '"trace-history-1"' in line))
    assert line["user"] == REVIEWER[0]
    assert (line["path"], line["status"], line["logger"]) == ("/history/", 200, "approvals.requests")
    # gunicorn's access line carries the same id.
    assert logged(app, lambda line: line.startswith("127.0.0.1") and "request_id=trace-history-1" in line)


def worker_pids(app: ProductionApp) -> set[int]:
    return {child.pid for child in psutil.Process(app.process.pid).children()}


def wait_for(predicate, *, timeout: float) -> float:
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        if predicate():
            return time.monotonic() - started
        time.sleep(0.1)
    raise AssertionError(f"not recovered within {timeout} s")


def test_database_restart_during_traffic_is_a_503_then_recovers_without_a_restart(app, database, reviewer):
    assert reviewer.get("/").status == 200
    workers = worker_pids(app)
    assert len(workers) == 2

    database.stop()
    try:
        # Enough requests that both workers meet the outage with their stale connections.
        outage = [reviewer.get("/", headers={"X-Request-ID": f"outage-{n}"}) for n in range(6)]
        health = app.browser().get("/healthz")
    finally:
        database.start()

    for response in outage:
        assert response.status == 503
        assert "The database is unavailable" in response.body
        assert "Traceback" not in response.body and "psycopg" not in response.body
        assert response.headers["retry-after"] == "10"
    assert health.status == 503 and json.loads(health.body) == {"database": "unavailable"}
    request_lines = {line["request_id"]: line for line in json_lines(app) if line["logger"] == "approvals.requests"}
    assert all(request_lines[f"outage-{n}"]["status"] == 503 for n in range(6))
    # One short line says why, not a traceback per request.
    reported = next(
        line for line in json_lines(app) if line["logger"] == "django.request" and line["request_id"] == "outage-0"
    )
    assert reported["error"].startswith("OperationalError: ") and "exception" not in reported

    seconds = wait_for(lambda: app.browser().get("/healthz").status == 200, timeout=30)
    queue = reviewer.get("/")
    assert queue.status == 200, queue.body[-1000:]
    assert "Queue" in queue.body  # still logged in: the session survived in the database
    assert all(reviewer.get("/history/").status == 200 for _ in range(4))  # both workers reconnected
    assert app.process.poll() is None and worker_pids(app) == workers  # no restart, no worker replaced
    assert seconds < 10
