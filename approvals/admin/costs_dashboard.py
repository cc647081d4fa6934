"""The costs dashboard: tokens and cost by model, project and day for a date range (an admin view)."""

from dataclasses import dataclass
from decimal import Decimal

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.template.response import TemplateResponse

from approvals.admin import costs
from approvals.admin.costs_csv import CSV_TABLES, csv_download
from approvals.admin.links import changelist_url
from approvals.figures import format_usd
from approvals.models import Run
from approvals.permissions import COSTS_REFUSAL, may_view_costs
from approvals.reporting.charts import bar_chart
from approvals.reporting.periods import period_of
from approvals.selectors.run_totals import RunTotals

PROJECTS_SHOWN = 25


@dataclass(frozen=True)
class DayLine:
    """A day of the "By day" table, or a run of days without runs folded into one line."""

    first: costs.UsageRow
    last: costs.UsageRow | None = None

    @property
    def folded_days(self) -> int:
        return (self.last.key - self.first.key).days + 1 if self.last else 0


def fold_empty_days(rows: list[costs.UsageRow]) -> list[DayLine]:
    """Newest day first; consecutive days without runs become one line."""
    lines: list[DayLine] = []
    for row in reversed(rows):
        previous = lines[-1] if lines else None
        if row.usage.runs == 0 and previous and previous.first.usage.runs == 0:
            lines[-1] = DayLine(first=row, last=previous.last or previous.first)
        else:
            lines.append(DayLine(first=row))
    return lines


def _share(part: Decimal, whole: Decimal) -> Decimal:
    return (part / whole * 100).quantize(Decimal("0.1")) if whole else Decimal(0)


def costs_dashboard(request, *, model_admin: admin.ModelAdmin):
    if not may_view_costs(user=request.user):
        raise PermissionDenied(COSTS_REFUSAL)
    form, period = period_of(request)
    report = costs.cost_report(period=period)
    if request.GET.get("csv") in CSV_TABLES:
        return csv_download(report, table=request.GET["csv"])
    totals = report.totals
    shown_projects, other_projects = report.by_project[:PROJECTS_SHOWN], report.by_project[PROJECTS_SHOWN:]
    others = RunTotals.total(row.usage for row in other_projects)
    start_iso, end_iso = (moment.isoformat() for moment in period.bounds())
    runs_url = changelist_url(Run)
    query = request.GET.copy()
    query.pop("csv", None)

    context = {
        **model_admin.admin_site.each_context(request),
        "title": "Costs and tokens",
        "opts": Run._meta,
        "form": form,
        "period": period,
        "period_query": query.urlencode(),
        "totals": totals,
        "by_model": [
            {
                "row": row,
                "share": _share(row.usage.cost_usd, totals.cost_usd),
                "url": changelist_url(Run, model=row.key, created_at__gte=start_iso, created_at__lt=end_iso),
            }
            for row in report.by_model
        ],
        "by_day": fold_empty_days(report.by_day),
        "runs_url": runs_url,
        "by_project": [{"row": row, "share": _share(row.usage.cost_usd, totals.cost_usd)} for row in shown_projects],
        "other_projects": len(other_projects),
        "others": others,
        "others_share": _share(others.cost_usd, totals.cost_usd),
        "top_jobs": report.top_jobs,
        "chart": bar_chart(
            points=[(row.key.isoformat(), row.usage.cost_usd) for row in report.by_day],
            value_label=format_usd,
            description=f"Cost per day from {period.start} to {period.end}, in US dollars",
        ),
    }
    return TemplateResponse(request, "admin/approvals/costs_dashboard.html", context)
