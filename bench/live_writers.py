"""The pipeline's traffic during a migration: four threads, each on a connection of its own, timing every operation.

- artifact + approval: the pipeline's ordinary transaction, an artifact and then its pending approval;
- run insert: a model call logged against a job;
- job update: a job's attempts counted up;
- reader: the reviewers' pending queue, oldest first.

Each thread pauses between operations so that the four leave the machine's
two cores to the migration; what it keeps is when each operation started, how
long it took, and the SQLSTATE it failed with (a deadlock is 40P01).
"""

import threading
import time
import uuid
from dataclasses import dataclass, field

import psycopg

WRITERS = ("artifact+approval", "run insert", "job update", "reader")
PAUSE_SECONDS = 0.02


@dataclass(frozen=True)
class Operation:
    started: float  # time.monotonic()
    seconds: float
    sqlstate: str | None = None  # None: it committed

    @property
    def ended(self) -> float:
        return self.started + self.seconds


@dataclass
class Traffic:
    """What each writer did: its operations, in order."""

    operations: dict[str, list[Operation]] = field(default_factory=lambda: {name: [] for name in WRITERS})


def _artifact_and_approval(conn: psycopg.Connection, ids: dict) -> None:
    with conn.transaction():
        artifact = conn.execute(
            "insert into artifacts (project_id, name, kind, body_text) values (%s, %s, 'text', 'live traffic') "
            "returning id",
            [ids["project"], f"live-{uuid.uuid4()}"],
        ).fetchone()[0]
        conn.execute("insert into approvals (artifact_id) values (%s)", [artifact])


def _run_insert(conn: psycopg.Connection, ids: dict) -> None:
    with conn.transaction():
        conn.execute(
            "insert into runs (job_id, model, provider, prompt_tokens, completion_tokens, cost_usd) "
            "values (%s, 'gpt-4o-mini', 'openai', 120, 80, 0.000066)",
            [ids["jobs"][int(time.monotonic() * 1000) % len(ids["jobs"])]],
        )


def _job_update(conn: psycopg.Connection, ids: dict) -> None:
    with conn.transaction():
        conn.execute(
            "update jobs set attempts = attempts + 1 where id = %s",
            [ids["jobs"][int(time.monotonic() * 997) % len(ids["jobs"])]],
        )


def _reader(conn: psycopg.Connection, ids: dict) -> None:
    with conn.transaction():
        conn.execute(
            """select p.id, a.name, a.kind from approvals p join artifacts a on a.id = p.artifact_id
                where p.status = 'pending' order by p.created_at, p.id limit 50"""
        ).fetchall()


OPERATIONS = {
    "artifact+approval": _artifact_and_approval,
    "run insert": _run_insert,
    "job update": _job_update,
    "reader": _reader,
}


def pipeline_ids(url: str) -> dict:
    """A project to write into and jobs to log runs against (jobs of every age, as the pipeline's)."""
    with psycopg.connect(url) as conn:
        project = conn.execute("select id from projects order by created_at limit 1").fetchone()[0]
        jobs = [row[0] for row in conn.execute("select id from jobs order by id limit 500")]
    return {"project": project, "jobs": jobs}


class PipelineTraffic:
    """The four writers on `url`, from start() until stop(); their operations in `traffic`."""

    def __init__(self, url: str):
        self.url = url
        self.ids = pipeline_ids(url)
        self.traffic = Traffic()
        self._stop = threading.Event()
        self._threads = [threading.Thread(target=self._loop, args=(name,), daemon=True) for name in WRITERS]

    def _loop(self, name: str) -> None:
        operation, done = OPERATIONS[name], self.traffic.operations[name]
        # The pipeline's own settings: no lock_timeout, it waits as long as it takes.
        with psycopg.connect(self.url, autocommit=True, application_name=f"pipeline {name}") as conn:
            while not self._stop.is_set():
                started = time.monotonic()
                try:
                    operation(conn, self.ids)
                    done.append(Operation(started, time.monotonic() - started))
                except psycopg.Error as error:
                    done.append(Operation(started, time.monotonic() - started, error.sqlstate or "error"))
                time.sleep(PAUSE_SECONDS)

    def start(self) -> None:
        for thread in self._threads:
            thread.start()

    def stop(self) -> Traffic:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=600)
        return self.traffic
