"""Servers for the team benchmarks, from any checkout: manage.py and gunicorn run in that checkout's folder.

The base checkout is a temporary `git worktree`, so these take its root;
servers listen on free ports.
"""

import os
import subprocess
from pathlib import Path

from bench.environment import BENCH_PASSWORD, PYTHON, REVIEWERS, database_url


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
