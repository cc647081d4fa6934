"""Benchmark databases and a production-like server for them.

Each scale gets a database of its own on the benchmark's PostgreSQL server
(DATABASE_URL's server when set, else the embedded one), built by the same
commands a deployer runs: apply_sql, migrate, then seed_bulk.
"""

import http.client
import os
import re
import secrets
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlencode, urlsplit, urlunsplit

import psycopg

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
BENCH_PASSWORD = "bench-" + secrets.token_urlsafe(12)
REVIEWERS = [f"bench_reviewer_{n}" for n in range(1, 9)]
OPS_USER = "bench_ops"


def server_url() -> str:
    """URL of the server's maintenance database, starting the embedded server if that is the one."""
    if os.environ.get("DATABASE_URL"):
        return os.environ["DATABASE_URL"]
    sys.path.insert(0, str(ROOT))
    from approvals.plumbing.embedded_postgres.base import ensure_embedded_server

    data_dir = ROOT / "var" / "pgdata"
    ensure_embedded_server(str(data_dir))
    return f"postgresql://postgres@/postgres?host={data_dir}"


def database_url(name: str) -> str:
    parts = urlsplit(server_url())
    return urlunsplit(parts._replace(path="/" + name))


def maintenance_url() -> str:
    """The server's `postgres` database: where databases are created and dropped (never one of them)."""
    return database_url("postgres")


@contextmanager
def base_checkout(ref: str):
    """`ref` checked out (detached) in a temporary folder, removed afterwards: the "before" of a comparison."""
    folder = Path(tempfile.mkdtemp(prefix="bench-base-"))
    subprocess.run(["git", "worktree", "add", "--detach", str(folder), ref], cwd=ROOT, check=True, capture_output=True)
    try:
        yield folder
    finally:
        subprocess.run(
            ["git", "worktree", "remove", "--force", str(folder)], cwd=ROOT, check=False, capture_output=True
        )


def manage(*args: str, database: str, root: Path = ROOT) -> subprocess.CompletedProcess:
    """`manage.py` of the checkout at `root` (this one, or a base checkout) on the benchmark database `database`."""
    result = subprocess.run(
        [PYTHON, "manage.py", *args],
        cwd=root,
        env={**os.environ, "DATABASE_URL": database_url(database)},
        capture_output=True,
        text=True,
    )
    if result.returncode != 0:
        raise RuntimeError(f"manage.py {' '.join(args)} in {root} failed:\n{result.stdout}\n{result.stderr}")
    return result


def timed_manage(*args: str, database: str) -> float:
    started = time.perf_counter()
    manage(*args, database=database)
    return time.perf_counter() - started


def database_is_seeded(name: str, artifacts: int) -> bool:
    try:
        with psycopg.connect(database_url(name), connect_timeout=5) as conn:
            count = conn.execute("select count(*) from artifacts").fetchone()[0]
    except psycopg.Error:
        return False
    return count == artifacts


def recreate_database(name: str) -> None:
    with psycopg.connect(maintenance_url(), autocommit=True) as conn:
        conn.execute(f'drop database if exists "{name}" with (force)')
        conn.execute(f'create database "{name}"')


def drop_database(name: str) -> None:
    with psycopg.connect(maintenance_url(), autocommit=True) as conn:
        conn.execute(f'drop database if exists "{name}" with (force)')


def run_database_name(prefix: str) -> str:
    """A database name no other run uses: smoke runs in the suite never touch a kept `--reuse` database."""
    return f"{prefix}_{os.getpid()}_{secrets.token_hex(3)}"


@contextmanager
def tiny_database(prefix: str, *, artifacts: int, pending: int | None = None, log=print):
    """A freshly built and seeded database of this run's own (a smoke run's); dropped at the end."""
    name = run_database_name(prefix)
    try:
        build_database(name, template=None, artifacts=artifacts, pending=pending, log=log)
        yield name
    finally:
        drop_database(name)


