"""The team simulation: eight reviewers working one queue at once, before claims and with them, in one run.

    python -m bench.team                  # 2,000 items, each read for 0.5-2 s; before claims vs now
    python -m bench.team --items 500      # a quicker look
    python -m bench.team --smoke          # 16 items read for 0-0.05 s: seconds, for the test suite

Each reviewer is a logged-in HTTP client (the login form) that repeats "open
the next item, read it, approve it" until the queue is empty, the way a
browser without JavaScript does: the decision's 303 leads to /approvals/next/,
which redirects to the item. The base is a detached checkout of
commit 2563834, the last before claims (`git worktree add --detach`), served by its own code on its own
database; this checkout likewise. Servers: gunicorn with each checkout's own
gunicorn.conf.py, 2 workers, DEBUG off, each on a free port.
"""

import argparse
import random
import re
import subprocess
import threading
import time
from collections import Counter, defaultdict
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path

import psycopg

from bench.environment import (
    REVIEWERS,
    ROOT,
    base_checkout,
    build_database,
    database_url,
    drop_database,
    get,
    gunicorn_at,
    log_in,
    post,
    run_database_name,
)

# The last commit before claims (the app as it was): the default to compare with.
BASE_BRANCH = "2563834"
FIRST = "00000000-0000-0000-0000-000000000000"  # "after" no item: /approvals/next/ starts at the oldest
ITEM = re.compile(r"/approvals/([0-9a-f-]{36})/")
SMOKE_ITEMS = 16  # two per reviewer: every reviewer decides, and before claims they collide


@dataclass
class Tally:
    """What the reviewers saw, counted under one lock."""

    decided: int = 0
    collisions: int = 0
    errors: Counter = field(default_factory=Counter)
    opened_by: dict = field(default_factory=lambda: defaultdict(set))
    lock: threading.Lock = field(default_factory=threading.Lock)

    def opened(self, approval_id: str, username: str) -> None:
        with self.lock:
            self.opened_by[approval_id].add(username)

    def answered(self, status: int) -> None:
        with self.lock:
            if status == 303:
                self.decided += 1
            elif status == 409:
                self.collisions += 1
            else:
                self.errors[status] += 1

    @property
    def double_opened(self) -> int:
        return sum(1 for reviewers in self.opened_by.values() if len(reviewers) > 1)


def review_until_empty(base: str, username: str, read_seconds, tally: Tally, deadline: float) -> None:
    cookie, csrf = log_in(base, username)
    next_path = f"/approvals/next/?after={FIRST}"
    while time.monotonic() < deadline:
        status, headers, _ = get(base, next_path, cookie)
        found = ITEM.fullmatch(headers.get("location", "")) if status == 302 else None
        if found is None:
            if status != 302:
                tally.answered(status)
            return  # redirected to the queue: nothing left for this reviewer
        approval_id = found.group(1)
        status, _, _ = get(base, found.group(0), cookie)
        tally.opened(approval_id, username)
        time.sleep(read_seconds())
        status, _ = post(
            base, f"/approvals/{approval_id}/decide/", {"decision": "approved", "csrfmiddlewaretoken": csrf}, cookie
        )
        tally.answered(status)
        next_path = f"/approvals/next/?after={approval_id}"


def exactly_once(database: str, items: int, tally: Tally) -> bool:
    """Every item decided once: all approved, none pending, one successful decision each, every job done."""
    with psycopg.connect(database_url(database)) as conn:
        approved, pending, done = conn.execute(
            """select count(*) filter (where status = 'approved'), count(*) filter (where status = 'pending'),
                      (select count(*) from jobs where status = 'done' and output_artifact_id is not null)
                 from approvals"""
        ).fetchone()
    return approved == items and pending == 0 and tally.decided == items and done >= items


@dataclass
class Outcome:
    label: str
    commit: str
    items: int
    seconds: float
    tally: Tally
    exactly_once: bool


def simulate(root: Path, label: str, database: str, *, items: int, read: tuple[float, float], log=print) -> Outcome:
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=root, capture_output=True, text=True).stdout
    build_database(database, template=None, artifacts=items, pending=items, root=root, log=log)
    tally = Tally()
    with gunicorn_at(root, database) as server:
        base = server.base
        started = time.monotonic()
        deadline = started + max(600, items * 2)
        threads = [
            threading.Thread(
                target=review_until_empty, args=(base, name, lambda: random.uniform(*read), tally, deadline)
            )
            for name in REVIEWERS
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        seconds = time.monotonic() - started
    log(f"  {label}: {tally.decided:,} decisions in {seconds:.1f} s, {tally.collisions:,} collisions")
    return Outcome(label, commit.strip(), items, seconds, tally, exactly_once(database, items, tally))


def table(outcomes: list[Outcome], read: tuple[float, float]) -> str:
    lines = [
        f"8 reviewers, each item read {read[0]:g}-{read[1]:g} s then approved; one run per checkout",
        "",
        "| checkout | commit | items | wall s | decisions/s | collisions (409) | % of decisions "
        "| items opened by two or more | % of decisions | other answers | exactly once |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for o in outcomes:
        decided = max(o.tally.decided, 1)
        errors = ", ".join(f"{status}: {n}" for status, n in sorted(o.tally.errors.items())) or "none"
        lines.append(
            f"| {o.label} | {o.commit} | {o.items:,} | {o.seconds:.1f} | {o.tally.decided / o.seconds:.2f} "
            f"| {o.tally.collisions:,} | {100 * o.tally.collisions / decided:.1f} % "
            f"| {o.tally.double_opened:,} | {100 * o.tally.double_opened / decided:.1f} % | {errors} "
            f"| {'yes' if o.exactly_once else 'NO'} |"
        )
    return "\n".join(lines)


def main(argv=None) -> str:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--items", type=int, default=2_000)
    parser.add_argument("--smoke", action="store_true", help="16 items (two per reviewer), read 0-0.05 s")
    parser.add_argument("--base", default=BASE_BRANCH, help=f"the git ref to compare with (default {BASE_BRANCH})")
    parser.add_argument("--only-this", action="store_true", help="skip the base checkout")
    args = parser.parse_args(argv)
    items, read = (SMOKE_ITEMS, (0.0, 0.05)) if args.smoke else (args.items, (0.5, 2.0))
    # A smoke run's databases are its own (named for the run, dropped after): runs at once never share one.
    names = {"base": "bench_team_base", "this": "bench_team"}
    if args.smoke:
        names = {role: run_database_name(f"{name}_smoke") for role, name in names.items()}
    try:
        with ExitStack() as stack:
            runs = [(ROOT, "this checkout (claims)", names["this"])]
            if not args.only_this:
                runs.insert(0, (stack.enter_context(base_checkout(args.base)), f"base ({args.base})", names["base"]))
            # A smoke run's figures mean nothing, so both checkouts run at once; a measured run keeps them apart.
            with ThreadPoolExecutor(max_workers=len(runs) if args.smoke else 1) as checkouts:
                outcomes = list(checkouts.map(lambda run: simulate(*run, items=items, read=read), runs))
    finally:
        if args.smoke:
            for name in names.values():
                drop_database(name)
    report = table(outcomes, read)
    print(report)
    return report


if __name__ == "__main__":
    main()
