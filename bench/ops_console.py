"""Median response times of the ops console's pages on a seeded database, in-process (Django's test Client).

    DATABASE_URL=postgresql://postgres@/bulk?host=$PWD/var/pgdata python -m bench.ops_console --runs 5
    python -m bench.ops_console --smoke     # every page once on a few hundred rows of its own: seconds

Logs in a staff superuser (created if missing), requests each page once to
warm up, then `--runs` times; prints a Markdown table of the medians. Runs
with DEBUG off (collect static files first: `manage.py collectstatic`).
"""

import argparse
import os
import secrets
import statistics
import time
from datetime import timedelta

SMOKE_ARTIFACTS = 300


def _rollup_and_analytics_pages(today) -> dict[str, str]:
    """A custom costs range, a CSV, the analytics pages and the Overdue filter (010_ops_rollups.sql)."""
    from django.urls import reverse

    from approvals.models import Approval

    year_ago = today - timedelta(days=364)
    # Analytics over the last 30 days that hold decisions (seed_bulk's newest items are all pending).
    last_decision = Approval.objects.filter(decided_at__isnull=False).order_by("-decided_at").first()
    decided_end = last_decision.decided_at.date() if last_decision else today
    decided = f"?start={decided_end - timedelta(days=29)}&end={decided_end}"
    costs = reverse("admin:approvals_run_costs")
    return {
        "costs dashboard (custom: 111 days, 90 to 200 days ago)": costs
        + f"?start={today - timedelta(days=200)}&end={today - timedelta(days=90)}",
        "costs dashboard, CSV of by-project (365 days)": costs + f"?start={year_ago}&end={today}&csv=by-project",
        "analytics: queue now (per project, overdue)": reverse("analytics-queue"),
        "analytics: reviewers (30 days of decisions)": reverse("analytics-reviewers") + decided,
        "analytics: time to decision (30 days)": reverse("analytics-time-to-decision") + decided,
        "analytics: outcomes and cost (30 days)": reverse("analytics-outcomes") + decided,
        "queue, Overdue filter": reverse("queue") + "?sla=overdue",
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument(
        "--smoke",
        action="store_true",
        help=f"a database of its own ({SMOKE_ARTIFACTS} artifacts, dropped at the end), one run per page",
    )
    args = parser.parse_args()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "flowsite.settings")
    os.environ.setdefault("DEBUG", "0")
    os.environ.setdefault("SECRET_KEY", "bench-only-" + "x" * 40)
    os.environ.setdefault("ALLOWED_HOSTS", "testserver")
    # In-process over plain HTTP: no HTTPS redirect; log lines would mix with the table.
    os.environ.setdefault("SECURE_SSL_REDIRECT", "0")
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    if not args.smoke:
        measure(runs=args.runs)
        return
    from bench.environment import collect_static, database_url, tiny_database

    with tiny_database("bench_ops", artifacts=SMOKE_ARTIFACTS) as name:
        os.environ["DATABASE_URL"] = database_url(name)
        collect_static(dict(os.environ))
        measure(runs=1)


def measure(*, runs: int) -> None:
    import django

    django.setup()
    from django.contrib.auth.models import User
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext
    from django.urls import reverse
    from django.utils import timezone

    from approvals.models import Approval, Artifact, Job, Project, Run

    user, _ = User.objects.get_or_create(username="bench_ops")
    password = secrets.token_urlsafe(16)
    user.is_staff = user.is_superuser = True
    user.set_password(password)
    user.save()
    client = Client()
    # Through the login form, as a person would (and as any login throttling expects).
    login = client.post(reverse("admin:login"), {"username": user.username, "password": password, "next": "/admin/"})
    assert login.status_code == 302, f"login failed with HTTP {login.status_code}"
    job = Job.objects.filter(status="failed", output_artifact__isnull=False).order_by("-status", "-created_at").first()
    project = Project.objects.order_by("-created_at").first()
    today = timezone.localdate()
    week_ago, year_ago = today - timedelta(days=6), today - timedelta(days=364)
    pages = {
        "approvals changelist": reverse("admin:approvals_approval_changelist"),
        "approvals changelist, pending": reverse("admin:approvals_approval_changelist") + "?status__exact=pending",
        "approvals changelist, approved": reverse("admin:approvals_approval_changelist") + "?status__exact=approved",
        "approvals changelist, one project": reverse("admin:approvals_approval_changelist") + f"?project={project.pk}",
        "runs changelist": reverse("admin:approvals_run_changelist"),
        "runs changelist, one model": reverse("admin:approvals_run_changelist") + "?model=claude-3-5-sonnet",
        "runs changelist, one project": reverse("admin:approvals_run_changelist") + f"?project={project.pk}",
        "jobs changelist": reverse("admin:approvals_job_changelist"),
        "jobs changelist, failed": reverse("admin:approvals_job_changelist") + "?status__exact=failed",
        "artifacts changelist": reverse("admin:approvals_artifact_changelist"),
        "projects changelist": reverse("admin:approvals_project_changelist"),
        "costs dashboard (30 days, the default)": reverse("admin:approvals_run_costs"),
        "costs dashboard (7 days)": reverse("admin:approvals_run_costs") + f"?start={week_ago}&end={today}",
        "costs dashboard (365 days)": reverse("admin:approvals_run_costs") + f"?start={year_ago}&end={today}",
        **_rollup_and_analytics_pages(today),
        "job change page": reverse("admin:approvals_job_change", args=[job.pk]),
        "artifact change page": reverse("admin:approvals_artifact_change", args=[job.output_artifact_id]),
        "approval change page": reverse(
            "admin:approvals_approval_change", args=[Approval.objects.values_list("pk", flat=True).first()]
        ),
    }
    counts = {model.__name__: model.objects.count() for model in (Artifact, Job, Approval, Run)}
    print("Rows: " + ", ".join(f"{name} {count:,}" for name, count in counts.items()))
    print()
    print(f"| page | median ms ({runs} runs) | min ms | max ms | SQL queries | SQL ms (median) |")
    print("|---|---|---|---|---|---|")
    for name, url in pages.items():
        response = client.get(url)
        assert response.status_code == 200, (name, response.status_code)
        timings, sql_timings = [], []
        for _ in range(runs):
            started = time.perf_counter()
            with CaptureQueriesContext(connection) as queries:
                response = client.get(url)
            timings.append((time.perf_counter() - started) * 1000)
            sql_timings.append(sum(float(q["time"]) for q in queries.captured_queries) * 1000)
            assert response.status_code == 200, (name, response.status_code)
        print(
            f"| {name} | {statistics.median(timings):.0f} | {min(timings):.0f} | {max(timings):.0f} "
            f"| {len(queries)} | {statistics.median(sql_timings):.0f} |"
        )


if __name__ == "__main__":
    main()