def apply_sql_seconds(name: str = "bench_apply_sql", runs: int = 3) -> dict:
    """Medians of `manage.py apply_sql` on an empty database and of a second run with nothing to do.

    Whole processes (Django's start-up included), and for the first run also
    the time the runner reports for the files themselves.
    """
    fresh, files, noop = [], [], []
    for _ in range(runs):
        recreate_database(name)
        started = time.perf_counter()
        output = manage("apply_sql", database=name).stdout
        fresh.append(time.perf_counter() - started)
        files.append(sum(int(ms) for ms in re.findall(r"OK \((\d+) ms\)", output)) / 1000)
        noop.append(timed_manage("apply_sql", database=name))
    drop_database(name)
    return {
        "runs": runs,
        "apply_sql_fresh_s": statistics.median(fresh),
        "apply_sql_files_s": statistics.median(files),
        "apply_sql_noop_s": statistics.median(noop),
    }


# The schema as a deployer builds it (apply_sql, then migrate), in a `manage.py shell` of its own or before more.
SCHEMA_SCRIPT = (
    "from django.core.management import call_command\n"
    "call_command('apply_sql')\n"
    "call_command('migrate', interactive=False)\n"
)

# The benchmark's reviewers and a staff superuser, all with this run's password,
# hashed once (the app's hasher is slow on purpose; logins still pay it).
USERS_SCRIPT = (
    "from django.contrib.auth.hashers import make_password\n"
    "from django.contrib.auth.models import Group, User\n"
    "reviewers = Group.objects.get(name='Reviewers')\n"
    f"hashed = make_password({BENCH_PASSWORD!r})\n"
    f"for username in {REVIEWERS!r}:\n"
    "    user, _ = User.objects.get_or_create(username=username)\n"
    "    user.password = hashed; user.save(); user.groups.add(reviewers)\n"
    f"ops, _ = User.objects.get_or_create(username={OPS_USER!r})\n"
    "ops.is_staff = ops.is_superuser = True; ops.password = hashed; ops.save()\n"
)


@contextmanager
def schema_template(prefix: str = "bench_schema"):
    """An empty database built as a deployer builds one (apply_sql, then migrate), dropped at the end.

    The run's databases are copies of it (CREATE DATABASE ... TEMPLATE): the
    same schema without a Django start-up per database.
    """
    name = run_database_name(prefix)
    try:
        recreate_database(name)
        manage("shell", "-c", SCHEMA_SCRIPT, database=name)
        yield name
    finally:
        drop_database(name)


def build_database(
    name: str,
    *,
    template: str | None,
    artifacts: int,
    pending: int | None = None,
    root: Path = ROOT,
    log=print,
) -> None:
    """A fresh database at this scale: the schema (a copy of `template`, or apply_sql and migrate), seed_bulk, users.

    `root` is the checkout whose commands build it: a base checkout builds its own schema.
    """
    if template:
        with psycopg.connect(maintenance_url(), autocommit=True) as conn:
            conn.execute(f'drop database if exists "{name}" with (force)')
            conn.execute(f'create database "{name}" template "{template}"')
    else:
        recreate_database(name)
    started = time.perf_counter()
    # One process for the schema, seed_bulk and the users: Django starts once.
    seed = f"from django.core.management import call_command\ncall_command('seed_bulk', artifacts={artifacts}"
    seed += f", pending={pending})\n" if pending is not None else ")\n"
    manage("shell", "-c", ("" if template else SCHEMA_SCRIPT) + seed + USERS_SCRIPT, database=name, root=root)
    built = "seeded" if template else "built the schema, seeded"
    log(f"  {name}: {built} {artifacts:,} artifacts and the users in {time.perf_counter() - started:.1f} s")


def reset_passwords(name: str, root: Path = ROOT) -> None:
    """A reused database keeps its users; this run's password is new."""
    manage("shell", "-c", USERS_SCRIPT, database=name, root=root)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def production_env(database: str) -> dict:
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "bench.settings",
        "DEBUG": "0",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "SECURE_SSL_REDIRECT": "0",
        "DATABASE_URL": database_url(database),
        "WEB_CONCURRENCY": "2",
        "LOG_LEVEL": "warning",
    }


_static_collected: set[tuple[Path, str]] = set()
_static_collecting = threading.Lock()  # servers started from two threads wait for one collectstatic


