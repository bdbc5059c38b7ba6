"""The dashboard's two small charts, drawn server-side as SVG (no chart library, nothing to load).

Runs per hour over the last 24 hours, stacked by status, and the p50/p95 duration of each hour's
finished runs. Each bar is a ``<rect>`` with ``data-hour`` and ``data-status``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from monitoring.selectors import Hour

WIDTH, HEIGHT = 480, 150
LEFT, BOTTOM, TOP = 34, 18, 8


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    status: str
    hour: str
    count: int


def _ticks(peak: float) -> list[float]:
    return [0, peak / 2, peak] if peak else [0]


def runs_chart(hours: list[Hour]) -> dict[str, Any]:
    peak = max((h.runs for h in hours), default=0) or 1
    slot = (WIDTH - LEFT) / max(len(hours), 1)
    plot = HEIGHT - BOTTOM - TOP
    bars: list[Bar] = []
    for index, hour in enumerate(hours):
        base = HEIGHT - BOTTOM
        for status, count in (("completed", hour.completed), ("failed", hour.failed), ("other", hour.other)):
            if not count:
                continue
            height = plot * count / peak
            base -= height
            bars.append(
                Bar(
                    LEFT + index * slot + 1, base, max(slot - 2, 1), height, status, hour.start.strftime("%H:00"), count
                )
            )
    return {
        "width": WIDTH,
        "height": HEIGHT,
        "bars": bars,
        "axis_y": HEIGHT - BOTTOM,
        "left": LEFT,
        "ticks": [(round(HEIGHT - BOTTOM - plot * t / peak, 1), int(t)) for t in _ticks(peak)],
        "labels": [(LEFT + i * slot + slot / 2, h.start.strftime("%H")) for i, h in enumerate(hours) if i % 4 == 0],
        "total": sum(h.runs for h in hours),
    }


def duration_chart(hours: list[Hour]) -> dict[str, Any]:
    values = [v for h in hours for v in (h.p50_seconds, h.p95_seconds) if v is not None]
    peak = max(values, default=0) or 1
    slot = (WIDTH - LEFT) / max(len(hours), 1)
    plot = HEIGHT - BOTTOM - TOP

    def points(attribute: str) -> list[tuple[float, float, str, str]]:
        return [
            (
                round(LEFT + i * slot + slot / 2, 1),
                round(HEIGHT - BOTTOM - plot * getattr(h, attribute) / peak, 1),
                h.start.strftime("%H:00"),
                f"{getattr(h, attribute):.3f} s",
            )
            for i, h in enumerate(hours)
            if getattr(h, attribute) is not None
        ]

    def line(attribute: str) -> str:
        return " ".join(f"{x},{y}" for x, y, _, _ in points(attribute))

    return {
        "width": WIDTH,
        "height": HEIGHT,
        "p50": line("p50_seconds"),
        "p95": line("p95_seconds"),
        "p50_points": points("p50_seconds"),
        "p95_points": points("p95_seconds"),
        "axis_y": HEIGHT - BOTTOM,
        "left": LEFT,
        "ticks": [(round(HEIGHT - BOTTOM - plot * t / peak, 1), f"{t:.2g} s") for t in _ticks(peak)],
        "labels": [(LEFT + i * slot + slot / 2, h.start.strftime("%H")) for i, h in enumerate(hours) if i % 4 == 0],
        "empty": not values,
    }
