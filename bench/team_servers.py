"""Servers for the team benchmarks, from any checkout: manage.py and gunicorn run in that checkout's folder.

The base checkout is a temporary `git worktree`, so these take its root;
servers listen on this feature's ports (8300-8399) of the shared machine.
"""

import os
import socket
import subprocess
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from bench.environment import BENCH_PASSWORD, PYTHON, REVIEWERS, database_url, get, production_env

PORTS = range(8300, 8400)


@dataclass(frozen=True)
class Server:
    base: str  # e.g. http://127.0.0.1:8300
    pid: int  # gunicorn's master; its workers are its children


def manage_at(root: Path, *args: str, database: str) -> subprocess.CompletedProcess:
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


def create_reviewers(root: Path, database: str) -> None:
    """The eight benchmark reviewers, in the Reviewers group, with this run's password (set the app's way)."""
    script = (
        "from django.contrib.auth.models import Group, User\n"
        "reviewers = Group.objects.get(name='Reviewers')\n"
        f"for username in {REVIEWERS!r}:\n"
        "    user, _ = User.objects.get_or_create(username=username)\n"
        f"    user.set_password({BENCH_PASSWORD!r}); user.save(); user.groups.add(reviewers)\n"
    )
    manage_at(root, "shell", "-c", script, database=database)


def free_port() -> int:
    for port in PORTS:
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError(f"no free port in {PORTS.start}-{PORTS.stop - 1}")


@contextmanager
def gunicorn_at(root: Path, database: str, *, workers: int = 2):
    """That checkout's gunicorn (its gunicorn.conf.py, DEBUG off), stopped afterwards."""
    port = free_port()
    env = production_env(database)
    subprocess.run(
        [PYTHON, "manage.py", "collectstatic", "--noinput"], cwd=root, env=env, check=True, capture_output=True
    )
    process = subprocess.Popen(
        [
            PYTHON,
            "-m",
            "gunicorn",
            "-c",
            "gunicorn.conf.py",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            str(workers),
            "--access-logfile",
            "/dev/null",
            "flowsite.wsgi:application",
        ],
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
