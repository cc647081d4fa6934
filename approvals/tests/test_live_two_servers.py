"""Live updates with two app servers on one database: a change made through one is seen through the other.

Two gunicorn processes (one worker each) on the test database: nothing about
claims or decisions may live in one server's memory.
"""

import http.client
import os
import re
import socket
import subprocess
import sys
import time
from contextlib import ExitStack, contextmanager
from pathlib import Path
from urllib.parse import quote, urlencode

import pytest
from django.contrib.auth.hashers import PBKDF2PasswordHasher
from django.db import connections

from approvals.models import Approval
from approvals.tests.factories import make_pending_review, make_reviewer
from approvals.tests.production_server import LEFT_OUT_OF_PRODUCTION

pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("transactional_pipeline_db")]

ROOT = Path(__file__).resolve().parents[2]
PORTS = range(8300, 8400)  # this feature's servers' range on the shared machine
PASSWORD = "review-pass-123"


def free_port() -> int:
    for port in PORTS:
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError(f"no free port in {PORTS}")


def test_database_url() -> str:
    settings = connections["default"].settings_dict
    user = quote(settings["USER"] or "")
    password = f":{quote(settings['PASSWORD'])}" if settings["PASSWORD"] else ""
    host, port = settings["HOST"] or "", settings["PORT"] or ""
    if host.startswith("/"):  # a socket folder (the embedded server)
        return f"postgresql://{user}{password}@/{quote(settings['NAME'])}?host={quote(host)}"
    return f"postgresql://{user}{password}@{host}{':' + port if port else ''}/{quote(settings['NAME'])}"


test_database_url.__test__ = False  # a helper, not a test


@contextmanager
def app_server(tmp_path: Path, name: str):
    port = free_port()
    env = {
        **{k: v for k, v in os.environ.items() if k not in LEFT_OUT_OF_PRODUCTION},
        "DEBUG": "1",
        "DATABASE_URL": test_database_url(),
        "BIND": f"127.0.0.1:{port}",
        "WEB_CONCURRENCY": "1",
        "GUNICORN_ACCESS_LOG": "",
        "LOG_LEVEL": "warning",
        "LIVE_POLL_SECONDS": "1",
    }
    log = (tmp_path / f"{name}.log").open("w")
    process = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py", "flowsite.wsgi:application"],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 60
        while Client(port).request("GET", "/healthz", allow_refused=True) != 200:
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"{name} did not start:\n{(tmp_path / f'{name}.log').read_text()[-3000:]}")
            time.sleep(0.2)
        yield port
    finally:
        process.terminate()
        process.wait(timeout=30)
        log.close()


class Client:
    """A logged-in reviewer on one server: cookies kept, CSRF token sent as Django expects."""

    def __init__(self, port: int):
        self.port = port
        self.cookies: dict[str, str] = {}
        self.body = ""

    def request(self, method: str, path: str, form: dict | None = None, *, allow_refused: bool = False) -> int:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        headers = {"Cookie": "; ".join(f"{k}={v}" for k, v in self.cookies.items())}
        body = None
        if form is not None:
            body = urlencode(form, doseq=True)
            headers |= {"Content-Type": "application/x-www-form-urlencoded", "X-CSRFToken": self.cookies["csrftoken"]}
        try:
            conn.request(method, path, body=body, headers=headers)
            response = conn.getresponse()
        except ConnectionRefusedError:
            if allow_refused:
                return 0
            raise
        self.body = response.read().decode()
        for name, value in response.getheaders():
            if name.lower() == "set-cookie":
                key, _, rest = value.partition("=")
                self.cookies[key] = rest.split(";", 1)[0]
        conn.close()
        return response.status

    def log_in(self, username: str) -> None:
        self.request("GET", "/login/")
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', self.body).group(1)
        status = self.request(
            "POST", "/login/", {"username": username, "password": PASSWORD, "csrfmiddlewaretoken": token}
        )
        assert status == 302, self.body[:500]


def test_a_claim_and_a_decision_through_one_server_show_through_the_other(tmp_path):
    first, second = make_pending_review(name="first-post"), make_pending_review(name="second-post")
    for username in ("ana", "ben"):
        # Hashed as the servers' settings can check (the suite's own hasher is a test-only one).
        user = make_reviewer(username)
        user.password = PBKDF2PasswordHasher().encode(PASSWORD, "saltsaltsalt", iterations=1_000)
        user.save(update_fields=["password"])
    with ExitStack() as servers:
        port_a = servers.enter_context(app_server(tmp_path, "server-a"))
        port_b = servers.enter_context(app_server(tmp_path, "server-b"))
        ana, ben = Client(port_a), Client(port_b)
        ana.log_in("ana")
        ben.log_in("ben")

        assert ben.request("GET", "/") == 200
        fingerprint = re.search(r'hx-vals=\'\{"fingerprint": "([0-9a-f]+)"\}\'', ben.body).group(1)
        shown = re.findall(r'name="live" value="([0-9a-f-]+)"', ben.body)
        assert ben.request("POST", "/live/queue/", {"fingerprint": fingerprint, "live": shown}) == 204

        assert ana.request("GET", f"/approvals/{second.id}/") == 200  # through server A
        assert (
            ben.request("POST", "/live/queue/", {"fingerprint": fingerprint, "live": shown}) == 200
        )  # through server B
        assert re.search(rf'id="queue-row-{second.artifact_id}".*?Reviewing: ana', ben.body, re.S)

        token = ana.cookies["csrftoken"]
        decided = ana.request(
            "POST", f"/approvals/{second.id}/decide/", {"decision": "approved", "csrfmiddlewaretoken": token}
        )
        assert decided == 303
        assert ben.request("POST", "/live/queue/", {"fingerprint": fingerprint, "live": shown}) == 200
        assert f'<tr id="queue-row-{second.artifact_id}" class="queue-gone" hidden' in ben.body
        assert Approval.objects.get(id=second.id).status == "approved"
        assert first.id != second.id
