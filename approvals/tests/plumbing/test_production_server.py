"""The deployed shape, end to end: gunicorn with production settings on a PostgreSQL that a test stops and starts.

During the outage pages answer 503 saying the database is unavailable (never
a traceback); once the server is back the same workers serve again, with no
restart of the app.
"""

import http.client
import json
import os
import re
import runpy
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psutil
import pytest

from approvals.tests.production_server import REVIEWER, ROOT, DedicatedPostgres, ProductionApp

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


# --- Behind the proxy: gunicorn takes the scheme from X-Forwarded-Proto alone ----------------------------
# The header docs/deploy.md has the proxy set and Django reads: not from X-Forwarded-Ssl,
# X-Forwarded-Protocol or a client's SCRIPT_NAME header, which such a proxy passes through untouched.
# Requests come from loopback, the address FORWARDED_ALLOW_IPS trusts by default, as through the proxy.


def plain_http_get(app: ProductionApp, path: str, headers: dict[str, str]) -> http.client.HTTPResponse:
    """A GET over plain HTTP carrying only `headers` (no X-Forwarded-Proto unless given)."""
    conn = http.client.HTTPConnection("127.0.0.1", app.port, timeout=30)
    try:
        conn.request("GET", path, headers={"Host": f"127.0.0.1:{app.port}", **headers})
        response = conn.getresponse()
        response.read()
        return response
    finally:
        conn.close()


@pytest.mark.parametrize(
    "claim",
    [{"X-Forwarded-Ssl": "on"}, {"X-Forwarded-Protocol": "ssl"}],
    ids=["X-Forwarded-Ssl", "X-Forwarded-Protocol"],
)
def test_a_scheme_header_the_proxy_does_not_set_does_not_make_plain_http_https(app, claim):
    response = plain_http_get(app, "/login/", claim)

    # Plain HTTP as Django sees it: redirected to HTTPS, no HSTS.
    assert response.status == 301
    assert response.getheader("Location") == f"https://127.0.0.1:{app.port}/login/"
    assert response.getheader("Strict-Transport-Security") is None


def test_x_forwarded_proto_from_the_proxy_still_makes_the_request_https(app):
    response = plain_http_get(app, "/login/", {"X-Forwarded-Proto": "https"})

    assert response.status == 200
    assert response.getheader("Strict-Transport-Security")


def test_a_contrary_header_beside_the_proxys_does_not_refuse_the_request(app):
    # Gunicorn's default compared both and answered 400 to a proxied HTTPS request.
    response = plain_http_get(app, "/login/", {"X-Forwarded-Proto": "https", "X-Forwarded-Ssl": "off"})

    assert response.status == 200


def test_a_clients_script_name_header_does_not_move_the_apps_urls(app):
    response = plain_http_get(app, "/login/", {"X-Forwarded-Proto": "https", "SCRIPT_NAME": "/login"})

    assert response.status == 200


def django_setting(app: ProductionApp, name: str):
    """A setting as the deployed app reads it from its environment."""
    code = f"import json, django; from django.conf import settings; django.setup(); print(json.dumps(settings.{name}))"
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env={**app.env, "DJANGO_SETTINGS_MODULE": "flowsite.settings"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_gunicorn_believes_the_scheme_header_django_reads_and_no_other(app, monkeypatch):
    monkeypatch.setenv("BEHIND_PROXY", app.env["BEHIND_PROXY"])
    monkeypatch.delenv("FORWARDED_ALLOW_IPS", raising=False)
    gunicorn = runpy.run_path(str(ROOT / "gunicorn.conf.py"))
    header, value = django_setting(app, "SECURE_PROXY_SSL_HEADER")

    assert {f"HTTP_{name.replace('-', '_')}": v for name, v in gunicorn["secure_scheme_headers"].items()} == {
        header: value
    }
    assert gunicorn["forwarded_allow_ips"] == "127.0.0.1,::1"
    assert gunicorn["forwarder_headers"] == ""
