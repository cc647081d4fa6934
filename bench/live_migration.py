"""Migrations under live traffic: each pending file's longest stall of the pipeline, while apply_sql runs.

    python -m bench.live_migration --smoke                    # a few hundred artifacts: seconds
    python -m bench.live_migration                            # 200,000 artifacts
    python -m bench.live_migration --artifacts 1000000 --reuse   # seeding 1M takes minutes: kept for --reuse
    python -m bench.live_migration --base cacd7e0             # before and after: that commit's files and runner too

A database is seeded (this checkout's files, seed_bulk), then taken back to
where a deployment stood before 009 (rollback.sql's part for 009 and after,
the ledger's rows for them removed) and kept as a template. Each scenario
runs on a copy of it: four writers (bench/live_writers.py) start, apply_sql
applies the pending files, and every writer's operations are laid beside the
moment each file started and ended. Scenarios:
- after: this checkout's apply_sql, from 008;
- after, from 010: from a database that applied today's 009 and 010 (with
  --base, the "before" database once it is done; else applied beforehand,
  without traffic, from a folder holding 001-010 only);
- rehearse, and rehearse from 010: this checkout's `apply_sql --rehearse`;
- with --base REF, before and before rehearse: that commit's apply_sql (a
  temporary worktree), from 008.

Prints one Markdown table (a row per file and scenario: how long it ran, each
writer's longest operation in ms, deadlocks and errors among the writers) and
exits non-zero when one of this checkout's scenarios deadlocked, failed a
writer's operation or failed to apply.
"""

import argparse
import os
import re
import shutil
import subprocess
import tempfile
import threading
import time
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path

import psycopg

from bench.environment import (
    PYTHON,
    ROOT,
    base_checkout,
    build_database,
    database_url,
    drop_database,
    maintenance_url,
    run_database_name,
)
from bench.live_writers import WRITERS, Operation, PipelineTraffic, Traffic

ROLLBACK_SQL = ROOT / "approvals" / "sql_runner" / "rollback.sql"
LAST_FILE_BEFORE_THE_CHANGE = "008"
STALL_LIMIT_MS = 1000
FULL = {"artifacts": 200_000, "warmup": 3.0, "cooldown": 2.0}
SMOKE = {"artifacts": 300, "warmup": 0.5, "cooldown": 0.3}
FILE_LINE = re.compile(r"(Applying|Skipping|Rehearsing) (\d+_\w+\.sql)")


@dataclass
class FileWindow:
    name: str
    started: float
    ended: float | None = None
    skipped: bool = False


@dataclass
class Scenario:
    name: str
    exit_code: int
    output: str
    seconds: float
    windows: list[FileWindow]
    traffic: Traffic
    warmup: tuple[float, float]
    ours: bool  # this checkout's run: its failures fail the benchmark
    notes: list[str] = field(default_factory=list)


def rewind_to_008(name: str) -> None:
    """Undo 009 and after (rollback.sql's part for them) and forget them in the ledger: a deployment at 008."""
    script = ROLLBACK_SQL.read_text()
    upto_008 = script[: script.index("-- 008:")]
    with psycopg.connect(database_url(name), autocommit=True) as conn:
        with conn.transaction():
            conn.execute(upto_008)
            conn.execute("delete from flow_migrations.applied_files where version::int > %s", [8])
        conn.execute("vacuum analyze")


def seed_template(artifacts: int, *, reuse: bool) -> str:
    name = f"livemig_seed_{artifacts}"
    if reuse and _is_seeded_at_008(name, artifacts):
        print(f"  {name}: reusing {artifacts:,} artifacts at 008")
        return name
    build_database(name, template=None, artifacts=artifacts)
    rewind_to_008(name)
    return name


def _is_seeded_at_008(name: str, artifacts: int) -> bool:
    try:
        with psycopg.connect(database_url(name), connect_timeout=5) as conn:
            count = conn.execute("select count(*) from artifacts").fetchone()[0]
            last = conn.execute("select max(version) from flow_migrations.applied_files").fetchone()[0]
    except psycopg.Error:
        return False
    return count >= artifacts and last == LAST_FILE_BEFORE_THE_CHANGE


