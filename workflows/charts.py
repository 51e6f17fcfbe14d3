"""Horizontal bar charts drawn on the server as SVG (the statistics page, issue 9).

No script and no inline style (the CSP allows neither): the geometry is computed here and
written as SVG attributes, the colours come from classes in static/css/charts.css. Every
bar carries its value and its series as text, so colour is never the only cue, and every
chart has a text alternative (its <title> and <desc>) and the table of its figures beside
it on the page.

Coordinates are handed to the template as strings: Django localises numbers in templates,
and "12,5" is no SVG coordinate.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

WIDTH = 760
PLOT_LEFT = 4
PLOT_WIDTH = 440  # the rest of the width holds the values' text
LABEL_HEIGHT = 22
SUBLABEL_HEIGHT = 18
BAR_HEIGHT = 16
BAR_GAP = 4
GROUP_GAP = 14
TOP = 4


@dataclass(frozen=True)
class Series:
    label: str
    css: str  # chart__bar--<css>, chart-swatch--<css>


@dataclass(frozen=True)
class Bar:
    series: Series
    value: Decimal | int
    text: str  # the value as people read it: "1 250 000 kr", "45 dagar"


@dataclass(frozen=True)
class Group:
    label: str
    bars: list[Bar]
    marker: Decimal | int | None = None  # a vertical line, e.g. the target
    marker_label: str = ""  # said after the label: "mål 120 dagar"
    sublabel: str = ""  # a second, smaller line under the label (SVG text does not wrap)


@dataclass(frozen=True)
class DrawnBar:
    css: str
    x: str
    y: str
    width: str
    height: str
    text: str
    text_x: str
    text_y: str


@dataclass(frozen=True)
class DrawnGroup:
    label: str
    label_y: str
    bars: list[DrawnBar]
    sublabel: str = ""
    sublabel_y: str = ""
    marker_x: str | None = None
    marker_y1: str = ""
    marker_y2: str = ""


@dataclass
class Chart:
    id: str
    title: str
    description: str
    series: list[Series]
    groups: list[DrawnGroup] = field(default_factory=list)
    width: str = str(WIDTH)
    height: str = "0"


def _coordinate(value: float) -> str:
    return f"{value:.1f}"


def bar_chart(*, chart_id: str, title: str, series: list[Series], groups: list[Group], summary: str = "") -> Chart:
    """The chart with each group's label on a line of its own and its bars beneath it,
    scaled to the largest value or marker. The description lists every value in words."""
    values = [bar.value for group in groups for bar in group.bars]
    values += [group.marker for group in groups if group.marker is not None]
    largest = max((Decimal(v) for v in values), default=Decimal(0)) or Decimal(1)
    chart = Chart(id=chart_id, title=title, description="", series=series)
    y = float(TOP)
    spoken = []
    for group in groups:
        label = f"{group.label} – {group.marker_label}" if group.marker_label else group.label
        label_y = y + LABEL_HEIGHT - 6
        y += LABEL_HEIGHT
        sublabel_y = y + SUBLABEL_HEIGHT - 6
        if group.sublabel:
            y += SUBLABEL_HEIGHT
        top = y
        drawn = []
        for bar in group.bars:
            width = float(Decimal(bar.value) / largest * PLOT_WIDTH)
            drawn.append(DrawnBar(
                css=bar.series.css, x=_coordinate(PLOT_LEFT), y=_coordinate(y), width=_coordinate(width),
                height=_coordinate(BAR_HEIGHT), text=f"{bar.series.label}: {bar.text}",
                text_x=_coordinate(PLOT_LEFT + width + 6), text_y=_coordinate(y + BAR_HEIGHT - 3),
            ))
            y += BAR_HEIGHT + BAR_GAP
        marker_x = None
        if group.marker is not None:
            marker_x = _coordinate(PLOT_LEFT + float(Decimal(group.marker) / largest * PLOT_WIDTH))
        chart.groups.append(DrawnGroup(label=label, label_y=_coordinate(label_y), bars=drawn, marker_x=marker_x,
                                       marker_y1=_coordinate(top - 2), marker_y2=_coordinate(y - BAR_GAP + 2),
                                       sublabel=group.sublabel, sublabel_y=_coordinate(sublabel_y)))
        y += GROUP_GAP
        words = ", ".join(f"{bar.series.label.lower()} {bar.text}" for bar in group.bars)
        named = f"{label} ({group.sublabel})" if group.sublabel else label
        spoken.append(f"{named}: {words}" if words else named)
    chart.height = _coordinate(max(y, TOP + LABEL_HEIGHT))
    chart.description = ". ".join(part for part in [summary, "; ".join(spoken)] if part) + "."
    return chart
