"""The pipeline's insert rate into runs with and without the costs rollup's triggers (010_ops_rollups.sql).

    DATABASE_URL=postgresql://postgres@/bulk?host=$PWD/var/pgdata python -m bench.rollup_insert_rate --rows 2000
    python -m bench.rollup_insert_rate --smoke    # 20 rows a round in a database of its own, in seconds

One run per INSERT and per transaction (autocommit), as an agent logs a model
call, then batches of 500 rows per statement. Alternates rounds with the
triggers on and off (in ABBA order) (ALTER TABLE runs DISABLE TRIGGER, so run it on a
benchmark database of its own), deletes what it inserted, and prints medians.
"""

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

import psycopg

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench.environment import database_url, tiny_database  # noqa: E402 (after the path that finds it)

TRIGGERS = ("runs_inserted_stamp_cost_days", "runs_updated_stamp_cost_days", "runs_deleted_stamp_cost_days")
MARK = "bench-rollup-insert-rate"


def _set_triggers(conn: psycopg.Connection, *, enabled: bool) -> None:
    action = "enable" if enabled else "disable"
    for trigger in TRIGGERS:
        conn.execute(f"alter table public.runs {action} trigger {trigger}")


def _single_rows(conn: psycopg.Connection, job_id, rows: int) -> float:
    started = time.perf_counter()
    for n in range(rows):
        conn.execute(
            "insert into public.runs (job_id, model, provider, prompt_tokens, completion_tokens, duration_ms,"
            " cost_usd, metadata) values (%s, 'gpt-4o-mini', 'openai', %s, 300, 2100, 0.000360, %s)",
            [job_id, 1000 + n, psycopg.types.json.Jsonb({"bench": MARK})],
        )
    return rows / (time.perf_counter() - started)


def _batches(conn: psycopg.Connection, job_id, rows: int, batch: int = 500) -> float:
    started = time.perf_counter()
    for _ in range(rows // batch):
        conn.execute(
            "insert into public.runs (job_id, model, provider, prompt_tokens, completion_tokens, cost_usd, metadata)"
            " select %s, 'gpt-4o-mini', 'openai', 1000 + n, 300, 0.000360, %s from generate_series(1, %s) n",
            [job_id, psycopg.types.json.Jsonb({"bench": MARK}), batch],
        )
    return (rows // batch) * batch / (time.perf_counter() - started)


def measure(url: str, *, rows: int, rounds: int) -> dict[tuple[str, bool], list[float]]:
    """Insert rates per kind of insert, with the triggers on (True) and off (False), round by round."""
    with psycopg.connect(url, autocommit=True) as conn:
        job_id = conn.execute("select id from public.jobs order by created_at desc limit 1").fetchone()[0]
        rates: dict[tuple[str, bool], list[float]] = {}
        try:
            for round_number in range(rounds):
                # ABBA order: neither state always runs first (after the other's batches).
                for enabled in (True, False) if round_number % 2 == 0 else (False, True):
                    _set_triggers(conn, enabled=enabled)
                    rates.setdefault(("single", enabled), []).append(_single_rows(conn, job_id, rows))
                    rates.setdefault(("batch", enabled), []).append(_batches(conn, job_id, rows * 5))
        finally:
            _set_triggers(conn, enabled=True)
            conn.execute("delete from public.runs where metadata ->> 'bench' = %s", [MARK])
    return rates


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=2000, help="rows per round")
    parser.add_argument("--rounds", type=int, default=4, help="rounds each way, alternating")
    parser.add_argument("--smoke", action="store_true", help="20 rows, 2 rounds, in a tiny database of its own")
    args = parser.parse_args()
    if args.smoke:
        # 100 rows a batch round: the batch insert needs at least one whole batch.
        with tiny_database("bench_rollup_smoke", artifacts=50) as name:
            rates = measure(database_url(name), rows=100, rounds=2)
    else:
        rates = measure(os.environ["DATABASE_URL"], rows=args.rows, rounds=args.rounds)
    print("| insert | with the rollup's triggers (rows/s) | without (rows/s) | slower by |")
    print("|---|---|---|---|")
    for kind, label in (("single", "one row per statement and transaction"), ("batch", "500 rows per statement")):
        on, off = statistics.median(rates[(kind, True)]), statistics.median(rates[(kind, False)])
        print(f"| {label} | {on:,.0f} | {off:,.0f} | {(1 - on / off) * 100:.1f} % |")


if __name__ == "__main__":
    main()
