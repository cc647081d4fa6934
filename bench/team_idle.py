"""What open, idle review pages cost the server: CPU and the queue page's p50, with 0 and with N pages open.

    python -m bench.team_idle                      # 50 pages, 100,000 artifacts (10,000 pending)
    python -m bench.team_idle --pages 50 --artifacts 1000000 --reuse

Each open page does what the browser does on an idle review page: the live
banner's conditional poll every LIVE_POLL_SECONDS (answered 204 while nothing
changed) and the claim's heartbeat. Pages belong to the eight benchmark
reviewers in turn. Server CPU is gunicorn's (master and workers, psutil).
"""

import argparse
import re
import statistics
import threading
import time

import psutil

from bench.environment import (
    REVIEWERS,
    ROOT,
    build_database,
    database_is_seeded,
    drop_database,
    get,
    gunicorn_at,
    log_in,
    post,
    reset_passwords,
    run_database_name,
)

POLL = re.compile(r'hx-get="(/approvals/[0-9a-f-]+/live/\?[^"]+)"\s+hx-trigger="every (\d+)s"')
HEARTBEAT = re.compile(
    r'hx-post="(/approvals/[0-9a-f-]+/claim/)" hx-vals=\'\{"opened": "([^"]+)"\}\''
    r' hx-trigger="load delay:2s, every (\d+)s"'
)
QUEUE_SAMPLES = 40
CPU_SECONDS = 10.0
SETTLE_SECONDS = 5.0  # every page loaded and past its first poll (LIVE_POLL_SECONDS, 2 s)
# A smoke run checks that every step answers; its CPU figures mean nothing at that length.
SMOKE_WAITS = {"cpu_seconds": 1.0, "settle_seconds": 3.0}


def server_cpu_seconds(pid: int) -> float:
    master = psutil.Process(pid)
    total = 0.0
    for process in [master, *master.children(recursive=True)]:
        times = process.cpu_times()
        total += times.user + times.system
    return total


def cpu_percent(pid: int, seconds: float) -> float:
    """Share of one core the server used over `seconds`."""
    before = server_cpu_seconds(pid)
    time.sleep(seconds)
    return 100 * (server_cpu_seconds(pid) - before) / seconds


def queue_p50(base: str, cookie: str) -> float:
    timings = []
    for _ in range(QUEUE_SAMPLES):
        started = time.perf_counter()
        status, _, _ = get(base, "/?limit=50", cookie)
        timings.append((time.perf_counter() - started) * 1000)
        if status != 200:
            raise RuntimeError(f"queue answered HTTP {status}")
    return statistics.median(timings)


class OpenPage(threading.Thread):
    """One review page left open: polls its banner and renews its claim until stopped."""

    def __init__(self, base: str, session: tuple[str, str], approval_id: str, stop: threading.Event):
        super().__init__(daemon=True)
        self.base, (self.cookie, self.csrf), self.approval_id, self.stop = base, session, approval_id, stop
        self.polls: list[float] = []
        self.answers: dict[int, int] = {}

    def run(self) -> None:
        status, _, body = get(self.base, f"/approvals/{self.approval_id}/", self.cookie)
        poll, every = POLL.search(body).groups()
        heartbeat, opened, renew_every = HEARTBEAT.search(body).groups()
        poll, next_renewal = poll.replace("&amp;", "&"), time.monotonic() + int(renew_every)
        while not self.stop.wait(int(every)):
            started = time.perf_counter()
            status, _, _ = get(self.base, poll, self.cookie)
            self.polls.append((time.perf_counter() - started) * 1000)
            self.answers[status] = self.answers.get(status, 0) + 1
            if time.monotonic() >= next_renewal:
                post(self.base, heartbeat, {"csrfmiddlewaretoken": self.csrf, "opened": opened}, self.cookie)
                next_renewal += int(renew_every)


def pending_sample(base: str, cookie: str, count: int) -> list[str]:
    status, _, body = get(base, "/?limit=200", cookie)
    ids = re.findall(r'href="/approvals/([0-9a-f-]{36})/"', body)
    if len(ids) < count:
        raise RuntimeError(f"only {len(ids)} pending items to open, {count} wanted")
    return ids[-count:]  # the newest of the first page, away from where reviewers start


def measure(
    database: str, pages: int, *, cpu_seconds: float = CPU_SECONDS, settle_seconds: float = SETTLE_SECONDS
) -> dict:
    with gunicorn_at(ROOT, database) as server:
        sessions = [log_in(server.base, username) for username in REVIEWERS[: max(pages, 1)]]
        cookie = sessions[0][0]
        queue_p50(server.base, cookie)  # warm both workers
        idle = {"cpu": cpu_percent(server.pid, cpu_seconds), "queue_p50": queue_p50(server.base, cookie)}
        stop = threading.Event()
        open_pages = [
            OpenPage(server.base, sessions[n % len(sessions)], approval_id, stop)
            for n, approval_id in enumerate(pending_sample(server.base, cookie, pages))
        ]
        for page in open_pages:
            page.start()
        time.sleep(settle_seconds)
        busy = {"cpu": cpu_percent(server.pid, cpu_seconds), "queue_p50": queue_p50(server.base, cookie)}
        stop.set()
        for page in open_pages:
            page.join(timeout=30)
    polls = [ms for page in open_pages for ms in page.polls]
    answers: dict[int, int] = {}
    for page in open_pages:
        for status, count in page.answers.items():
            answers[status] = answers.get(status, 0) + count
    busy |= {"poll_p50": statistics.median(polls), "polls": len(polls), "answers": answers}
    return {"idle": idle, "busy": busy}


def main(argv=None) -> str:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pages", type=int, default=50)
    parser.add_argument("--artifacts", type=int, default=100_000)
    parser.add_argument("--reuse", action="store_true", help="keep an already-seeded database")
    parser.add_argument("--smoke", action="store_true", help="3 pages over 300 artifacts, in seconds")
    parser.add_argument("--database", help="an already-seeded database to use as it is (e.g. bench.load's bench_large)")
    args = parser.parse_args(argv)
    if args.database:
        args.reuse = True
    if args.smoke:
        args.pages, args.artifacts, args.reuse = 3, 300, False
    # A smoke run's database is its own (dropped after), never a kept --reuse one.
    database = run_database_name("bench_team_idle_smoke") if args.smoke else f"bench_team_idle_{args.artifacts}"
    database = args.database or database
    try:
        if not args.database and not (args.reuse and database_is_seeded(database, args.artifacts)):
            build_database(database, template=None, artifacts=args.artifacts)
        else:
            reset_passwords(database)
        result = measure(database, args.pages, **(SMOKE_WAITS if args.smoke else {}))
    finally:
        if args.smoke:
            drop_database(database)
    idle, busy = result["idle"], result["busy"]
    report = "\n".join(
        [
            f"{args.artifacts:,} artifacts; {args.pages} review pages open and idle vs none; gunicorn as configured",
            "",
            "| open review pages | server CPU (% of one core) | queue page p50 ms | banner poll p50 ms "
            "| poll answers |",
            "|---|---|---|---|---|",
            f"| 0 | {idle['cpu']:.1f} | {idle['queue_p50']:.1f} | – | – |",
            f"| {args.pages} | {busy['cpu']:.1f} | {busy['queue_p50']:.1f} | {busy['poll_p50']:.1f} | "
            + ", ".join(f"{status}: {n:,}" for status, n in sorted(busy["answers"].items()))
            + " |",
        ]
    )
    print(report)
    return report


if __name__ == "__main__":
    main()