def collect_static(env: dict, root: Path = ROOT) -> None:
    """With DEBUG off the pages link the hashed names collectstatic writes (a page without them is a 500).

    Once per run, checkout and STATIC_ROOT: the files do not change during a run.
    """
    key = (root, env.get("STATIC_ROOT", ""))
    with _static_collecting:
        if key in _static_collected:
            return
        subprocess.run(
            [PYTHON, "manage.py", "collectstatic", "--noinput"], cwd=root, env=env, check=True, capture_output=True
        )
        _static_collected.add(key)


@dataclass(frozen=True)
class Server:
    base: str  # e.g. http://127.0.0.1:8300
    pid: int  # gunicorn's master; its workers are its children


@contextmanager
def gunicorn_at(root: Path, database: str, *, workers: int = 2):
    """That checkout's gunicorn (its gunicorn.conf.py, DEBUG off) on a free port, stopped afterwards."""
    port = free_port()
    env = production_env(database)
    if root != ROOT:  # a base checkout's static files differ from this one's: never in the same folder
        env["STATIC_ROOT"] = str(root / "staticfiles")
    collect_static(env, root)
    process = subprocess.Popen(
        [PYTHON, "-m", "gunicorn", "-c", "gunicorn.conf.py", "--bind", f"127.0.0.1:{port}"]
        + ["--workers", str(workers), "--access-logfile", "/dev/null", "flowsite.wsgi:application"],
        cwd=root,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if get(base, "/healthz")[0] == 200:
                    break
            except OSError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"gunicorn in {root} did not start: {process.stderr.read()[-2000:]}")
            time.sleep(0.2)
        yield Server(base=base, pid=process.pid)
    finally:
        process.terminate()
        process.wait(timeout=30)


def get(base: str, path: str, cookie: str = "") -> tuple[int, dict, str]:
    host, port = urlsplit(base).hostname, urlsplit(base).port
    conn = http.client.HTTPConnection(host, port, timeout=30)
    conn.request("GET", path, headers={"Cookie": cookie} if cookie else {})
    response = conn.getresponse()
    body = response.read().decode("utf-8", "replace")
    headers = {k.lower(): v for k, v in response.getheaders()}
    cookies = [v for k, v in response.getheaders() if k.lower() == "set-cookie"]
    headers["set-cookie-all"] = cookies
    conn.close()
    return response.status, headers, body


def post(base: str, path: str, fields: dict, cookie: str) -> tuple[int, dict]:
    host, port = urlsplit(base).hostname, urlsplit(base).port
    conn = http.client.HTTPConnection(host, port, timeout=30)
    conn.request(
        "POST",
        path,
        body=urlencode(fields),
        headers={"Cookie": cookie, "Content-Type": "application/x-www-form-urlencoded", "Referer": base + path},
    )
    response = conn.getresponse()
    response.read()
    headers = {k.lower(): v for k, v in response.getheaders()}
    headers["set-cookie-all"] = [v for k, v in response.getheaders() if k.lower() == "set-cookie"]
    conn.close()
    return response.status, headers


def cookie_value(set_cookies: list[str], name: str) -> str | None:
    for header in set_cookies:
        match = re.match(rf"{name}=([^;]*)", header)
        if match:
            return match.group(1)
    return None


def log_in(base: str, username: str) -> tuple[str, str]:
    """Log in through the login form; returns (Cookie header, CSRF token)."""
    status, headers, body = get(base, "/login/")
    form_token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', body)
    if status != 200 or not form_token:
        raise RuntimeError(f"the login page answered HTTP {status} without a form")
    csrf = cookie_value(headers["set-cookie-all"], "csrftoken")
    token = form_token.group(1)
    status, headers = post(
        base,
        "/login/",
        {"username": username, "password": BENCH_PASSWORD, "csrfmiddlewaretoken": token},
        f"csrftoken={csrf}",
    )
    session = cookie_value(headers["set-cookie-all"], "sessionid")
    if status != 302 or not session:
        raise RuntimeError(f"login as {username} failed with HTTP {status}")
    csrf = cookie_value(headers["set-cookie-all"], "csrftoken") or csrf
    return f"sessionid={session}; csrftoken={csrf}", csrf
