"""The costs rollup (010_ops_rollups.sql) against the raw runs: equal sums whatever changed after it was built."""

from datetime import UTC, datetime, time, timedelta
from decimal import Decimal

import pytest
from django.db.models import Count, Sum
from django.db.models.functions import Coalesce, TruncDate
from django.utils import timezone

from approvals.admin import costs
from approvals.models import Artifact, Job, JobStatus, Project, Run, RunCostDay, RunCostRollup
from approvals.selectors.run_totals import RunTotals
from approvals.tests.factories import make_artifact, make_job, make_project, make_run

pytestmark = pytest.mark.django_db


def _days_ago(days: int, hour: int = 12) -> datetime:
    return datetime.combine(timezone.localdate() - timedelta(days=days), time(hour), tzinfo=UTC)


def _run_at(job: Job, when: datetime, **fields) -> Run:
    run = make_run(job=job, **fields)
    Run.objects.filter(pk=run.pk).update(created_at=when)
    return run


def _sums(runs) -> RunTotals:
    row = runs.aggregate(
        runs=Count("id"),
        prompt_tokens=Coalesce(Sum("prompt_tokens"), 0),
        completion_tokens=Coalesce(Sum("completion_tokens"), 0),
        total_tokens=Coalesce(Sum("total_tokens"), 0),
        cost_usd=Coalesce(Sum("cost_usd"), Decimal(0)),
    )
    return RunTotals(**row)


def raw_report(period: costs.Period, dimensions=("totals", "by_model", "by_project", "by_day")) -> dict:
    """The report's figures summed straight from runs with the ORM: what the rollup must equal."""
    start, end = period.bounds()
    runs = Run.objects.filter(created_at__gte=start, created_at__lt=end)
    attributed = runs.annotate(project=Coalesce("job__output_artifact__project_id", "job__input_artifact__project_id"))
    by_day = runs.annotate(day=TruncDate("created_at"))
    report = {
        "totals": lambda: _sums(runs),
        "by_model": lambda: {
            model: _sums(runs.filter(model=model))
            for model in runs.order_by().values_list("model", flat=True).distinct()
        },
        "by_project": lambda: {
            project: _sums(attributed.filter(project=project) if project else attributed.filter(project__isnull=True))
            for project in attributed.order_by().values_list("project", flat=True).distinct()
        },
        "by_day": lambda: {
            day: _sums(by_day.filter(day=day)) for day in by_day.order_by().values_list("day", flat=True).distinct()
        },
    }
    return {name: report[name]() for name in dimensions}


def dashboard_report(period: costs.Period) -> dict:
    report = costs.cost_report(period=period)
    return {
        "totals": report.totals,
        "by_model": {row.key: row.usage for row in report.by_model},
        "by_project": {row.key: row.usage for row in report.by_project},
        "by_day": {row.key: row.usage for row in report.by_day if row.usage.runs},
    }


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