def copy_of(template: str, prefix: str) -> str:
    name = run_database_name(prefix)
    with psycopg.connect(maintenance_url(), autocommit=True) as conn:
        conn.execute(f'create database "{name}" template "{template}"')
    return name


def apply_sql(database: str, *args: str, root: Path = ROOT) -> tuple[subprocess.Popen, list[FileWindow], list[str]]:
    """`manage.py apply_sql ARGS` started, its output read as it comes: when each file starts and ends."""
    process = subprocess.Popen(
        [PYTHON, "manage.py", "apply_sql", *args],
        cwd=root,
        env={**os.environ, "DATABASE_URL": database_url(database), "PYTHONUNBUFFERED": "1"},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    windows: list[FileWindow] = []
    chunks: list[str] = []

    def read() -> None:
        seen = 0
        while data := os.read(process.stdout.fileno(), 4096):
            now = time.monotonic()
            chunks.append(data.decode("utf-8", "replace"))
            text = "".join(chunks)
            for match in FILE_LINE.finditer(text, seen):
                if windows and windows[-1].ended is None:
                    windows[-1].ended = now
                windows.append(
                    FileWindow(match[2], now, now if match[1] == "Skipping" else None, match[1] == "Skipping")
                )
                seen = match.end()

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    process.reader = reader
    return process, windows, chunks


def run_scenario(name: str, database: str, args: list[str], *, root: Path, sizes: dict, ours: bool) -> Scenario:
    traffic = PipelineTraffic(database_url(database))
    traffic.start()
    warm_start = time.monotonic()
    time.sleep(sizes["warmup"])
    warmup = (warm_start, time.monotonic())
    started = time.monotonic()
    process, windows, chunks = apply_sql(database, *args, root=root)
    exit_code = process.wait()
    process.reader.join(timeout=30)
    finished = time.monotonic()
    for window in windows:
        window.ended = window.ended or finished
    time.sleep(sizes["cooldown"])
    done = traffic.stop()
    output = "".join(chunks)
    print(f"  {name}: apply_sql {' '.join(args) or '(apply)'} exited {exit_code} after {finished - started:.1f} s")
    return Scenario(name, exit_code, output, finished - started, windows, done, warmup, ours)


def overlapping(operations: list[Operation], start: float, end: float) -> list[Operation]:
    return [op for op in operations if op.started < end and op.ended > start]


def row(scenario: str, label: str, took: str, traffic: Traffic, start: float, end: float) -> tuple[list[str], int, int]:
    cells, deadlocks, errors = [scenario, label, took], 0, 0
    for writer in WRITERS:
        ops = overlapping(traffic.operations[writer], start, end)
        cells.append(f"{max(op.seconds for op in ops) * 1000:,.0f}" if ops else "-")
        deadlocks += sum(op.sqlstate == "40P01" for op in ops)
        errors += sum(op.sqlstate not in (None, "40P01") for op in ops)
    return [*cells, str(deadlocks), str(errors)], deadlocks, errors


def report(scenarios: list[Scenario]) -> bool:
    """The table, then one line per scenario; True when this checkout's scenarios all went through cleanly."""
    header = ["scenario", "file", "took s", *(f"{w} ms" for w in WRITERS), "deadlocks", "errors"]
    print("| " + " | ".join(header) + " |")
    print("|" + "---|" * len(header))
    clean = True
    for s in scenarios:
        lines = [row(s.name, "(traffic alone)", "", s.traffic, *s.warmup)]
        if "rehearse" in s.name:
            lines.append(
                row(
                    s.name,
                    "--rehearse, every file",
                    f"{s.seconds:.1f}",
                    s.traffic,
                    s.warmup[1],
                    s.warmup[1] + s.seconds,
                )
            )
        for w in s.windows:
            if w.skipped:
                lines.append(([s.name, w.name, "superseded", *["-"] * len(WRITERS), "0", "0"], 0, 0))
            elif "rehearse" not in s.name:
                lines.append(row(s.name, w.name, f"{w.ended - w.started:.1f}", s.traffic, w.started, w.ended))
        whole = row(s.name, "whole run", f"{s.seconds:.1f}", s.traffic, s.warmup[1], s.warmup[1] + s.seconds)
        for cells, _, _ in lines:
            print("| " + " | ".join(cells) + " |")
        s.notes.append(f"apply_sql exit {s.exit_code}")
        if "40P01" in s.output or "deadlock detected" in s.output:
            s.notes.append("apply_sql hit a deadlock")
        _, deadlocks, errors = whole
        longest = max((op.seconds for ops in s.traffic.operations.values() for op in ops), default=0) * 1000
        s.notes.append(f"longest operation {longest:,.0f} ms ({'within' if longest <= STALL_LIMIT_MS else 'OVER'} 1 s)")
        s.notes.append(f"{deadlocks} deadlocks and {errors} errors among the writers")
        if s.ours and (s.exit_code != 0 or deadlocks or errors or "deadlock detected" in s.output):
            clean = False
    print()
    for s in scenarios:
        print(f"{s.name}: " + "; ".join(s.notes))
    return clean


def folder_up_to_010() -> Path:
    """migrations_sql/ as it was before the files that replace 009 and 010: today's 009 and 010 run as written."""
    folder = Path(tempfile.mkdtemp(prefix="livemig-010-")) / "migrations_sql"
    folder.mkdir()
    for path in sorted((ROOT / "migrations_sql").glob("0*.sql")):
        if int(path.name[:3]) <= 10:
            shutil.copy(path, folder / path.name)
    return folder


def bring_to_010(database: str) -> None:
    """Today's 009 and 010 applied as written, without traffic: a deployment that upgraded before 011."""
    folder = folder_up_to_010()
    try:
        subprocess.run(
            [PYTHON, "manage.py", "apply_sql", "--dir", str(folder)],
            cwd=ROOT,
            env={**os.environ, "DATABASE_URL": database_url(database)},
            check=True,
            capture_output=True,
        )
    finally:
        shutil.rmtree(folder.parent, ignore_errors=True)


def scenarios(template: str, *, base: str | None, sizes: dict) -> list[Scenario]:
    done: list[Scenario] = []
    with ExitStack() as stack:
        copies: list[str] = []
        stack.callback(lambda: [drop_database(name) for name in copies])

        def copy(*, at_010: bool = False) -> str:
            copies.append(copy_of(template, "livemig_run"))
            if at_010:
                bring_to_010(copies[-1])
            return copies[-1]

        def run(name: str, database: str, args: list[str], root: Path = ROOT) -> Scenario:
            done.append(run_scenario(name, database, args, root=root, sizes=sizes, ours=root == ROOT))
            return done[-1]

        from_010 = None
        if base:
            base_root = stack.enter_context(base_checkout(base))
            before = run("before", copy(), [], base_root)
            # Where today's files went through, the database they leave is the one to upgrade from.
            from_010 = copies[-1] if before.exit_code == 0 else None
            run("before rehearse", copy(), ["--rehearse"], base_root)
        run("after", copy(), [])
        run("after, from 010", from_010 or copy(at_010=True), [])
        run("rehearse", copy(), ["--rehearse"])
        run("rehearse, from 010", copy(at_010=True), ["--rehearse"])
    return done


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--artifacts", type=int, default=FULL["artifacts"], help="artifacts to seed (default 200,000)")
    parser.add_argument("--reuse", action="store_true", help="keep and reuse the seeded template database")
    parser.add_argument("--base", metavar="REF", help="also that commit's apply_sql and files: the before")
    parser.add_argument("--smoke", action="store_true", help="a few hundred artifacts, a template of its own: seconds")
    options = parser.parse_args()
    sizes = SMOKE if options.smoke else {**FULL, "artifacts": options.artifacts}
    if options.smoke:
        template = run_database_name("livemig_smoke")
        try:
            build_database(template, template=None, artifacts=sizes["artifacts"])
            rewind_to_008(template)
            done = scenarios(template, base=options.base, sizes=sizes)
        finally:
            drop_database(template)
    else:
        template = seed_template(sizes["artifacts"], reuse=options.reuse)
        done = scenarios(template, base=options.base, sizes=sizes)
        if not options.reuse:
            drop_database(template)
    print(f"\nLive migration at {sizes['artifacts']:,} artifacts ({time.strftime('%Y-%m-%d')}):\n")
    if not report(done):
        raise SystemExit(1)


if __name__ == "__main__":
    main()
