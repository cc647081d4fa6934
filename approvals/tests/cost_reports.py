"""The costs report two ways, for tests that compare them: from the rollup (the dashboard) and summed from runs."""

from decimal import Decimal

from django.db.models import Count, Sum
from django.db.models.functions import Coalesce, TruncDate

from approvals.admin import costs
from approvals.models import Run
from approvals.selectors.run_totals import RunTotals


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
