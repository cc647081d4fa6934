"""The costs rollup (010_ops_rollups.sql) against the raw runs: equal sums whatever changed after it was built."""

from datetime import UTC, datetime, time, timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from approvals.admin import costs
from approvals.models import Artifact, Job, JobStatus, Project, Run, RunCostDay, RunCostRollup
from approvals.tests.cost_reports import dashboard_report, raw_report
from approvals.tests.factories import make_artifact, make_job, make_project, make_run

pytestmark = pytest.mark.django_db


def _days_ago(days: int, hour: int = 12) -> datetime:
    return datetime.combine(timezone.localdate() - timedelta(days=days), time(hour), tzinfo=UTC)


def _run_at(job: Job, when: datetime, **fields) -> Run:
    run = make_run(job=job, **fields)
    Run.objects.filter(pk=run.pk).update(created_at=when)
    return run


@pytest.fixture
def history():
    """Runs on closed days of two projects, summed into the rollup."""
    north, south = make_project(name="North"), make_project(name="South")
    north_job = make_job(output_artifact=make_artifact(project=north), status=JobStatus.DONE)
    south_job = make_job(output_artifact=make_artifact(project=south), status=JobStatus.DONE)
    for days_ago in (40, 20, 5, 3):
        _run_at(north_job, _days_ago(days_ago), model="gpt-4o-mini", cost_usd="0.000270")
        _run_at(south_job, _days_ago(days_ago, hour=23), model="claude-3-5-sonnet", cost_usd="0.013500")
    assert costs.refresh_rollup() > 0
    return {"north": north, "south": south, "north_job": north_job, "south_job": south_job}


PERIODS = {
    "30 days": lambda: costs.Period.last_days(30),
    "365 days": lambda: costs.Period.last_days(365),
    "custom": lambda: costs.Period(
        start=timezone.localdate() - timedelta(days=41), end=timezone.localdate() - timedelta(days=4)
    ),
}


@pytest.mark.parametrize("period", PERIODS.values(), ids=PERIODS.keys())
def test_costs_equal_the_raw_sums_after_runs_change_on_rolled_up_days_and_today(history, period):
    north_job, south_job = history["north_job"], history["south_job"]
    late = _run_at(north_job, _days_ago(20, hour=1), model="gemini-1.5-flash", cost_usd="0.000015")
    Run.objects.filter(pk=late.pk).update(cost_usd=Decimal("0.000016"), prompt_tokens=7)
    Run.objects.filter(job=south_job, created_at__date=_days_ago(5).date()).delete()
    make_run(job=south_job, model="gpt-4o", cost_usd="0.250000")  # today: never rolled up
    # The south job's output moves to a north artifact: its closed days count for North now.
    Job.objects.filter(pk=south_job.pk).update(output_artifact=make_artifact(project=history["north"]))
    moved = make_job(output_artifact=make_artifact(project=history["south"]))
    _run_at(moved, _days_ago(3), model="gpt-4o-mini", cost_usd="0.001000")
    assert costs.refresh_rollup() > 0
    Artifact.objects.filter(pk=moved.output_artifact_id).update(project=history["north"])

    period = period()
    assert dashboard_report(period) == raw_report(period)


def test_deleting_a_project_moves_its_rolled_up_runs_to_no_artifact(history):
    Project.objects.filter(pk=history["south"].pk).delete()
    period = costs.Period.last_days(60)
    report = dashboard_report(period)
    assert report == raw_report(period)
    assert report["by_project"][None].runs == 4


def test_closed_days_are_read_from_the_rollup_and_stamped_when_a_run_changes(history):
    day = _days_ago(20).date()
    assert RunCostDay.objects.get(day=day).changed_at is None
    assert RunCostRollup.objects.filter(day=day, dimension="project").count() == 2
    _run_at(history["north_job"], _days_ago(20), cost_usd="1.000000")
    assert RunCostDay.objects.get(day=day).changed_at is not None
    costs.refresh_rollup()
    stamp = RunCostDay.objects.get(day=day)
    assert stamp.changed_at is None and stamp.rolled_up_at is not None


def test_todays_runs_leave_the_day_stamps_alone(history):
    stamps = list(RunCostDay.objects.order_by("day").values_list("day", "changed_at"))
    make_run(job=history["north_job"], cost_usd="0.500000")
    assert list(RunCostDay.objects.order_by("day").values_list("day", "changed_at")) == stamps


# --- dates the pipeline may write that no report has a day for ------------------------------------------

DATES_NO_REPORT_HOLDS = ["-infinity", "infinity", "0044-03-15 12:00:00+00 BC", "12000-01-01 00:00:00+00"]


def _run_dated(job: Job, stored: str) -> None:
    run = make_run(job=job, cost_usd="9.000000")
    with connection.cursor() as cursor:
        cursor.execute("update runs set created_at = %s::timestamptz where id = %s", [stored, run.pk])


def _refresh_within(seconds: int) -> int:
    with connection.cursor() as cursor:
        cursor.execute("select set_config(%s, %s, true)", ["statement_timeout", f"{seconds}s"])
        cursor.execute("select refresh_run_cost_rollup()")
        return cursor.fetchone()[0]


@pytest.mark.parametrize("stored", DATES_NO_REPORT_HOLDS)
def test_a_run_dated_outside_the_years_1_to_9999_is_in_no_day_and_the_rollup_stays_quick(history, stored):
    _run_dated(history["north_job"], stored)

    assert _refresh_within(5) == 0  # before: -infinity never finished, and nothing here is a new day
    assert not RunCostDay.objects.extra(where=["not (day between '0001-01-01' and '9999-12-31')"]).exists()
    period = costs.Period.last_days(365)
    assert dashboard_report(period) == raw_report(period)


def test_a_run_dated_year_1_adds_one_day_to_sum_not_every_day_since(history):
    _run_dated(history["north_job"], "0001-01-01 12:00:00+00")

    assert _refresh_within(5) == 1  # before: 739,000 days, one per day from year 1 to yesterday


def test_the_costs_dashboard_opens_beside_runs_at_infinity(history, admin_client):
    for stored in DATES_NO_REPORT_HOLDS:
        _run_dated(history["south_job"], stored)

    assert admin_client.get(reverse("admin:approvals_run_costs")).status_code == 200


def test_service_role_refreshes_the_rollup(history):
    _run_at(history["north_job"], _days_ago(9))
    with connection.cursor() as cursor:
        cursor.execute("set local role service_role")
        cursor.execute("select refresh_run_cost_rollup()")
        assert cursor.fetchone()[0] == 1
