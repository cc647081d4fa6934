"""The costs dashboard: totals and breakdowns equal sums computed by hand, SVG chart, range handling."""

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from approvals.models import JobStatus, Run
from approvals.tests.factories import make_artifact, make_job, make_project, make_run

pytestmark = pytest.mark.django_db

UTC = UTC


def _run_at(job, when: datetime, **fields) -> Run:
    run = make_run(job=job, **fields)
    Run.objects.filter(pk=run.pk).update(created_at=when)
    return run


def test_costs_dashboard_totals_match_a_hand_computed_sum(ops_client):
    north, south = make_project(name="North project"), make_project(name="South project")
    north_job = make_job(output_artifact=make_artifact(project=north), status=JobStatus.DONE)
    south_job = make_job(output_artifact=make_artifact(project=south), status=JobStatus.DONE)
    day1, day2 = (datetime(2026, 3, d, 12, tzinfo=UTC) for d in (10, 11))
    _run_at(north_job, day1, model="gpt-4o-mini", prompt_tokens=1000, completion_tokens=200, cost_usd="0.000270")
    _run_at(north_job, day2, model="claude-3-5-sonnet", prompt_tokens=2000, completion_tokens=500, cost_usd="0.013500")
    _run_at(south_job, day2, model="claude-3-5-sonnet", prompt_tokens=4000, completion_tokens=1000, cost_usd="0.027")
    _run_at(south_job, day2, model="gpt-4o-mini", prompt_tokens=10, completion_tokens=5, cost_usd=None)
    # Outside the chosen range: must not count.
    _run_at(south_job, datetime(2026, 3, 12, 0, 0, tzinfo=UTC), prompt_tokens=99_999, cost_usd="9.99")

    response = ops_client.get(reverse("admin:approvals_run_costs"), {"start": "2026-03-10", "end": "2026-03-11"})
    assert response.status_code == 200
    page = response.content.decode()
    # By hand: 4 runs; prompt 1000+2000+4000+10 = 7,010; completion 200+500+1000+5 = 1,705;
    # total 8,715; cost 0.000270 + 0.013500 + 0.027 = 0.040770 -> $0.04077 (four significant digits).
    assert 'data-total="runs">4<' in page
    assert 'data-total="prompt_tokens">7,010<' in page
    assert 'data-total="completion_tokens">1,705<' in page
    assert 'data-total="total_tokens">8,715<' in page
    assert 'data-total="cost_usd">$0.04077<' in page
    report = response.context["by_model"]
    assert [(item["row"].label, item["row"].usage.cost_usd) for item in report] == [
        ("claude-3-5-sonnet", Decimal("0.040500")),
        ("gpt-4o-mini", Decimal("0.000270")),
    ]
    projects = [(item["row"].label, item["row"].usage.total_tokens) for item in response.context["by_project"]]
    assert projects == [("South project", 5015), ("North project", 3700)]
    days = {line.first.key: line.first.usage.runs for line in response.context["by_day"]}
    assert days == {date(2026, 3, 10): 1, date(2026, 3, 11): 3}
    top = [(top.job.pk, top.day, top.usage.cost_usd) for top in response.context["top_jobs"]]
    assert top == [
        (south_job.pk, date(2026, 3, 11), Decimal("0.027000")),
        (north_job.pk, date(2026, 3, 11), Decimal("0.013500")),
        (north_job.pk, date(2026, 3, 10), Decimal("0.000270")),
    ]
    assert page.count('<rect x="') == 2


def test_costs_dashboard_defaults_to_the_last_30_days(ops_client):
    response = ops_client.get(reverse("admin:approvals_run_costs"))
    period = response.context["period"]
    assert (period.start, period.end) == (timezone.localdate() - timedelta(days=29), timezone.localdate())


def test_costs_dashboard_rejects_a_reversed_range_and_shows_the_default(ops_client):
    response = ops_client.get(reverse("admin:approvals_run_costs"), {"start": "2026-03-11", "end": "2026-03-01"})
    assert "The start date is after the end date." in response.content.decode()
    assert response.context["period"].end == timezone.localdate()


def test_costs_chart_uses_svg_attributes_not_inline_styles(ops_client, ops_dataset):
    page = ops_client.get(reverse("admin:approvals_run_costs")).content.decode()
    start = page.index('<svg class="bar-chart"')
    svg = page[start : page.index("</svg>", start)]
    assert "style=" not in svg
    assert svg.count("<rect") == 30


def test_follow_up_jobs_count_for_their_input_artifacts_project(ops_client):
    project = make_project(name="Input project")
    follow_up = make_job(output_artifact=None, status=JobStatus.RUNNING, kind="publish_post")
    follow_up.input_artifact = make_artifact(project=project)
    follow_up.save(update_fields=["input_artifact"])
    orphan = make_job(output_artifact=None, status=JobStatus.QUEUED)
    when = datetime(2026, 3, 10, 9, tzinfo=UTC)
    _run_at(follow_up, when, prompt_tokens=100, completion_tokens=10, cost_usd="0.001000")
    _run_at(orphan, when, prompt_tokens=200, completion_tokens=20, cost_usd="0.002000")

    response = ops_client.get(reverse("admin:approvals_run_costs"), {"start": "2026-03-10", "end": "2026-03-10"})
    projects = {item["row"].label: item["row"].usage.total_tokens for item in response.context["by_project"]}
    assert projects == {"(no artifact)": 220, "Input project": 110}
