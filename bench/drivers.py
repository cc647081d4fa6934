"""Load from a second process over loopback: wrk for pages, threads for decisions."""

import re
import subprocess
import threading
import time
from collections import Counter
from queue import Empty, Queue

import psycopg

from bench.environment import database_url, post

UNITS_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0}


def _ms(text: str) -> float:
    number, unit = re.fullmatch(r"([\d.]+)(us|ms|s)", text).groups()
    return float(number) * UNITS_MS[unit]


def wrk(url: str, cookie: str, *, seconds: int, connections: int = 4) -> dict:
    """p50/p99 latency (ms) and requests/s of one URL; any non-2xx/3xx answer fails the run."""
    result = subprocess.run(
        [
            "wrk",
            "-t1",
            f"-c{connections}",
            f"-d{seconds}s",
            "--latency",
            "--timeout",
            "10s",
            "-H",
            f"Cookie: {cookie}",
            url,
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    out = result.stdout
    if "Non-2xx or 3xx responses" in out or "Socket errors" in out:
        raise RuntimeError(f"wrk saw errors on {url}:\n{out}")
    return {
        "p50": _ms(re.search(r"^\s+50%\s+(\S+)", out, re.M).group(1)),
        "p99": _ms(re.search(r"^\s+99%\s+(\S+)", out, re.M).group(1)),
        "rps": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)),
    }


def pending_ids(database: str) -> list[str]:
    with psycopg.connect(database_url(database)) as conn:
        rows = conn.execute("select id::text from approvals where status = 'pending' order by created_at, id")
        return [row[0] for row in rows]


def _drain(ids: list[str], workers: int, work) -> tuple[float, Counter]:
    queue: Queue = Queue()
    for approval_id in ids:
        queue.put(approval_id)
    outcomes: Counter = Counter()
    lock = threading.Lock()

    def worker(index: int):
        state = work.start(index)
        while True:
            try:
                approval_id = queue.get_nowait()
            except Empty:
                break
            outcome = work.one(state, approval_id)
            with lock:
                outcomes[outcome] += 1
        work.stop(state)

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(workers)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return time.perf_counter() - started, outcomes


class HttpDecisions:
    """Each worker is a logged-in reviewer posting the plain form; redirects are not followed."""

    def __init__(self, base: str, sessions: list[tuple[str, str]], decide_path, fields):
        self.base, self.sessions, self.decide_path, self.fields = base, sessions, decide_path, fields

    def start(self, index):
        return self.sessions[index]

    def one(self, session, approval_id):
        cookie, csrf = session
        status, _ = post(self.base, self.decide_path(approval_id), {**self.fields, "csrfmiddlewaretoken": csrf}, cookie)
        return status

    def stop(self, state):
        pass


class SqlDecisions:
    """The statements the decision service runs, straight through psycopg: the ceiling."""

    def __init__(self, database: str):
        self.url = database_url(database)

    def start(self, index):
        return psycopg.connect(self.url)

    def one(self, conn, approval_id):
        with conn.transaction():
            row = conn.execute(
                """update approvals
                      set status = 'approved', notes = 'ok', decided_by = 'bench', decided_at = now()
                     from artifacts
                    where approvals.id = %s and approvals.status = 'pending' and artifacts.id = approvals.artifact_id
                returning approvals.artifact_id, approvals.decided_at, artifacts.name, artifacts.version""",
                [approval_id],
            ).fetchone()
            if row is None:
                return "lost"
            conn.execute(
                """update jobs set status = 'done', error = null, finished_at = %s
                    where output_artifact_id = %s and status = 'needs_approval'""",
                [row[1], row[0]],
            )
            conn.execute("select pg_notify('flow_approvals', %s)", [f'{{"approval_id": "{approval_id}"}}'])
        return "won"

    def stop(self, conn):
        conn.close()


def decisions_per_second(ids: list[str], work, *, workers: int = 8) -> tuple[float, Counter]:
    elapsed, outcomes = _drain(ids, workers, work)
    return len(ids) / elapsed, outcomes
