"""Charts of call analytics as inline SVG: no script, no fonts or images fetched.

Each chart is a ``<svg>`` element sized by its ``viewBox``, so it scales with the page.
Colours are fixed per series (see :data:`SERIES_COLOURS`), the same on screen and paper.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import date, timedelta
from html import escape

from calltrack.domain.analytics import CallMetrics, DailyMetrics

__all__ = [
    "ANSWER_RATE_COLOUR",
    "SERIES_COLOURS",
    "answer_rate_chart",
    "calls_by_mark_chart",
    "legend",
    "nice_ceiling",
    "total_series",
]

SERIES_COLOURS: dict[str, str] = {
    "Response by call": "#2e7d32",
    "Missed call": "#d32f2f",
    "No resume": "#1565c0",
    "Not classified": "#80cbc4",
    "Spam blocked": "#424242",
    "After close": "#8e24aa",
}
"""The fill of each series of the calls-per-day chart, bottom to top."""

ANSWER_RATE_COLOUR = "#ef6c00"
"""The stroke of the answer-rate line."""

_WIDTH = 720
_HEIGHT = 260
_LEFT, _RIGHT, _TOP, _BOTTOM = 52, 12, 14, 40
_MIN_DAYS = 7
_LABELS = 8


def nice_ceiling(value: int) -> int:
    """The smallest of 1, 2, 5, 10, 20, 50, ... that is at least ``value`` (and at least 1)."""
    if value <= 1:
        return 1
    power = 1
    while power * 10 < value:
        power *= 10
    return next(step * power for step in (1, 2, 5, 10) if step * power >= value)


def _series(metrics: CallMetrics) -> list[tuple[str, int]]:
    unclassified = (
        metrics.calls
        - metrics.response_by_call
        - metrics.missed_call
        - metrics.no_resume
        - metrics.spam_blocked
        - metrics.after_close
    )
    return [
        ("Response by call", metrics.response_by_call),
        ("Missed call", metrics.missed_call),
        ("No resume", metrics.no_resume),
        ("Not classified", max(unclassified, 0)),
        ("Spam blocked", metrics.spam_blocked),
        ("After close", metrics.after_close),
    ]


def _padded(days: Sequence[DailyMetrics]) -> list[DailyMetrics]:
    """At least a week of days: a short run is drawn after empty days, not stretched."""
    shown = list(days)
    if not shown:
        return shown
    first = shown[0].day
    missing = _MIN_DAYS - len(shown)
    before = [
        DailyMetrics(first - timedelta(days=missing - i), CallMetrics()) for i in range(missing)
    ]
    return before + shown


def _label_every(count: int) -> int:
    return max(1, math.ceil(count / _LABELS))


def _day_label(day: date) -> str:
    return f"{day.day:02d}.{day.month:02d}"


def _frame(title: str, body: list[str]) -> str:
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {_WIDTH} {_HEIGHT}" '
        f'role="img" aria-label="{escape(title)}" class="chart">'
        f"<title>{escape(title)}</title>" + "".join(body) + "</svg>"
    )


def _axes(
    days: Sequence[DailyMetrics], top_value: float, y_text: list[str], step: float
) -> list[str]:
    """Grid lines with their labels, and day labels under the plot."""
    plot_h = _HEIGHT - _TOP - _BOTTOM
    plot_w = _WIDTH - _LEFT - _RIGHT
    out: list[str] = []
    for i, text in enumerate(y_text):
        y = _HEIGHT - _BOTTOM - plot_h * (i * step / top_value)
        out.append(
            f'<line x1="{_LEFT}" x2="{_WIDTH - _RIGHT}" y1="{y:.1f}" y2="{y:.1f}" class="grid"/>'
        )
        out.append(
            f'<text x="{_LEFT - 6}" y="{y + 5:.1f}" text-anchor="end" class="tick">{text}</text>'
        )
    slot = plot_w / max(len(days), 1)
    every = _label_every(len(days))
    for i, row in enumerate(days):
        if (len(days) - 1 - i) % every:
            continue
        x = _LEFT + slot * (i + 0.5)
        out.append(
            f'<text x="{x:.1f}" y="{_HEIGHT - _BOTTOM + 22}" text-anchor="middle" '
            f'class="tick">{_day_label(row.day)}</text>'
        )
    return out


def calls_by_mark_chart(days: Sequence[DailyMetrics]) -> str:
    """Stacked bars: each day's calls split by their mark (and spam, and after close)."""
    shown = _padded(days)
    title = "Calls per day by mark"
    if not shown:
        return _frame(title, ['<text x="50%" y="50%" text-anchor="middle">No calls</text>'])
    highest = max(d.metrics.calls for d in shown)
    top = nice_ceiling(highest)
    step = top / 5 if top >= 5 else 1  # noqa: PLR2004 - five grid steps when they are whole
    labels = [str(round(i * step)) for i in range(int(top / step) + 1)]
    body = _axes(shown, top, labels, step)
    plot_h = _HEIGHT - _TOP - _BOTTOM
    slot = (_WIDTH - _LEFT - _RIGHT) / len(shown)
    bar_w = max(slot * 0.7, 1.0)
    for i, row in enumerate(shown):
        x = _LEFT + slot * i + (slot - bar_w) / 2
        base = float(_HEIGHT - _BOTTOM)
        for name, count in _series(row.metrics):
            if not count:
                continue
            h = plot_h * count / top
            base -= h
            body.append(
                f'<rect x="{x:.1f}" y="{base:.1f}" width="{bar_w:.1f}" height="{h:.1f}" '
                f'fill="{SERIES_COLOURS[name]}"><title>{_day_label(row.day)}: '
                f"{escape(name)} {count}</title></rect>"
            )
    body.append(
        f'<line x1="{_LEFT}" x2="{_WIDTH - _RIGHT}" y1="{_HEIGHT - _BOTTOM}" '
        f'y2="{_HEIGHT - _BOTTOM}" class="axis"/>'
    )
    return _frame(title, body)


