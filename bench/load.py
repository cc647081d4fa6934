"""The load benchmark: the queue and decisions at 1,000 and 1,000,000 artifacts.

    python -m bench.load                # small and large scale, 5 rounds of 10 s per page
    python -m bench.load --reuse        # keep already-seeded databases (seeding 1M takes minutes)
    python -m bench.load --large 100000 --rounds 3 --seconds 5   # a quicker look
    python -m bench.load --smoke        # every step at a few hundred rows, one paced round of 1 s: seconds
    python -m bench.load --reuse --base main~3   # before and after: that commit's server beside this one's

Prints one table, ratios first, then this machine's absolute figures. Exits
non-zero when a decision round did not decide every item exactly once. A smoke
run works in databases of its own, dropped at the end, and its ratios mean
nothing at that size: it shows that every step still runs and checks out.

With --base, a checkout of that git ref (a temporary worktree) is served on
the same databases beside this checkout, and every page and decision round
alternates between the two: on a machine whose speed drifts from minute to
minute, "before" and "after" then meet the same drift. The report gives both
checkouts' tables and their ratios side by side.
"""

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack, contextmanager
from pathlib import Path

from bench.drivers import SqlDecisions, decisions_per_second, pending_ids, wrk, wrk_decisions
from bench.environment import (
    OPS_USER,
    PYTHON,
    REVIEWERS,
    ROOT,
    apply_sql_seconds,
    base_checkout,
    build_database,
    database_is_seeded,
    database_url,
    drop_database,
    get,
    gunicorn_at,
    log_in,
    reset_passwords,
    run_database_name,
    schema_template,
)

DEEP_PAGES = 20
# Measured in this order each round (page_urls gives each one's path).
PAGES = ("floor", "queue", "queue_deep", "queue_filtered", "review", "admin_pending")
# One wrk connection per page, pausing between requests: every page's code path
# without the workers saturating the machine for the run's 12 s of wrk.
SMOKE_SIZES = {"small": 300, "large": 600, "rounds": 1, "seconds": 1, "connections": 1, "pause_ms": 50}
SMOKE_SIZES |= {"decision_items": 100, "decision_rounds": 1}


def prepare(name: str, artifacts: int, *, template: str, reuse: bool, pending: int | None = None) -> None:
    if reuse and database_is_seeded(name, artifacts):
        print(f"  {name}: reusing {artifacts:,} artifacts")
        reset_passwords(name)
        return
    build_database(name, template=template, artifacts=artifacts, pending=pending)


def deep_queue_path(base: str, cookie: str) -> str:
    """The queue URL a reviewer reaches after pressing "Load more" DEEP_PAGES times (or the last page)."""
    path = "/?limit=50"
    for _ in range(DEEP_PAGES):
        status, _, body = get(base, path, cookie)
        match = re.search(r'hx-get="([^"]*after=[^"]*)" hx-target="#load-more"', body)
        if status != 200:
            raise RuntimeError(f"{path} answered HTTP {status}")
        if not match:
            break
        path = match.group(1).replace("&amp;", "&")
    return path


def filtered_queue_path(database: str) -> str:
    import psycopg

    with psycopg.connect(database_url(database)) as conn:
        project_id, family = conn.execute(
            """select a.project_id, case when a.mime_type like 'image/%%' then 'image' else 'text' end
                 from approvals p join artifacts a on a.id = p.artifact_id
                where p.status = 'pending' and a.kind = 'file' and a.mime_type like 'image/%%'
                order by p.created_at limit 1"""
        ).fetchone()
    return f"/?project={project_id}&media={family}&limit=50"


def query_counts(database: str, root: Path = ROOT) -> dict:
    result = subprocess.run(
        [PYTHON, "-m", "bench.query_counts"],
        cwd=root,
        env={**os.environ, "DATABASE_URL": database_url(database), "DJANGO_SETTINGS_MODULE": "bench.settings"},
        capture_output=True,
        text=True,
    )
    if result.returncode != 0:
        raise RuntimeError(f"bench.query_counts failed:\n{result.stderr[-3000:]}")
    return json.loads(result.stdout.strip().splitlines()[-1])


