"""Load from a second process over loopback: wrk for pages and decisions, threads for the raw SQL decisions."""

import re
import subprocess
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path
from queue import Empty, Queue

import psycopg

from bench.environment import database_url

DECISIONS_SCRIPT = Path(__file__).with_name("decisions.lua")
PACED_SCRIPT = Path(__file__).with_name("paced.lua")
UNITS_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0}


def _ms(text: str) -> float:
    number, unit = re.fullmatch(r"([\d.]+)(us|ms|s)", text).groups()
    return float(number) * UNITS_MS[unit]


def wrk(url: str, cookie: str, *, seconds: int, connections: int = 4, pause_ms: int = 0) -> dict:
    """p50/p99 latency (ms) and requests/s of one URL; any non-2xx/3xx answer fails the run.

    With `pause_ms` each connection waits that long between requests (bench/paced.lua).
    """
    command = ["wrk", "-t1", f"-c{connections}", f"-d{seconds}s", "--latency", "--timeout", "10s"]
    command += ["-H", f"Cookie: {cookie}"]
    if pause_ms:
        command += ["-s", str(PACED_SCRIPT), url, "--", str(pause_ms)]
    else:
        command.append(url)
    result = subprocess.run(
        command,
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


def wrk_decisions(base: str, sessions: list[tuple[str, str]], ids: list[str]) -> tuple[float, Counter]:
    """Decisions/s over HTTP: wrk with len(sessions) connections, each request the next id as the next reviewer.

    The clock stops when the script reports the answer to the last decision
    (wrk itself runs for its whole duration, so it is stopped then).
    """
    with tempfile.NamedTemporaryFile("w", suffix=".txt") as items:
        for index, approval_id in enumerate(ids):
            cookie, csrf = sessions[index % len(sessions)]
            items.write(f"{approval_id} {cookie} {csrf}\n")
        items.flush()
        command = ["wrk", "-t1", f"-c{len(sessions)}", "-d600s", "--timeout", "30s", "-s", str(DECISIONS_SCRIPT)]
        started = time.perf_counter()
        process = subprocess.Popen([*command, base, "--", items.name], stdout=subprocess.PIPE, text=True)
        try:
            for line in process.stdout:
                found = re.search(r"decided (\d+), 303: (\d+), other: (\d+)", line)
                if found:
                    seconds = time.perf_counter() - started
                    break
            else:
                raise RuntimeError("wrk ended before the last decision was answered")
        finally:
            process.terminate()
            process.wait()
    decided, redirects, others = (int(group) for group in found.groups())
    return decided / seconds, Counter({303: redirects, "other": others})


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
