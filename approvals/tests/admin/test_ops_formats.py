"""One money rule and one duration rule on every page, round axis ticks, ISO dates, empty days folded, CSV downloads."""

import csv
import io
import re
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import formats, timezone

from approvals.decisions import decide
from approvals.figures import format_duration, format_duration_ms, format_usd
from approvals.models import Approval, JobStatus, Run
from approvals.reporting.charts import bar_chart
from approvals.tests.factories import make_artifact, make_job, make_pending_review, make_project, make_run

SUMS = ["runs", "prompt_tokens", "completion_tokens", "total_tokens", "cost_usd"]


@pytest.mark.parametrize(
    ("amount", "shown"),
    [
        ("0", "$0.00"),
        ("0.000001", "$0.000001"),
        ("0.000270", "$0.00027"),
        ("0.040770", "$0.04077"),
        ("0.5", "$0.50"),
        ("0.123456", "$0.1235"),
        ("1234.5678", "$1,234.57"),
    ],
)
def test_money_shows_four_significant_digits_below_a_dollar_and_cents_above(amount, shown):
    assert format_usd(Decimal(amount)) == shown


def test_no_non_zero_cost_reads_as_zero_dollars():
    assert all(format_usd(Decimal(n) / 1_000_000) != "$0.00" for n in range(1, 2000, 7))


@pytest.mark.parametrize(
    ("seconds", "shown"),
    [
        (0.85, "850 ms"),
        (12.34, "12.3 s"),
        (59.96, "1 min"),
        (245, "4 min 5 s"),
        (3599.6, "1 h"),
        (12_000, "3 h 20 min"),
        (2 * 86400 + 4 * 3600, "2 d 4 h"),
        (86399, "1 d"),
    ],
)
def test_durations_show_their_largest_one_or_two_units(seconds, shown):
    assert format_duration(seconds) == shown
    assert format_duration(timedelta(seconds=seconds)) == shown


def test_a_runs_milliseconds_print_in_the_same_style():
    assert [format_duration_ms(ms) for ms in (None, 0, 999, 1500, 61_000)] == [
        "–",
        "0 ms",
        "999 ms",
        "1.5 s",
        "1 min 1 s",
    ]


# A run's duration and cost cells, side by side: on the review page, in the
# runs changelist, and in a job page's read-only inline.
REVIEW_PAGE_CELLS = r'<td class="num">([^<]*)</td>\s*<td class="num">([^<]*)</td>\s*</tr>'
CHANGELIST_CELLS = r'<td class="field-duration">([^<]*)</td><td class="field-cost">([^<]*)</td>'
INLINE_CELLS = r'<td class="field-duration">\s*<p>([^<]*)</p>\s*</td>\s*<td class="field-cost">\s*<p>([^<]*)</p>'


@pytest.mark.django_db
def test_a_runs_cost_and_duration_print_alike_on_the_review_page_and_in_the_admin(ops_client):
    approval = make_pending_review(with_run=False)
    job = approval.artifact.output_jobs.get()
    make_run(job=job, duration_ms=61_000, cost_usd="0.000270")

    review = ops_client.get(reverse("approval-detail", args=[approval.id])).content.decode()
    runs = ops_client.get(reverse("admin:approvals_run_changelist")).content.decode()
    job_page = ops_client.get(reverse("admin:approvals_job_change", args=[job.pk])).content.decode()

    assert re.findall(REVIEW_PAGE_CELLS, review) == [("1 min 1 s", "$0.00027")]
    assert re.findall(CHANGELIST_CELLS, runs) == [("1 min 1 s", "$0.00027")]
    assert re.findall(INLINE_CELLS, job_page) == [("1 min 1 s", "$0.00027")]


def test_cost_axis_ticks_are_multiples_of_one_round_step():
    chart = bar_chart(points=[("a", Decimal("0.0771")), ("b", Decimal("0.01"))], value_label=format_usd, description="")
    assert [tick.label for tick in chart.y_ticks] == ["$0.00", "$0.02", "$0.04", "$0.06", "$0.08"]


def test_dates_use_iso_8601_in_templates_and_the_admin_formats():
    moment = datetime(2026, 10, 31, 16, 5, tzinfo=UTC)
    assert formats.date_format(moment.date()) == "2026-10-31"
    assert formats.date_format(moment, "DATETIME_FORMAT") == "2026-10-31 16:05"
    assert formats.date_format(moment.date(), "SHORT_DATE_FORMAT") == "2026-10-31"


@pytest.mark.django_db
def test_admin_changelist_shows_dates_in_iso(ops_client):
    artifact = make_artifact(name="dated-post")
    Approval.objects.create(artifact=artifact)
    page = ops_client.get(reverse("admin:approvals_approval_changelist")).content.decode()
    assert timezone.localdate().isoformat() in page
    assert timezone.localdate().strftime("%b.") not in page


@pytest.mark.django_db
def test_by_day_table_folds_consecutive_days_without_runs(ops_client):
    job = make_job(output_artifact=make_artifact(), status=JobStatus.DONE)
    for day in (1, 9):
        run = make_run(job=job)
        Run.objects.filter(pk=run.pk).update(created_at=datetime(2026, 3, day, 12, tzinfo=UTC))

    response = ops_client.get(reverse("admin:approvals_run_costs"), {"start": "2026-03-01", "end": "2026-03-10"})

    lines = [(line.first.key, line.folded_days) for line in response.context["by_day"]]
    assert lines == [(date(2026, 3, 10), 0), (date(2026, 3, 9), 0), (date(2026, 3, 2), 7), (date(2026, 3, 1), 0)]
    assert 'data-folded-days="7"' in response.content.decode()


@pytest.mark.django_db
def test_a_rejected_items_job_is_shown_as_rejected_not_failed(ops_client):
    artifact = make_artifact(project=make_project(name="Rejections"))
    job = make_job(output_artifact=artifact)
    make_run(job=job, cost_usd="0.100000")
    approval = Approval.objects.create(artifact=artifact)
    decide(approval_id=approval.pk, decision="rejected", notes="Off brand", decided_by="alice")
    crashed = make_job(output_artifact=make_artifact(), status=JobStatus.FAILED)
    make_run(job=crashed, cost_usd="0.050000")

    response = ops_client.get(reverse("admin:approvals_run_costs"))

    statuses = {top.job.pk: top.status_label for top in response.context["top_jobs"]}
    assert statuses == {job.pk: "Rejected", crashed.pk: "Failed"}


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("table", "header"),
    [
        ("totals", ["start", "end", *SUMS]),
        ("by-model", ["model", *SUMS]),
        ("by-project", ["project_id", "project", *SUMS]),
        ("by-day", ["day", *SUMS]),
        ("top-jobs", ["job_id", "day", "kind", "status", "output_artifact_id", "project", *SUMS]),
    ],
)
def test_each_costs_table_downloads_as_csv_with_full_precision(ops_client, table, header):
    project = make_project(name="=HYPERLINK(1)")
    job = make_job(output_artifact=make_artifact(project=project), status=JobStatus.DONE)
    make_run(job=job, model="gpt-4o-mini", cost_usd="0.000270")
    today = timezone.localdate()

    response = ops_client.get(
        reverse("admin:approvals_run_costs"), {"start": today - timedelta(days=1), "end": today, "csv": table}
    )

    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert f'filename="costs-{table}-' in response["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert rows[0] == header
    assert rows[-1][-1] == "0.000270"
    if table == "by-project":
        assert rows[1][1] == "'=HYPERLINK(1)"  # a spreadsheet would run it as a formula
