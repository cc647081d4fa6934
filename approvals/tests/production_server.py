"""The app as deployed: gunicorn with gunicorn.conf.py and production settings, on a PostgreSQL of its own.

The database is a dedicated pgserver instance in a temporary folder, so a test
can stop and start it without touching the shared test server. Requests go
over real HTTP as if through a TLS-terminating proxy (X-Forwarded-Proto:
https, BEHIND_PROXY=1); cookies are kept by hand because they are Secure.
"""

import contextlib
import http.client
import os
import re
import secrets
import socket
import subprocess
import sys
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote, urlencode

ROOT = Path(__file__).resolve().parents[2]
REVIEWER = ("ops-reviewer", "a-long-test-password-7")
# The test run's own settings (and Playwright's async-unsafe switch) stay out of the deployed app.
LEFT_OUT_OF_PRODUCTION = {"DEBUG", "DATABASE_URL", "STORAGE_BACKEND", "DJANGO_ALLOW_ASYNC_UNSAFE", "BEHIND_PROXY"}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class DedicatedPostgres:
    """pgserver's PostgreSQL in `pgdata`, listening on a socket only; stop() and start() at will."""

    def __init__(self, pgdata: Path):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # platformdirs, when XDG_RUNTIME_DIR is unset
            import pgserver

        self._pgserver = pgserver
        self.pgdata = pgdata
        self.server = pgserver.get_server(pgdata, cleanup_mode="stop")
        self.socket_dir = self.server.get_postmaster_info().socket_dir

    @property
    def url(self) -> str:
        return f"postgresql://postgres@/postgres?host={quote(str(self.socket_dir))}"

    def _pg_ctl(self, *args: str) -> None:
        self._pgserver.pg_ctl(list(args), pgdata=self.pgdata, user=self.server.system_user, timeout=60)

    def stop(self) -> None:
        # fast: end every session now, as a crash or a failover would.
        self._pg_ctl("-w", "-m", "fast", "stop")

    def start(self) -> None:
        # The options pgserver starts it with: no TCP, the same socket folder.
        self._pg_ctl("-w", "-o", '-h ""', "-o", f"-k {self.socket_dir}", "-l", str(self.pgdata / "log"), "start")

    def close(self) -> None:
        with contextlib.suppress(subprocess.CalledProcessError):  # already stopped
            self.stop()


@dataclass
class Response:
    status: int
    headers: dict[str, str]
    cookies: list[str]
    body: str


@dataclass
class Browser:
    """An HTTP client that arrives through an HTTPS proxy and keeps its (Secure) cookies."""

    port: int
    cookies: dict[str, str] = field(default_factory=dict)

    @property
    def origin(self) -> str:
        return f"https://127.0.0.1:{self.port}"

    def request(self, method: str, path: str, *, form: dict | None = None, headers: dict | None = None) -> Response:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        sent = {"X-Forwarded-Proto": "https", "Host": f"127.0.0.1:{self.port}", **(headers or {})}
        if self.cookies:
            sent["Cookie"] = "; ".join(f"{name}={value}" for name, value in self.cookies.items())
        body = None
        if form is not None:
            body = urlencode(form)
            sent.update({"Content-Type": "application/x-www-form-urlencoded", "Origin": self.origin})
        try:
            conn.request(method, path, body=body, headers=sent)
            raw = conn.getresponse()
            text = raw.read().decode("utf-8", "replace")
        finally:
            conn.close()
        set_cookies = [value for name, value in raw.getheaders() if name.lower() == "set-cookie"]
        for cookie in set_cookies:
            name, _, rest = cookie.partition("=")
            self.cookies[name] = rest.split(";", 1)[0]
        return Response(raw.status, {k.lower(): v for k, v in raw.getheaders()}, set_cookies, text)

    def get(self, path: str, **kwargs) -> Response:
        return self.request("GET", path, **kwargs)

    def log_in(self, username: str, password: str) -> Response:
        page = self.get("/login/")
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.body).group(1)
        return self.request(
            "POST", "/login/", form={"csrfmiddlewaretoken": token, "username": username, "password": password}
        )


class ProductionApp:
    """gunicorn on a free port against `database`; logs go to files under `workdir`."""

    def __init__(self, database: DedicatedPostgres, workdir: Path):
        self.database = database
        self.port = free_port()
        self.stdout_path = workdir / "gunicorn.out"
        self.stderr_path = workdir / "gunicorn.err"
        self.env = {
            **{k: v for k, v in os.environ.items() if k not in LEFT_OUT_OF_PRODUCTION},
            "DEBUG": "0",
            "SECRET_KEY": secrets.token_urlsafe(50),
            "ALLOWED_HOSTS": "127.0.0.1",
            "BEHIND_PROXY": "1",
            "DATABASE_URL": database.url,
            "DATABASE_CONNECT_TIMEOUT": "2",
            "STATIC_ROOT": str(workdir / "static"),
            "STORAGE_ROOT": str(workdir / "storage"),
            "BIND": f"127.0.0.1:{self.port}",
            "WEB_CONCURRENCY": "2",
            "DJANGO_SUPERUSER_PASSWORD": REVIEWER[1],
            "PYTHONUNBUFFERED": "1",
        }
        self.process: subprocess.Popen | None = None

    def manage(self, *args: str) -> None:
        result = subprocess.run(
            [sys.executable, "manage.py", *args], cwd=ROOT, env=self.env, capture_output=True, text=True, timeout=300
        )
        if result.returncode != 0:
            raise RuntimeError(f"manage.py {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}")

    def deploy(self) -> None:
        """The release steps of docs/deploy.md, then gunicorn."""
        self.manage("apply_sql", "--wait", "30")
        self.manage("migrate", "--noinput")
        self.manage("collectstatic", "--noinput")
        self.manage("createsuperuser", "--noinput", "--username", REVIEWER[0], "--email", "ops@example.com")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py", "flowsite.wsgi:application"],
            cwd=ROOT,
            env=self.env,
            stdout=self.stdout_path.open("w"),
            stderr=self.stderr_path.open("w"),
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if self.browser().get("/healthz").status == 200:
                    return
            except OSError:
                pass
            if self.process.poll() is not None:
                break
            time.sleep(0.2)
        raise RuntimeError(f"gunicorn did not start:\n{self.stderr_path.read_text()[-3000:]}")

    def browser(self) -> Browser:
        return Browser(self.port)

    def log_lines(self) -> list[str]:
        return self.stdout_path.read_text().splitlines()

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=30)
