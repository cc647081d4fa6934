"""The costs dashboard: tokens and cost by model, project and day for a date range (an admin view)."""

from decimal import Decimal

from django import forms
from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.template.response import TemplateResponse

from approvals.admin import costs
from approvals.admin.charts import bar_chart
from approvals.admin.links import changelist_url
from approvals.models import Run

PROJECTS_SHOWN = 25
TOP_JOBS = 20


class PeriodForm(forms.Form):
    start = forms.DateField(widget=forms.DateInput(attrs={"type": "date"}))
    end = forms.DateField(widget=forms.DateInput(attrs={"type": "date"}))

    def clean(self):
        cleaned = super().clean()
        start, end = cleaned.get("start"), cleaned.get("end")
        if start and end:
            if start > end:
                raise forms.ValidationError("The start date is after the end date.")
            if (end - start).days + 1 > costs.MAX_DAYS:
                raise forms.ValidationError(f"Choose at most {costs.MAX_DAYS} days.")
        return cleaned

    def period(self) -> costs.Period:
        return costs.Period(start=self.cleaned_data["start"], end=self.cleaned_data["end"])


def _usd(value: Decimal) -> str:
    return f"${value:,.2f}"


def _share(part: Decimal, whole: Decimal) -> Decimal:
    return (part / whole * 100).quantize(Decimal("0.1")) if whole else Decimal(0)


def costs_dashboard(request, *, model_admin: admin.ModelAdmin) -> TemplateResponse:
    if not model_admin.has_view_permission(request):
        raise PermissionDenied
    default = costs.Period.last_days()
    if "start" in request.GET or "end" in request.GET:
        form = PeriodForm(request.GET)
        period = form.period() if form.is_valid() else default
    else:
        form = PeriodForm(initial={"start": default.start, "end": default.end})
        period = default

    report = costs.cost_report(period=period, top_jobs=TOP_JOBS)
    totals = report.totals
    shown_projects, other_projects = report.by_project[:PROJECTS_SHOWN], report.by_project[PROJECTS_SHOWN:]
    # The tail of the projects as one row: sums of the SQL sums already fetched.
    others = costs.Usage(
        runs=sum(row.usage.runs for row in other_projects),
        prompt_tokens=sum(row.usage.prompt_tokens for row in other_projects),
        completion_tokens=sum(row.usage.completion_tokens for row in other_projects),
        total_tokens=sum(row.usage.total_tokens for row in other_projects),
        cost_usd=sum((row.usage.cost_usd for row in other_projects), Decimal(0)),
    )
    start_iso, end_iso = (moment.isoformat() for moment in period.bounds())
    runs_url = changelist_url(Run)

    context = {
        **model_admin.admin_site.each_context(request),
        "title": "Costs and tokens",
        "opts": Run._meta,
        "form": form,
        "period": period,
        "totals": totals,
        "by_model": [
            {
                "row": row,
                "share": _share(row.usage.cost_usd, totals.cost_usd),
                "url": changelist_url(Run, model=row.key, created_at__gte=start_iso, created_at__lt=end_iso),
            }
            for row in report.by_model
        ],
        "by_day": [
            {
                "row": row,
                "url": f"{runs_url}?created_at__year={row.key.year}&created_at__month={row.key.month}"
                f"&created_at__day={row.key.day}",
            }
            for row in reversed(report.by_day)
        ],
        "by_project": [{"row": row, "share": _share(row.usage.cost_usd, totals.cost_usd)} for row in shown_projects],
        "other_projects": len(other_projects),
        "others": others,
        "others_share": _share(others.cost_usd, totals.cost_usd),
        "top_jobs": report.top_jobs,
        "chart": bar_chart(
            points=[(row.key.strftime("%b %d"), row.usage.cost_usd) for row in report.by_day],
            value_label=_usd,
            description=f"Cost per day from {period.start} to {period.end}, in US dollars",
            x_label_every=max(1, len(report.by_day) // 8),
        ),
    }
    return TemplateResponse(request, "admin/approvals/costs_dashboard.html", context)