def answer_rate_chart(days: Sequence[DailyMetrics]) -> str:
    """A line of each day's answer rate; days without an ended call leave a gap."""
    shown = _padded(days)
    title = "Answer rate per day"
    if not shown:
        return _frame(title, ['<text x="50%" y="50%" text-anchor="middle">No calls</text>'])
    body = _axes(shown, 1.0, [f"{p}%" for p in range(0, 101, 25)], 0.25)
    plot_h = _HEIGHT - _TOP - _BOTTOM
    slot = (_WIDTH - _LEFT - _RIGHT) / len(shown)
    runs: list[list[tuple[float, float]]] = [[]]
    points: list[str] = []
    for i, row in enumerate(shown):
        rate = row.metrics.answer_rate
        if rate is None:
            if runs[-1]:
                runs.append([])
            continue
        x = _LEFT + slot * (i + 0.5)
        y = _HEIGHT - _BOTTOM - plot_h * rate
        runs[-1].append((x, y))
        points.append(
            f'<circle cx="{x:.1f}" cy="{y:.1f}" r="5" fill="{ANSWER_RATE_COLOUR}">'
            f"<title>{_day_label(row.day)}: {rate:.0%}</title></circle>"
        )
    for run in runs:
        if len(run) > 1:
            path = " ".join(f"{x:.1f},{y:.1f}" for x, y in run)
            body.append(
                f'<polyline points="{path}" fill="none" stroke="{ANSWER_RATE_COLOUR}" '
                'stroke-width="3" stroke-linejoin="round"/>'
            )
    body += points
    body.append(
        f'<line x1="{_LEFT}" x2="{_WIDTH - _RIGHT}" y1="{_HEIGHT - _BOTTOM}" '
        f'y2="{_HEIGHT - _BOTTOM}" class="axis"/>'
    )
    return _frame(title, body)


def legend() -> str:
    """The key of the calls-per-day chart, as HTML."""
    items = "".join(
        f'<li><span class="swatch" style="background:{colour}"></span>{escape(name)}</li>'
        for name, colour in SERIES_COLOURS.items()
    )
    return f'<ul class="legend">{items}</ul>'


def total_series(metrics: CallMetrics) -> list[tuple[str, int]]:
    """The calls of a whole period split as the chart splits each day."""
    return _series(metrics)
