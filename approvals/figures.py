"""How money and durations print on every page: the admin, the costs dashboard, the review page, analytics.

One rule each, so a run's cost and duration read the same wherever they are
shown. The tag libraries (templatetags/ops_tags.py, review_tags.py) register
these as the `usd`, `duration` and `duration_ms` filters; the admin calls them.
"""

from datetime import timedelta
from decimal import Decimal

# Runs store costs in micro-dollars (numeric(12, 6)): nothing non-zero is smaller.
SMALLEST_CENT_FRACTION = 6

NO_FIGURE = "–"


def format_usd(value: Decimal | float | int | None) -> str:
    """Dollars and cents from $1 up; below $1, four significant digits (at least two decimals, at most
    six), so that no non-zero cost reads as $0.00."""
    if value is None:
        return NO_FIGURE
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


def _two_units(count: int, unit: int, large: str, small: str) -> str:
    """`count` small units as the large unit and the rest of the small one: "3 h 20 min", "3 h"."""
    whole, rest = divmod(count, unit)
    return f"{whole} {large} {rest} {small}" if rest else f"{whole} {large}"


def format_duration(value: timedelta | float | int | None) -> str:
    """A duration (a timedelta, or seconds) in its largest one or two units.

    "850 ms", "12.3 s", "4 min 5 s", "3 h 20 min", "2 d 4 h": a model run
    and a wait for review read the same way, and the way the queue's waiting
    times do, without making the reader turn "1.3 h" into minutes.
    """
    if value is None:
        return NO_FIGURE
    seconds = value.total_seconds() if isinstance(value, timedelta) else float(value)
    if round(seconds * 1000) < 1000:
        return f"{round(seconds * 1000)} ms"
    if round(seconds, 1) < 60:
        return f"{seconds:.1f} s"
    if round(seconds) < 3600:
        return _two_units(round(seconds), 60, "min", "s")
    if round(seconds / 60) < 24 * 60:
        return _two_units(round(seconds / 60), 60, "h", "min")
    return _two_units(round(seconds / 3600), 24, "d", "h")


def format_duration_ms(value: int | None) -> str:
    """format_duration of a count of milliseconds (runs.duration_ms)."""
    return format_duration(None if value is None else value / 1000)
