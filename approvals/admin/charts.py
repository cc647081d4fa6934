"""Geometry for a server-rendered SVG bar chart (no JavaScript, no inline styles: the CSP allows neither)."""

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    title: str


@dataclass(frozen=True)
class Tick:
    position: float
    label: str


@dataclass(frozen=True)
class BarChart:
    width: int
    height: int
    plot_left: int
    plot_bottom: int
    plot_right: int
    bars: list[Bar]
    y_ticks: list[Tick]
    x_ticks: list[Tick]
    description: str


def _nice_ceiling(value: Decimal) -> Decimal:
    """The smallest of 1, 2, 2.5, 5 × 10^k at or above value: round gridlines."""
    if value <= 0:
        return Decimal(1)
    exponent = value.adjusted()
    for step in (Decimal(1), Decimal(2), Decimal("2.5"), Decimal(5), Decimal(10)):
        candidate = step.scaleb(exponent)
        if candidate >= value:
            return candidate
    return Decimal(10).scaleb(exponent)


def bar_chart(
    *,
    points: Sequence[tuple[str, Decimal]],
    value_label: Callable[[Decimal], str],
    description: str,
    width: int = 760,
    height: int = 240,
    x_label_every: int = 5,
) -> BarChart:
    left, right, top, bottom = 64, 12, 12, 28
    plot_width, plot_height = width - left - right, height - top - bottom
    top_value = _nice_ceiling(max((value for _, value in points), default=Decimal(0)))
    slot = plot_width / max(len(points), 1)
    bars, x_ticks = [], []
    for n, (label, value) in enumerate(points):
        bar_height = float(value / top_value) * plot_height if top_value else 0.0
        x = left + n * slot
        bars.append(
            Bar(
                x=round(x + slot * 0.1, 2),
                y=round(top + plot_height - bar_height, 2),
                width=round(slot * 0.8, 2),
                height=round(bar_height, 2),
                title=f"{label}: {value_label(value)}",
            )
        )
        if n % x_label_every == 0:
            x_ticks.append(Tick(position=round(x + slot / 2, 2), label=label))
    y_ticks = [
        Tick(position=round(top + plot_height * (1 - fraction), 2), label=value_label(top_value * Decimal(fraction)))
        for fraction in (0, 0.25, 0.5, 0.75, 1)
    ]
    return BarChart(
        width=width,
        height=height,
        plot_left=left,
        plot_bottom=top + plot_height,
        plot_right=width - right,
        bars=bars,
        y_ticks=y_ticks,
        x_ticks=x_ticks,
        description=description,
    )
