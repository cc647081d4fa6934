"""Review analytics pages: staff, and users granted approvals.view_analytics (the Leads group).

Every page keeps no copy in a shared browser or a proxy (it names reviewers
and projects), and its cost figures are shown only to those the costs
dashboard itself would show them to (`may_view_costs`).
"""

from decimal import Decimal

from django.shortcuts import render
from django.views.decorators.http import require_GET

from approvals.analytics import queries
from approvals.permissions import analytics_required, may_view_costs
from approvals.plumbing.security_headers import keeps_no_copy
from approvals.reporting.charts import bar_chart
from approvals.reporting.periods import period_of


def _period_context(request) -> tuple[dict, object]:
    form, period = period_of(request)
    return {"form": form, "period": period}, period


def _render(request, template: str, context: dict):
    # Every page asks: the navigation names the outcomes page for what it holds.
    return render(request, template, {**context, "shows_costs": may_view_costs(user=request.user)})


@require_GET
@keeps_no_copy
@analytics_required
def queue_now(request):
    queues = queries.queue_by_project()
    context = {
        "queues": queues[: queries.SHOWN],
        "more": len(queues) - queries.SHOWN if len(queues) > queries.SHOWN else 0,
        "pending": sum(q.count for q in queues),
        "overdue": sum(q.overdue for q in queues),
        "oldest": min((q.oldest for q in queues), default=None),
        "targets": sum(1 for q in queues if q.target_hours),
    }
    return _render(request, "approvals/analytics/queue.html", context)


@require_GET
@keeps_no_copy
@analytics_required
def reviewers(request):
    context, period = _period_context(request)
    activity = queries.reviewer_activity(period=period)
    by_day = {day.day: day.total for day in activity.days}
    context["activity"] = activity
    context["chart"] = bar_chart(
        points=[(day.isoformat(), Decimal(by_day.get(day, 0))) for day in period.days],
        value_label=lambda value: f"{value:,.0f}",
        description=f"Decisions per day from {period.start} to {period.end}",
    )
    return _render(request, "approvals/analytics/reviewers.html", context)


@require_GET
@keeps_no_copy
@analytics_required
def time_to_decision(request):
    context, period = _period_context(request)
    weeks = queries.time_to_decision_by_week(period=period)
    projects = queries.time_to_decision_by_project(period=period)
    context.update(weeks=weeks, projects=projects[: queries.SHOWN], more=max(0, len(projects) - queries.SHOWN))
    context["chart"] = bar_chart(
        points=[
            (week.isoformat(), Decimal(wait.p95.total_seconds() / 3600)) for week, wait in weeks if wait.p95 is not None
        ],
        # One unit on the axis (the tables switch to days past 48 hours).
        value_label=lambda hours: f"{hours:,.0f} h",
        description=f"p95 time to decision per week from {period.start} to {period.end}",
    )
    return _render(request, "approvals/analytics/time_to_decision.html", context)


@require_GET
@keeps_no_copy
@analytics_required
def outcomes(request):
    context, period = _period_context(request)
    result = queries.outcomes(period=period)
    context["total"] = result.total
    context["tables"] = [
        ("model", "By model", "An item made with several models counts once for each.", result.by["model"]),
        ("prompt", "By prompt", "The artifact's metadata.prompt, else its job's params.", result.by["prompt"]),
        ("project", "By project", "", result.by["project"][: queries.SHOWN]),
        ("kind", "By job kind", "", result.by["kind"]),
    ]
    return _render(request, "approvals/analytics/outcomes.html", context)
