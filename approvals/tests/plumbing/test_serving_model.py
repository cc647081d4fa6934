"""How gunicorn serves: long downloads complete, pages stay fast beside them, forwarded headers trusted only when told.

The app runs as deployed (gunicorn.conf.py, production settings) with
BEHIND_PROXY=0 and plain HTTP, and with a short worker timeout so that a
download lasting longer than it takes seconds, not minutes. The clients
read deliberately slowly, as a reviewer on a slow link would.
"""

import os
import socket
import statistics
import subprocess
import sys
import threading
import time

import psycopg
import pytest

from approvals.tests.production_server import REVIEWER, ROOT, DedicatedPostgres, ProductionApp

pytestmark = pytest.mark.slow

VIDEO_BYTES = 80 * 1024 * 1024
WORKER_TIMEOUT_SECONDS = 3


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    database = DedicatedPostgres(tmp_path_factory.mktemp("serving") / "pgdata")
    app = ProductionApp(database, tmp_path_factory.mktemp("serving-app"))
    app.env.update(BEHIND_PROXY="0", SECURE_SSL_REDIRECT="0", GUNICORN_TIMEOUT=str(WORKER_TIMEOUT_SECONDS))
    app.deploy()
    yield app
    app.stop()
    database.close()


@pytest.fixture(scope="module")
def session_key(app) -> str:
    """A logged-in session made server-side (a plain-HTTP login would need a non-Secure cookie)."""
    code = (
        "from django.contrib.auth import get_user_model; from django.contrib.sessions.backends.db import SessionStore; "
        f"user = get_user_model().objects.get(username={REVIEWER[0]!r}); session = SessionStore(); "
        "session['_auth_user_id'] = str(user.pk); "
        "session['_auth_user_backend'] = 'approvals.plumbing.auth_backend.OneQueryModelBackend'; "
        "session['_auth_user_hash'] = user.get_session_auth_hash(); session.create(); print(session.session_key)"
    )
    result = subprocess.run(
        [sys.executable, "manage.py", "shell", "-c", code], cwd=ROOT, env=app.env, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.strip().splitlines()[-1]


@pytest.fixture(scope="module")
def video_url(app) -> str:
    """An 80 MB file artifact, stored where the app's local storage reads it."""
    key = "proj/launch/teaser.mp4"
    path = app.env["STORAGE_ROOT"] + "/" + key
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as file:
        for _ in range(VIDEO_BYTES // (1024 * 1024)):
            file.write(os.urandom(1024 * 1024))
    with psycopg.connect(app.database.url, autocommit=True) as connection:
        project_id = connection.execute("insert into projects (name) values ('Serving') returning id").fetchone()[0]
        artifact_id = connection.execute(
            "insert into artifacts (project_id, name, kind, storage_path, mime_type, size_bytes) "
            "values (%s, 'teaser.mp4', 'file', %s, 'video/mp4', %s) returning id",
            [project_id, key, VIDEO_BYTES],
        ).fetchone()[0]
    return f"/artifacts/{artifact_id}/file/?download=1"


def get(app, path: str, session: str, *, bytes_per_second: float | None = None, stop: threading.Event | None = None):
    """(status, body bytes received) for a GET, read at most bytes_per_second, until the end or `stop`."""
    with socket.create_connection(("127.0.0.1", app.port), timeout=60) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 64 * 1024)
        request = f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nCookie: sessionid={session}\r\nConnection: close\r\n\r\n"
        sock.sendall(request.encode())
        started, raw = time.monotonic(), b""
        while b"\r\n\r\n" not in raw:
            raw += sock.recv(65536)
        head, _, body = raw.partition(b"\r\n\r\n")
        received = len(body)
        while not (stop and stop.is_set()):
            data = sock.recv(65536)
            if not data:
                break
            received += len(data)
            if bytes_per_second:
                time.sleep(max(0.0, received / bytes_per_second - (time.monotonic() - started)))
    return int(head.split(b" ", 2)[1]), received


def test_without_behind_proxy_gunicorn_does_not_take_the_scheme_from_loopback(app):
    # Were X-Forwarded-Proto trusted, this plain-HTTP request would count as HTTPS and get HSTS.
    response = app.browser().get("/login/", headers={"X-Forwarded-Proto": "https"})

    assert response.status == 200
    assert "strict-transport-security" not in response.headers


def test_an_80_mb_download_slower_than_the_worker_timeout_completes(app, session_key, video_url):
    started = time.monotonic()

    status, received = get(app, video_url, session_key, bytes_per_second=VIDEO_BYTES / (WORKER_TIMEOUT_SECONDS * 2))

    assert status == 200
    assert received == VIDEO_BYTES
    assert time.monotonic() - started > WORKER_TIMEOUT_SECONDS * 1.5


def test_reviewer_pages_stay_fast_while_four_slow_downloads_run(app, session_key, video_url):
    stop = threading.Event()
    downloads = [
        threading.Thread(target=get, args=(app, video_url, session_key), kwargs={"bytes_per_second": 1e6, "stop": stop})
        for _ in range(4)
    ]
    for download in downloads:
        download.start()
    time.sleep(1)  # all four are streaming now
    latencies = []
    try:
        for _ in range(8):
            started = time.monotonic()
            status, _ = get(app, "/", session_key)
            latencies.append(time.monotonic() - started)
            assert status == 200
    finally:
        stop.set()
        for download in downloads:
            download.join(timeout=30)

    print(f"queue page while four slow downloads run: {[round(t * 1000) for t in latencies]} ms")
    assert max(latencies) < 2.0
    assert statistics.median(latencies) < 0.5
