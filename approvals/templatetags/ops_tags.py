"""Filters of the ops pages (costs dashboard, review analytics): money and durations, from approvals/figures.py."""

from django import template

from approvals.figures import format_duration, format_usd

register = template.Library()

usd = register.filter("usd", format_usd)
duration = register.filter("duration", format_duration)


@register.filter
def get_count(counts: dict, key) -> int:
    """A reviewer's decisions on one day of the per-day table (0 when none)."""
    return counts.get(key, 0)
