"""The overview's chart of active subscribers per platform over the last 90 days, drawn on the
server as SVG: no script (the CSP allows none inline) and no chart library to serve."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from panel.formats import count

WIDTH, HEIGHT = 720, 240
LEFT, RIGHT, TOP, BOTTOM = 64, 12, 12, 28
COLOURS = ("#0d6efd", "#198754", "#d63384", "#fd7e14", "#6f42c1", "#20c997")


@dataclass(frozen=True)
class Line:
    name: str
    colour: str
    points: str  # the polyline's "x,y x,y …"
    last: int  # the latest day's active subscribers


@dataclass(frozen=True)
class Tick:
    position: float
    label: str


@dataclass(frozen=True)
class Chart:
    width: int
    height: int
    lines: list[Line]
    y_ticks: list[Tick]
    x_ticks: list[Tick]
    plot: tuple[int, int, int, int]  # left, top, right, bottom

    @property
    def empty(self) -> bool:
        return not self.lines


def _nice_step(value: int) -> int:
    """The y axis' step between its 4 gridlines: 1, 2, 2.5 or 5 × 10^k (a whole number), so that
    4 steps reach ``value``."""
    needed, scale = max(1, -(-value // 4)), 1
    while True:
        for step in (scale, 2 * scale, 5 * scale // 2 if scale >= 10 else 2 * scale, 5 * scale):
            if step >= needed:
                return step
        scale *= 10


def active_chart(series: dict[int, list[tuple[date, int]]], names: dict[int, str], today: date, days: int) -> Chart:
    first = today - timedelta(days=days - 1)
    right, bottom = WIDTH - RIGHT, HEIGHT - BOTTOM
    step = _nice_step(max((active for points in series.values() for _, active in points), default=0))
    top_value = 4 * step

    def x(day: date) -> float:
        return LEFT + (right - LEFT) * (day - first).days / max(1, days - 1)

    def y(value: int) -> float:
        return bottom - (bottom - TOP) * value / top_value

    lines = [
        Line(
            names.get(platform_id, str(platform_id)),
            COLOURS[number % len(COLOURS)],
            " ".join(f"{x(day):.1f},{y(active):.1f}" for day, active in points),
            points[-1][1],
        )
        for number, (platform_id, points) in enumerate(sorted(series.items()))
        if points
    ]
    y_ticks = [Tick(y(step * number), count(step * number)) for number in range(5)]
    x_ticks = [
        Tick(x(first + timedelta(days=offset)), (first + timedelta(days=offset)).strftime("%d/%m"))
        for offset in range(0, days, 15)
    ]
    return Chart(WIDTH, HEIGHT, lines, y_ticks, x_ticks, (LEFT, TOP, right, bottom))
