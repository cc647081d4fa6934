"""Geometry for a server-rendered SVG bar chart (no JavaScript, no inline styles: the CSP allows neither)."""

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import ROUND_CEILING, Decimal


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


def _nice_step(value: Decimal, *, most_steps: int = 5) -> Decimal:
    """The smallest of 1, 2, 5 × 10^k that covers value in at most most_steps gridlines: round labels."""
    if value <= 0:
        return Decimal(1)
    rough = value / most_steps
    exponent = rough.adjusted()
    for step in (Decimal(1), Decimal(2), Decimal(5), Decimal(10)):
        candidate = step.scaleb(exponent)
        if candidate >= rough:
            return candidate
    return Decimal(10).scaleb(exponent)


def _y_ticks(largest: Decimal) -> tuple[Decimal, list[Decimal]]:
    """The axis top and its gridline values: multiples of one round step, from 0 to at or above the largest bar."""
    step = _nice_step(largest)
    count = max(1, int((largest / step).to_integral_value(rounding=ROUND_CEILING)))
    values = [step * n for n in range(int(count) + 1)]
    return values[-1], values


def bar_chart(
    *,
    points: Sequence[tuple[str, Decimal]],
    value_label: Callable[[Decimal], str],
    description: str,
    width: int = 760,
    height: int = 240,
    x_labels: int = 6,
) -> BarChart:
    left, right, top, bottom = 72, 12, 12, 28
    plot_width, plot_height = width - left - right, height - top - bottom
    top_value, tick_values = _y_ticks(max((value for _, value in points), default=Decimal(0)))
    x_label_every = max(1, math.ceil(len(points) / x_labels))
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
        Tick(position=round(top + plot_height * (1 - float(value / top_value)), 2), label=value_label(value))
        for value in tick_values
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
