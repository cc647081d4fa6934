"""A run's duration and cost as every admin page prints them (approvals/figures.py): the runs list and a
job's runs inline alike."""

from django.contrib import admin

from approvals.figures import format_duration_ms, format_usd
from approvals.models import Run


class RunFigures:
    @admin.display(description="duration")
    def duration(self, run: Run) -> str:
        return format_duration_ms(run.duration_ms)

    @admin.display(description="cost")
    def cost(self, run: Run) -> str:
        return format_usd(run.cost_usd)
