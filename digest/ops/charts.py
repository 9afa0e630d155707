"""Charts for the editor's pages as plain SVG drawn on the server: this module lays the bars out (pure),
templates/web/admin/chart.svg draws them. No script: the admin's CSP allows none, and none is needed.

    audience(weeks)            subscribers per week: active, joined, left, bounced (a group of bars per week)
    sources(weeks, per_source) each source's articles per week, stacked; a failing source says so in its legend
    funnel(report)             one issue's delivery funnel: queued, delivered, opened, clicked
    top_articles(report)       the articles readers clicked most
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from .dashboard import AudienceWeek
from .reports import IssueReport

COLORS = ("#0b5394", "#2e7d32", "#b45309", "#b42318", "#6b21a8", "#0e7490", "#52606d")
WIDTH = 720
TOP = 10


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    color: str
    label: str  # what a reader hovering it is told (the SVG <title>)


@dataclass(frozen=True)
class Text:
    x: float
    y: float
    text: str
    anchor: str = "middle"
    rotate: float = 0


@dataclass(frozen=True)
class Chart:
    key: str
    title: str
    width: float
    height: float
    bars: list[Bar] = field(default_factory=list)
    labels: list[Text] = field(default_factory=list)  # axis labels and values
    grid: list[float] = field(default_factory=list)  # y of horizontal guides
    legend: list[tuple[str, str, float, float]] = field(default_factory=list)  # (color, name, x, y)
    plot: tuple[float, float, float, float] = (0, 0, 0, 0)  # left, top, right, bottom


def nice_max(value: float) -> int:
    """A round top for an axis that holds ``value`` (1, 2, 5 × 10^n)."""
    if value <= 0:
        return 1
    power = 10 ** math.floor(math.log10(value))
    return int(next(m * power for m in (1, 2, 5, 10) if m * power >= value))


def _legend(names: Sequence[str], top: float, left: float = 60) -> list[tuple[str, str, float, float]]:
    out, x = [], left
    for i, name in enumerate(names):
        out.append((COLORS[i % len(COLORS)], name, x, top))
        x += 28 + 7.5 * len(name)
    return out


def columns(
    key: str, title: str, categories: Sequence[str], series: Mapping[str, Sequence[int]], stacked: bool = False
) -> Chart:
    """Vertical bars: a group (or a stack) per category, a color per series, a legend under the axis."""
    left, top, right, bottom = 60.0, 40.0, WIDTH - 16.0, 250.0
    height = bottom + 90
    names = list(series)
    totals = [
        sum(series[n][i] for n in names) if stacked else max((series[n][i] for n in names), default=0)
        for i in range(len(categories))
    ]
    top_value = nice_max(max(totals, default=0))
    scale = (bottom - top) / top_value
    slot = (right - left) / max(1, len(categories))
    bars, labels = [], []
    for i, category in enumerate(categories):
        x0 = left + i * slot + slot * 0.12
        inner = slot * 0.76
        base = bottom
        for j, name in enumerate(names):
            value = series[name][i]
            h = value * scale
            color = COLORS[j % len(COLORS)]
            if stacked:
                if value:
                    bars.append(Bar(x0, base - h, inner, h, color, f"{category}: {value} {name}"))
                base -= h
            else:
                w = inner / len(names)
                if value:
                    bars.append(Bar(x0 + j * w, bottom - h, w, h, color, f"{category}: {value} {name}"))
        labels.append(Text(x0 + inner / 2, bottom + 14, category.split("-")[-1] if len(categories) > 8 else category))
    ticks = [top_value * k / 4 for k in range(5)]
    labels += [Text(left - 6, bottom - t * scale + 4, f"{t:g}", anchor="end") for t in ticks]
    return Chart(
        key,
        title,
        WIDTH,
        height,
        bars,
        labels,
        [bottom - t * scale for t in ticks],
        _legend(names, bottom + 50),
        (left, top, right, bottom),
    )


def rows(key: str, title: str, items: Sequence[tuple[str, int]], color: str = COLORS[0]) -> Chart:
    """Horizontal bars, one per item, labelled on the left, the value at the bar's end."""
    left, top, right = 290.0, 40.0, WIDTH - 50.0
    row = 30.0
    bottom = top + row * max(1, len(items))
    top_value = nice_max(max((n for _, n in items), default=0))
    scale = (right - left) / top_value
    bars, labels = [], []
    for i, (name, value) in enumerate(items):
        y = top + i * row + 5
        w = value * scale
        if value:
            bars.append(Bar(left, y, w, row - 10, color, f"{name}: {value}"))
        shown = name if len(name) <= 40 else name[:39] + "…"
        labels.append(Text(left - 8, y + row / 2, shown, anchor="end"))
        labels.append(Text(left + w + 6, y + row / 2, str(value), anchor="start"))
    return Chart(key, title, WIDTH, bottom + 20, bars, labels, [], [], (left, top, right, bottom))


def audience(weeks: Sequence[AudienceWeek]) -> Chart:
    series = {name: [getattr(w, name) for w in weeks] for name in ("active", "joined", "left", "bounced")}
    return columns("audience", "Subscribers per week", [w.week for w in weeks], series)


def sources(weeks: Sequence[str], per_source: Mapping[str, list[int]], failing: Mapping[str, str]) -> Chart:
    series = {(f"{s} (failing)" if s in failing else s): counts for s, counts in per_source.items()}
    for s in failing:
        if s not in per_source:
            series[f"{s} (failing)"] = [0] * len(weeks)
    return columns("sources", "Articles stored per week, by source", weeks, series, stacked=True)


def funnel(rep: IssueReport) -> Chart:
    steps = [("queued", rep.outcomes.recipients), ("delivered", rep.outcomes.delivered)]
    if rep.opens is not None:
        steps.append(("opened (inflated)", rep.openers if rep.openers is not None else rep.opens))
    if rep.tracking:
        steps.append(("clicked", rep.readers if rep.readers is not None else rep.clicks))
    return rows("funnel", f"Issue {rep.week}: from queued to clicked", steps)


def top_articles(rep: IssueReport) -> Chart:
    best = sorted((a for a in rep.articles if a.clicks), key=lambda a: -a.clicks)[:TOP]
    return rows("top", f"Issue {rep.week}: articles clicked most", [(a.title, a.clicks) for a in best], COLORS[1])
