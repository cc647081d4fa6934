"""Numbers on the ops pages (costs dashboard, review analytics): one money rule, one duration rule."""

from datetime import timedelta
from decimal import Decimal

from django import template

register = template.Library()

# Runs store costs in micro-dollars (numeric(12, 6)): nothing non-zero is smaller.
SMALLEST_CENT_FRACTION = 6


def format_usd(value: Decimal | float | int | None) -> str:
    """Dollars and cents from $1 up; below $1, four significant digits (at least two decimals, at most
    six), so that no non-zero cost reads as $0.00."""
    if value is None:
        return "–"
    value = Decimal(value)
    if value == 0:
        return "$0.00"
    if abs(value) >= 1:
        return f"${value:,.2f}"
    decimals = min(SMALLEST_CENT_FRACTION, max(2, 3 - value.adjusted()))
    text = f"{value:.{decimals}f}"
    whole, _, fraction = text.partition(".")
    fraction = fraction.rstrip("0").ljust(2, "0")
    if Decimal(f"{whole}.{fraction}") == 0:
        return "<$0.000001"
    return f"${whole}.{fraction}"


@register.filter
def money(value) -> str:
    return format_usd(value)


def format_hours(value: timedelta | float | None) -> str:
    """A wait or a time to decision: minutes under an hour, hours under two days, then days."""
    if value is None:
        return "–"
    seconds = value.total_seconds() if isinstance(value, timedelta) else float(value)
    if seconds < 3600:
        return f"{seconds / 60:.0f} min"
    if seconds < 48 * 3600:
        return f"{seconds / 3600:.1f} h"
    return f"{seconds / 86400:.1f} d"


@register.filter
def duration(value) -> str:
    return format_hours(value)


@register.filter
def get_count(counts: dict, key) -> int:
    """A reviewer's decisions on one day of the per-day table (0 when none)."""
    return counts.get(key, 0)