def measure_pages(
    database: str, checkouts: dict[str, Path], *, rounds: int, seconds: int, connections: int, pause_ms: int
) -> dict[str, dict[str, list[dict]]]:
    """Each page of each checkout's server, `rounds` times: {checkout: {page: [wrk results]}}."""
    with ExitStack() as stack:
        bases = {name: stack.enter_context(gunicorn_at(root, database)).base for name, root in checkouts.items()}
        pages = {name: page_urls(database, base) for name, base in bases.items()}
        results = {name: {page: [] for page in pages[name]} for name in checkouts}
        for round_number in range(rounds):
            # Interleaved, so that drift on the machine touches every page and checkout alike.
            for page in PAGES:
                for name, base in bases.items():
                    path, cookie = pages[name][page]
                    results[name][page].append(
                        wrk(base + path, cookie, seconds=seconds, connections=connections, pause_ms=pause_ms)
                    )
            print(f"  {database}: round {round_number + 1}/{rounds} done")
    return results


def page_urls(database: str, base: str) -> dict[str, tuple[str, str]]:
    """Each page's path and the session cookie it is asked with, each checked to answer 200."""
    reviewer_cookie, _ = log_in(base, REVIEWERS[0])
    ops_cookie, _ = log_in(base, OPS_USER)
    waiting = pending_ids(database)
    review_id = waiting[len(waiting) // 2]
    pages = {
        "floor": ("/bench/floor/", reviewer_cookie),
        "queue": ("/?limit=50", reviewer_cookie),
        "queue_deep": (deep_queue_path(base, reviewer_cookie), reviewer_cookie),
        "queue_filtered": (filtered_queue_path(database), reviewer_cookie),
        "review": (f"/approvals/{review_id}/", reviewer_cookie),
        "admin_pending": ("/admin/approvals/approval/?status__exact=pending", ops_cookie),
    }
    for name, (path, cookie) in pages.items():
        status, _, _ = get(base, path, cookie)
        if status != 200:
            raise RuntimeError(f"{name} {path} answered HTTP {status}")
    return pages


def measure_decisions(database: str, checkouts: dict[str, Path], *, template: str, items: int, rounds: int) -> dict:
    """Per round: each checkout decides `items` fresh items over HTTP, then raw SQL does."""
    http = {name: [] for name in checkouts}
    checks = {name: [] for name in checkouts}
    sql_rates = []
    for _ in range(rounds):
        for name, root in checkouts.items():
            prepare(database, items, template=template, reuse=False, pending=items)
            ids = pending_ids(database)
            with gunicorn_at(root, database) as server, ThreadPoolExecutor(max_workers=2) as logins:
                # Two at a time, one per worker: each login checks a slow password hash.
                sessions = list(logins.map(lambda username: log_in(server.base, username), REVIEWERS))
                rate, outcomes = wrk_decisions(server.base, sessions, ids)
            http[name].append(rate)
            checks[name].append(decided_exactly_once(database, items, outcomes))
        prepare(database, items, template=template, reuse=False, pending=items)
        rate, outcomes = decisions_per_second(pending_ids(database), SqlDecisions(database))
        sql_rates.append(rate)
        if outcomes["won"] != items:
            raise RuntimeError(f"raw SQL decided {outcomes['won']} of {items}")
    return {name: {"http": http[name], "sql": sql_rates, "checks": checks[name]} for name in checkouts}


def decided_exactly_once(database: str, items: int, outcomes) -> str:
    import psycopg

    with psycopg.connect(database_url(database)) as conn:
        decided, pending, done = conn.execute(
            """select count(*) filter (where status = 'approved'), count(*) filter (where status = 'pending'),
                      (select count(*) from jobs where status = 'done')
                 from approvals"""
        ).fetchone()
    redirects = sum(count for status, count in outcomes.items() if status in (302, 303))
    ok = decided == items and pending == 0 and redirects == items and done >= items
    return f"{decided:,} decided, {pending} pending, {redirects:,} redirects: {'OK' if ok else 'MISMATCH'}"


def med(values: list[dict], key: str) -> float:
    return statistics.median(v[key] for v in values)


def ratio_rows(small: dict, large: dict, decisions: dict) -> list[tuple[str, float, str]]:
    queue_small, queue_large = med(small["queue"], "p50"), med(large["queue"], "p50")
    return [
        ("queue p50, large ÷ small", queue_large / queue_small, "≤ 1.3"),
        ("queue p50 after 20 'Load more' ÷ first page (large)", med(large["queue_deep"], "p50") / queue_large, "≤ 1.3"),
        (
            "queue p50 filtered by project + family ÷ first page (large)",
            med(large["queue_filtered"], "p50") / queue_large,
            "≤ 1.5",
        ),
        ("queue req/s ÷ floor req/s (large)", med(large["queue"], "rps") / med(large["floor"], "rps"), "≥ 0.4"),
        ("review req/s ÷ floor req/s (large)", med(large["review"], "rps") / med(large["floor"], "rps"), "≥ 0.3"),
        ("queue p50 ÷ admin pending changelist p50 (large)", queue_large / med(large["admin_pending"], "p50"), "≤ 0.5"),
        (
            "decisions/s HTTP ÷ raw SQL, 8 concurrent",
            statistics.median(decisions["http"]) / statistics.median(decisions["sql"]),
            "≥ 0.2",
        ),
    ]


def is_met(value: float, target: str) -> bool:
    limit = float(target.split()[1])
    return value <= limit if target.startswith("≤") else value >= limit


def report(small: dict, large: dict, counts: dict, decisions: dict, apply_times: dict, args) -> str:
    lines = [
        f"Flow Review load benchmark: small {args.small:,} / large {args.large:,} artifacts, "
        f"{args.rounds} rounds × {args.seconds} s per page, wrk -c{args.connections}, medians",
        "",
        "| ratio | value | target | met |",
        "|---|---|---|---|",
    ]
    for label, value, target in ratio_rows(small, large, decisions):
        lines.append(f"| {label} | {value:.2f} | {target} | {'yes' if is_met(value, target) else 'NO'} |")
    lines += [
        f"| SQL queries per queue page (25 / 50 / 100 rows) | {counts['queue_25']} / {counts['queue_50']} / "
        f"{counts['queue_100']} | constant, ≤ 6 | "
        f"{'yes' if counts['queue_25'] == counts['queue_100'] <= 6 else 'NO'} |",
        f"| SQL queries per review page | {counts['review']} | ≤ 10 | {'yes' if counts['review'] <= 10 else 'NO'} |",
        "",
        "This machine's absolute figures (medians):",
        "",
        "| page | scale | p50 ms | p99 ms | req/s |",
        "|---|---|---|---|---|",
    ]
    for scale, results in (("small", small), ("large", large)):
        for name, values in results.items():
            lines.append(
                f"| {name} | {scale} | {med(values, 'p50'):.2f} | {med(values, 'p99'):.2f} | {med(values, 'rps'):.0f} |"
            )
    lines += ["", decisions_line(decisions)]
    if apply_times:
        lines.append(apply_sql_line(apply_times))
    return "\n".join(lines)


def comparison(base: tuple, this: tuple, ref: str) -> str:
    """The ratios of both checkouts side by side; each tuple is (small, large, decisions)."""
    lines = [f"| ratio | base ({ref}) | this checkout | target | met now |", "|---|---|---|---|---|"]
    for (label, before, target), (_, after, _) in zip(ratio_rows(*base), ratio_rows(*this), strict=True):
        met = "yes" if is_met(after, target) else "NO"
        lines.append(f"| {label} | {before:.2f} | {after:.2f} | {target} | {met} |")
    return "\n".join(lines)


def decisions_line(decisions: dict) -> str:
    rounds = ", ".join(f"{h:.0f} vs {s:.0f}" for h, s in zip(decisions["http"], decisions["sql"], strict=True))
    return (
        f"Decisions: HTTP {statistics.median(decisions['http']):.0f}/s, raw SQL "
        f"{statistics.median(decisions['sql']):.0f}/s (rounds: {rounds}); " + "; ".join(decisions["checks"])
    )


def apply_sql_line(apply_times: dict) -> str:
    return (
        f"apply_sql on an empty database: {apply_times['apply_sql_fresh_s']:.2f} s "
        f"(the SQL files {apply_times['apply_sql_files_s'] * 1000:.0f} ms); "
        f"a no-op run: {apply_times['apply_sql_noop_s']:.2f} s "
        f"(medians of {apply_times['runs']}, each a whole `manage.py` process)"
    )


@contextmanager
def run_databases(*, smoke: bool):
    """The run's database names: fixed ones a later --reuse finds, or a smoke run's own, dropped at the end."""
    names = {role: f"bench_{role}" for role in ("small", "large", "decisions", "apply_sql")}
    if not smoke:
        yield names
        return
    names = {role: run_database_name(name) for role, name in names.items()}
    try:
        yield names
    finally:
        for name in names.values():
            drop_database(name)


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--small", type=int, default=1_000)
    parser.add_argument("--large", type=int, default=1_000_000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--seconds", type=int, default=10)
    # 16, not 4: with 4 keep-alive connections over 2 workers, how they happened to
    # be shared out moved a server's req/s by ±30 % (two servers of the same code
    # on one database); with 16 the same two agreed within 5 %.
    parser.add_argument("--connections", type=int, default=16, help="wrk connections per page (default 16)")
    parser.add_argument(
        "--pause-ms", type=int, default=0, help="each wrk connection waits this long between requests (default 0)"
    )
    parser.add_argument("--decision-items", type=int, default=2_000)
    parser.add_argument("--decision-rounds", type=int, default=3)
    parser.add_argument("--reuse", action="store_true", help="reuse seeded databases of the same size")
    parser.add_argument("--base", help="a git ref to serve beside this checkout, alternating with it (before/after)")
    parser.add_argument(
        "--smoke", action="store_true", help="every step at a few hundred rows, one round of 1 s (overrides sizes)"
    )
    args = parser.parse_args()
    if args.smoke:
        vars(args).update(SMOKE_SIZES, reuse=False)
    return args


def main() -> None:
    args = parse_args()
    started = time.perf_counter()
    with ExitStack() as stack:
        names = stack.enter_context(run_databases(smoke=args.smoke))
        template = stack.enter_context(schema_template())
        checkouts = {"this": ROOT}
        if args.base:
            checkouts["base"] = stack.enter_context(base_checkout(args.base))
        print("Preparing databases")
        apply_times = apply_sql_seconds(names["apply_sql"], runs=1 if args.smoke else 3)
        prepare(names["small"], args.small, template=template, reuse=args.reuse)
        prepare(names["large"], args.large, template=template, reuse=args.reuse)
        print("Measuring pages")
        pace = {"rounds": args.rounds, "seconds": args.seconds, "connections": args.connections}
        pace["pause_ms"] = args.pause_ms
        # A smoke run's figures mean nothing, so it measures both scales at once: half its wait on wrk.
        with ThreadPoolExecutor(max_workers=2 if args.smoke else 1) as scales:
            small, large = scales.map(
                lambda name: measure_pages(name, checkouts, **pace), (names["small"], names["large"])
            )
        counts = {name: query_counts(names["large"], root) for name, root in checkouts.items()}
        print("Measuring decisions")
        decisions = measure_decisions(
            names["decisions"], checkouts, template=template, items=args.decision_items, rounds=args.decision_rounds
        )
    print()
    print(report(small["this"], large["this"], counts["this"], decisions["this"], apply_times, args))
    if args.base:
        print(f"\nBase ({args.base}), measured alternately with this checkout in the same run:\n")
        print(report(small["base"], large["base"], counts["base"], decisions["base"], {}, args))
        print("\nBoth:\n")
        print(comparison(*((small[n], large[n], decisions[n]) for n in ("base", "this")), args.base))
    print(f"\n(total {time.perf_counter() - started:.0f} s)")
    if any(not check.endswith(": OK") for result in decisions.values() for check in result["checks"]):
        raise SystemExit("a decision round did not decide every item exactly once")


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    main()
