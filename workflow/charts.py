"""Geometry of the dashboard's small SVG charts: numbers in, coordinates out.

The templates draw the SVG; this module knows no HTML, colours or words beyond the
labels it is handed. Coordinates are in the units of the chart's viewBox.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Datum:
    label: str
    value: int
    key: str = ""
    short_label: str = ""
    url: str = ""


@dataclass(frozen=True)
class Bar:
    datum: Datum
    top: float
    label_y: float
    bar_y: float
    bar_width: float
    value_x: float
    value_y: float


@dataclass(frozen=True)
class BarChart:
    """Horizontal bars, each with its label on the line above it."""

    width: int
    height: int
    row_height: int
    bar_height: int
    bars: list[Bar]

    @property
    def total(self) -> int:
        return sum(bar.datum.value for bar in self.bars)


@dataclass(frozen=True)
class Column:
    datum: Datum
    band_x: float
    band_width: float
    x: float
    y: float
    width: float
    height: float
    tick_x: float


@dataclass(frozen=True)
class Tick:
    value: int
    y: float


@dataclass(frozen=True)
class ColumnChart:
    """Vertical columns over a baseline, with a value axis on the left."""

    width: int
    height: int
    plot_left: float
    plot_right: float
    plot_top: float
    plot_bottom: float
    tick_label_y: float
    columns: list[Column]
    ticks: list[Tick]

    @property
    def plot_height(self) -> float:
        return self.plot_bottom - self.plot_top

    @property
    def axis_label_x(self) -> float:
        return self.plot_left - 4

    @property
    def total(self) -> int:
        return sum(column.datum.value for column in self.columns)


def nice_ceiling(value: float) -> int:
    """The smallest of 1, 2, 5, 10, 20, 50, ... that is at least `value`."""
    if value <= 1:
        return 1
    power = 10 ** math.floor(math.log10(value))
    for step in (1, 2, 5, 10):
        if step * power >= value:
            return int(step * power)
    return int(10 * power)


def _round(number: float) -> float:
    return round(number, 2)


def bar_chart(
    data: Sequence[Datum],
    *,
    width: int = 280,
    row_height: int = 30,
    bar_height: int = 10,
    value_gutter: int = 40,
) -> BarChart:
    """Bars scaled to the largest value; a non-zero value always shows a sliver."""
    largest = max((d.value for d in data), default=0)
    room = width - value_gutter
    bars = []
    for index, datum in enumerate(data):
        top = index * row_height
        length = room * datum.value / largest if largest else 0
        if datum.value and length < 2:
            length = 2
        bar_y = top + row_height - bar_height - 4
        bars.append(
            Bar(
                datum=datum,
                top=top,
                label_y=_round(bar_y - 4),
                bar_y=_round(bar_y),
                bar_width=_round(length),
                value_x=_round(length + 4),
                value_y=_round(bar_y + bar_height - 1),
            )
        )
    return BarChart(
        width=width,
        height=max(row_height * len(data), row_height),
        row_height=row_height,
        bar_height=bar_height,
        bars=bars,
    )


def column_chart(
    data: Sequence[Datum],
    *,
    width: int = 560,
    height: int = 150,
    axis_width: int = 28,
    label_height: int = 20,
    top_margin: int = 8,
    right_margin: int = 12,
    fill: float = 0.7,
) -> ColumnChart:
    """Columns on a scale from 0 to a round number at least the largest value.

    Ticks: 0, the top of the scale, and its middle when that is a whole number.
    """
    largest = nice_ceiling(max((d.value for d in data), default=0))
    plot_left, plot_right = float(axis_width), float(width - right_margin)
    plot_top, plot_bottom = float(top_margin), float(height - label_height)
    plot_height = plot_bottom - plot_top
    band = (plot_right - plot_left) / max(len(data), 1)
    columns = []
    for index, datum in enumerate(data):
        band_x = plot_left + index * band
        column_height = plot_height * datum.value / largest
        columns.append(
            Column(
                datum=datum,
                band_x=_round(band_x),
                band_width=_round(band),
                x=_round(band_x + band * (1 - fill) / 2),
                y=_round(plot_bottom - column_height),
                width=_round(band * fill),
                height=_round(column_height),
                tick_x=_round(band_x + band / 2),
            )
        )
    values = [0, largest // 2, largest] if largest % 2 == 0 else [0, largest]
    ticks = [
        Tick(value=v, y=_round(plot_bottom - plot_height * v / largest)) for v in values
    ]
    return ColumnChart(
        width=width,
        height=height,
        plot_left=plot_left,
        plot_right=plot_right,
        plot_top=plot_top,
        plot_bottom=plot_bottom,
        tick_label_y=float(height - 5),
        columns=columns,
        ticks=ticks,
    )
