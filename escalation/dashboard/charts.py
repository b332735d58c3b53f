"""Server-rendered charts and readable durations for the dashboard: pure functions, no queries.

Charts are inline SVG drawn by `templates/dashboard/_bar_chart.html` from the geometry computed
here (no JavaScript, nothing fetched from anywhere). Coordinates are preformatted strings so that
number localisation (a German decimal comma) can never break the SVG.
"""

import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.utils.translation import gettext as _

WIDTH = 640
HEIGHT = 220
TOP = 22  # room for the value above the highest bar
BOTTOM = 28  # room for the labels below the bars
SIDE = 8
MAX_VALUES = 16  # more bars than this: no value above each bar (the table has them all)
MAX_LABELS = 16  # default: label every n-th bar only, so that labels never overlap

SERIES_COLOUR = "#0b5cad"
PRIORITY_COLOURS = {1: "#a40e26", 2: "#d1242f", 3: "#9a6700", 4: "#57606a", 5: "#57606a"}


@dataclass(frozen=True)
class Bar:
    label: str
    value: int
    colour: str
    x: str
    y: str
    width: str
    height: str
    centre: str
    value_y: str
    show_label: bool


@dataclass(frozen=True)
class BarChart:
    title: str
    summary: str  # the accessible name (aria-label): the title and every value
    bars: list[Bar]
    show_values: bool
    width: int = WIDTH
    height: int = HEIGHT
    baseline: str = f"{HEIGHT - BOTTOM}"
    label_y: str = f"{HEIGHT - BOTTOM + 16}"


def _num(value: float) -> str:
    return f"{value:.1f}"


def bar_chart(
    *, title: str, items: list[tuple[str, int, str]], max_labels: int = MAX_LABELS
) -> BarChart:
    """A bar chart of (label, value, colour) items, scaled to the highest value; at most
    `max_labels` of the labels are drawn below the bars."""
    count = max(len(items), 1)
    plot_height = HEIGHT - TOP - BOTTOM
    slot = (WIDTH - 2 * SIDE) / count
    highest = max([value for _label, value, _colour in items] or [0]) or 1
    every = math.ceil(count / max_labels)
    bars = []
    for index, (label, value, colour) in enumerate(items):
        height = plot_height * value / highest
        x = SIDE + index * slot + slot * 0.1
        top = HEIGHT - BOTTOM - height
        bars.append(
            Bar(
                label=label,
                value=value,
                colour=colour,
                x=_num(x),
                y=_num(top),
                width=_num(slot * 0.8),
                height=_num(height),
                centre=_num(SIDE + index * slot + slot / 2),
                value_y=_num(top - 4),
                show_label=index % every == 0,
            )
        )
    values = ", ".join(f"{label}: {value}" for label, value, _colour in items)
    return BarChart(
        title=title,
        summary=f"{title}. {values}" if values else title,
        bars=bars,
        show_values=len(items) <= MAX_VALUES,
    )


def duration(value: timedelta | None) -> str:
    """A span people read at a glance: '45 min', '3 h 05 min', '2 d 4 h'; '–' for none."""
    if value is None:
        return "–"
    minutes = max(int(value.total_seconds() // 60), 0)
    if minutes < 60:
        return _("%(minutes)d min") % {"minutes": minutes}
    hours, minutes = divmod(minutes, 60)
    if hours < 48:
        return _("%(hours)d h %(minutes)02d min") % {"hours": hours, "minutes": minutes}
    days, hours = divmod(hours, 24)
    return _("%(days)d d %(hours)d h") % {"days": days, "hours": hours}


def time_to(when: datetime | None, now: datetime) -> str:
    """'in 12 min' or 'overdue by 5 min' ('–' for no deadline)."""
    if when is None:
        return "–"
    if when >= now:
        return _("in %(duration)s") % {"duration": duration(when - now)}
    return _("overdue by %(duration)s") % {"duration": duration(now - when)}
