"""Where a reviewer page's time goes, in-process: ms per request, time waiting on PostgreSQL, and a profile.

    DATABASE_URL=postgresql://…/bench_large python -m bench.profile_pages            # 200 requests per page
    DATABASE_URL=… python -m bench.profile_pages --requests 50 --top 30 --pages queue review
    python -m bench.profile_pages --smoke    # a database of its own, 300 artifacts, 20 requests a page: seconds

Django's test client with production settings (DEBUG off, the cached template
loader, the same middleware as gunicorn), logged in with force_login, against
a seeded database (`python -m bench.load --reuse` leaves bench_small and
bench_large). Decisions run inside a transaction rolled back at the end, so
the database is left as it was. The floor is bench.urls' trivial logged-in
view, as in bench.load.
"""

import argparse
import cProfile
import io
import os
import pstats
import secrets
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PAGES = ("floor", "queue", "review", "decision")
SMOKE_ARTIFACTS = 300


def configure() -> None:
    os.environ.update(
        DJANGO_SETTINGS_MODULE="bench.settings",
        DEBUG="0",
        SECRET_KEY=secrets.token_urlsafe(50),
        ALLOWED_HOSTS="testserver",
        SECURE_SSL_REDIRECT="0",
        LOG_LEVEL="warning",
    )
    # Production settings serve hashed static names that only collectstatic's manifest knows.
    os.environ.setdefault("STATIC_ROOT", str(ROOT / "var" / "bench-static"))
    sys.path.insert(0, str(ROOT))
    import django
    from django.core.management import call_command

    django.setup()
    call_command("collectstatic", "--noinput", verbosity=0)


class DatabaseClock:
    """Wall time spent inside cursor.execute (sending, PostgreSQL's work, fetching the rows)."""

    def __init__(self) -> None:
        self.seconds = 0.0
        self.queries = 0

    def __call__(self, execute, sql, params, many, context):
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            self.seconds += time.perf_counter() - started
            self.queries += 1


def page_requests(client, reviewer):
    """Each page as a function making one request and checking its status."""
    from django.urls import reverse

    from approvals.models import Approval

    pending = list(
        Approval.objects.filter(status="pending").order_by("created_at", "id").values_list("id", flat=True)[:1000]
    )
    review_url = reverse("approval-detail", args=[pending[len(pending) // 2]])
    decide_ids = iter(pending)

    def expect(response, status):
        if response.status_code != status:
            raise RuntimeError(f"{response.request['PATH_INFO']} answered {response.status_code}, not {status}")

    def decision():
        approval_id = next(decide_ids)
        response = client.post(reverse("approval-decide", args=[approval_id]), {"decision": "approved", "notes": "ok"})
        expect(response, 303)
        # The next page would show and drop the confirmation; unshown, they pile up in the cookie.
        client.cookies.pop("messages", None)

    return {
        "floor": lambda: expect(client.get("/bench/floor/"), 200),
        "queue": lambda: expect(client.get(reverse("queue"), {"limit": 50}), 200),
        "review": lambda: expect(client.get(review_url), 200),
        "decision": decision,
    }


def measure(request, requests: int, clock: DatabaseClock) -> dict:
    request()  # warm: templates compiled, statements prepared
    clock.queries = 0
    times, database_times = [], []
    for _ in range(requests):
        clock.seconds = 0.0
        started = time.perf_counter()
        request()
        times.append(time.perf_counter() - started)
        database_times.append(clock.seconds)
    # Medians of both: each request's database time is part of its time, so the
    # median database time is never above the median time (a mean could be).
    return {
        "ms": statistics.median(times) * 1000,
        "db_ms": statistics.median(database_times) * 1000,
        "queries": clock.queries / requests,
    }


def profile(request, requests: int, top: int) -> str:
    profiler = cProfile.Profile()
    profiler.enable()
    for _ in range(requests):
        request()
    profiler.disable()
    out = io.StringIO()
    stats = pstats.Stats(profiler, stream=out)
    stats.sort_stats("tottime").print_stats(top)
    return out.getvalue()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--top", type=int, default=25, help="functions listed per profile (by own time)")
    parser.add_argument("--pages", nargs="+", choices=PAGES, default=list(PAGES))
    parser.add_argument("--no-profile", action="store_true", help="only the timings")
    parser.add_argument("--reviewer", default="bench_reviewer_1")
    parser.add_argument("--smoke", action="store_true", help="a seeded database of its own, 20 requests per page")
    args = parser.parse_args()
    if not args.smoke:
        report(args)
        return
    from bench.environment import database_url, tiny_database

    args.requests, args.top = 20, 5
    with tiny_database("bench_profile", artifacts=SMOKE_ARTIFACTS, pending=SMOKE_ARTIFACTS // 2) as name:
        os.environ["DATABASE_URL"] = database_url(name)
        report(args)
        from django.db import connections

        connections.close_all()  # before the database is dropped


def report(args) -> None:
    configure()
    from django.contrib.auth.models import User
    from django.db import connection, transaction
    from django.test import Client

    client = Client()
    client.force_login(User.objects.get(username=args.reviewer))
    clock = DatabaseClock()
    rows, profiles = [], []
    with connection.execute_wrapper(clock), transaction.atomic():
        requests = page_requests(client, args.reviewer)
        for name in args.pages:
            figures = measure(requests[name], args.requests, clock)
            rows.append((name, figures))
            if not args.no_profile:
                profiles.append((name, profile(requests[name], args.requests, args.top)))
        transaction.set_rollback(True)
    floor = dict(rows).get("floor")
    print(f"{args.requests} requests per page, medians")
    print("| page | ms | ÷ floor | db ms | queries |")
    print("|---|---|---|---|---|")
    for name, figures in rows:
        ratio = f"{figures['ms'] / floor['ms']:.1f}" if floor else "–"
        print(f"| {name} | {figures['ms']:.2f} | {ratio} | {figures['db_ms']:.2f} | {figures['queries']:.1f} |")
    for name, text in profiles:
        print(f"\n== {name}\n{text}")


if __name__ == "__main__":
    main()
