"""EXPLAIN (ANALYZE, BUFFERS) of the statements behind the queue, the review page and the history.

    DATABASE_URL=postgresql://.../bench_large python -m bench.explain > docs/explain-large.md
    python -m bench.explain --smoke    # on a few hundred rows of its own, sequential scans disabled

Runs the app's own selectors against a seeded database, captures each
statement with its parameters as the app sends it, and prints its plan. Exits
non-zero if any plan reads approvals or artifacts with a sequential scan.
At a smoke run's size a sequential scan is the planner's right choice, so there
the session turns them off (enable_seqscan): a plan that still reads those
tables sequentially has no index that serves it.
"""

import argparse
import os
import re
import sys
import time
from contextlib import contextmanager

import django

BIG_TABLES = ("approvals", "artifacts")
SMOKE_ARTIFACTS = 300


@contextmanager
def captured(statements: list):
    from django.db import connection

    def wrapper(execute, sql, params, many, context):
        statements.append((sql, params))
        return execute(sql, params, many, context)

    with connection.execute_wrapper(wrapper):
        yield


def explain(sql: str, params) -> str:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(f"explain (analyze, buffers) {sql}", params)
        return "\n".join(row[0] for row in cursor.fetchall())


def cases():
    """(title, what the reviewer did, callable running it)."""
    from django.db import connection

    from approvals.selectors import queue as review_queue
    from approvals.selectors.filters import HistoryFilters, MediaFamily, QueueFilters
    from approvals.selectors.history import decided_history

    def deep_page():
        page = review_queue.pending_queue(filters=QueueFilters())
        for _ in range(20):
            page = review_queue.pending_queue(filters=QueueFilters(), after=page.next_cursor)
        return page

    with connection.cursor() as cursor:
        cursor.execute(
            """select a.project_id from approvals p join artifacts a on a.id = p.artifact_id
                where p.status = 'pending' and a.kind = 'file' and a.mime_type like 'image/%%'
                order by p.created_at limit 1"""
        )
        (project_id,) = cursor.fetchone()
        # Half-way down the queue (50,000 deep at the large scale).
        cursor.execute(
            """select id, created_at from approvals where status = 'pending' order by created_at, id
               offset (select count(*) / 2 from approvals where status = 'pending') limit 1"""
        )
        middle_id, middle_at = cursor.fetchone()
        cursor.execute("select decided_by from approvals where status <> 'pending' limit 1")
        (reviewer,) = cursor.fetchone()
    filtered = QueueFilters(project_id=project_id, media=MediaFamily.IMAGE)
    return [
        ("Queue, first page", "opens the queue", lambda: review_queue.pending_queue(filters=QueueFilters())),
        ("Queue, 21st page", 'pressed "Load more" 20 times (the last page\'s statement)', deep_page),
        (
            "Queue, filtered by project and media family",
            "filters to one project's images",
            lambda: review_queue.pending_queue(filters=filtered),
        ),
        (
            "Review page: previous, next and count",
            "opens an item half-way down the queue",
            lambda: review_queue.queue_position(approval_id=middle_id, at=middle_at, filters=QueueFilters()),
        ),
        (
            "Next item after a decision",
            "follows the redirect after deciding",
            lambda: review_queue.next_pending_id(after_approval_id=middle_id, filters=QueueFilters()),
        ),
        ("History, first page", "opens the history", lambda: decided_history(filters=HistoryFilters())),
        (
            "History, one reviewer",
            "filters the history by reviewer",
            lambda: decided_history(filters=HistoryFilters(reviewer=reviewer)),
        ),
    ]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument(
        "--smoke",
        action="store_true",
        help=f"a database of its own ({SMOKE_ARTIFACTS} artifacts, dropped at the end), sequential scans off",
    )
    args = parser.parse_args()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.settings")
    if not args.smoke:
        return explain_all(scale="the large scale")
    from bench.environment import database_url, tiny_database

    def progress(line: str) -> None:
        print(line, file=sys.stderr)  # stdout is the Markdown document

    with tiny_database("bench_explain", artifacts=SMOKE_ARTIFACTS, log=progress) as name:
        os.environ["DATABASE_URL"] = database_url(name)
        return explain_all(scale="a smoke run's size, sequential scans off", seqscan=False)


def explain_all(*, scale: str, seqscan: bool = True) -> int:
    django.setup()
    from django.db import connection

    with connection.cursor() as cursor:
        if not seqscan:
            cursor.execute("set enable_seqscan = off")
        cursor.execute("select count(*) from approvals")
        (approvals,) = cursor.fetchone()
        cursor.execute("select count(*) from approvals where status = 'pending'")
        (pending,) = cursor.fetchone()
        cursor.execute("show server_version")
        (version,) = cursor.fetchone()
    print(f"# Query plans at {scale}")
    print()
    print(
        f"`python -m bench.explain` on {approvals:,} approvals ({pending:,} pending), PostgreSQL {version}, "
        f"{time.strftime('%Y-%m-%d')}. Each statement is the one the app sends, captured with its parameters; "
        "buffers are shared-buffer pages (8 kB) hit or read."
    )
    print()
    failures = []
    sections = []
    summary = [
        "| statement | the reviewer | execution ms | buffers | scans of approvals / artifacts |",
        "|---|---|---|---|---|",
    ]
    for title, action, run in cases():
        statements: list = []
        with captured(statements):
            run()
        sql, params = statements[-1]
        plan = explain(sql, params)
        execution = re.search(r"Execution Time: ([\d.]+) ms", plan).group(1)
        buffers = re.search(r"Buffers: shared ([^\n]*)", plan).group(1)
        scans = set(
            re.findall(
                r"(Seq Scan|Index Only Scan|Index Scan|Bitmap Heap Scan)(?: Backward)?(?: using (\S+))? on (\w+)", plan
            )
        )
        bitmap_indexes = re.findall(r"Bitmap Index Scan on (\S+)", plan)
        scans = {
            (kind, index or (", ".join(dict.fromkeys(bitmap_indexes)) if kind == "Bitmap Heap Scan" else ""), table)
            for kind, index, table in scans
        }
        big = sorted(
            f"{kind} {index or ''} on {table}".replace("  ", " ") for kind, index, table in scans if table in BIG_TABLES
        )
        if any(kind == "Seq Scan" for kind, _, table in scans if table in BIG_TABLES):
            failures.append(title)
        summary.append(f"| {title} | {action} | {execution} | {buffers} | {'; '.join(big)} |")
        sections += [f"## {title}", "", "```sql", sql.strip(), "```", "", "```", plan, "```", ""]
    print("\n".join(summary))
    print()
    print("No plan reads approvals or artifacts sequentially." if not failures else f"Sequential scans in: {failures}")
    print()
    print("\n".join(sections))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
