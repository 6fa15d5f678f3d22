"""The dashboard's chart geometry, and SVG that stays valid in every language."""

from __future__ import annotations

import re

import pytest
from django.template.loader import render_to_string
from django.utils import translation

from workflow import charts


@pytest.mark.parametrize(
    ("value", "ceiling"),
    [(0, 1), (1, 1), (2, 2), (3, 5), (5, 5), (6, 10), (11, 20), (21, 50), (99, 100)],
)
def test_nice_ceiling(value, ceiling):
    assert charts.nice_ceiling(value) == ceiling


def test_bars_scale_to_the_largest_value_and_small_values_stay_visible():
    chart = charts.bar_chart(
        [
            charts.Datum("A", 1000),
            charts.Datum("B", 500),
            charts.Datum("C", 1),
            charts.Datum("D", 0),
        ],
        width=240,
        value_gutter=40,
    )
    assert [bar.bar_width for bar in chart.bars] == [200, 100, 2, 0]
    assert chart.total == 1501
    assert chart.height == 4 * chart.row_height


def test_columns_sit_on_the_baseline_under_a_round_scale():
    chart = charts.column_chart(
        [charts.Datum("d1", 0), charts.Datum("d2", 3), charts.Datum("d3", 5)],
        width=112,
        height=120,
        axis_width=10,
        label_height=20,
        top_margin=0,
        right_margin=12,
    )
    assert [tick.value for tick in chart.ticks] == [0, 5]
    full, partial = chart.columns[2], chart.columns[1]
    assert full.height == chart.plot_height == 100
    assert full.y == chart.plot_top
    assert partial.height == 60
    assert partial.y + partial.height == chart.plot_bottom
    assert chart.columns[0].height == 0
    assert chart.columns[1].band_x == 40


def test_an_empty_chart_does_not_divide_by_zero():
    assert charts.bar_chart([]).bars == []
    assert charts.column_chart([]).ticks[-1].value == 1


def test_svg_coordinates_keep_a_decimal_point_in_dutch():
    chart = charts.column_chart([charts.Datum("d", n) for n in (1, 2, 3)])
    with translation.override("nl"):
        svg = render_to_string(
            "admin/workflow/dashboard/_column_chart.html",
            {"chart": chart, "title": "t", "table_id": "t"},
        )
    numbers = re.findall(r'\b(?:x|y|width|height)="([^"]*)"', svg)
    assert numbers
    assert all("," not in number for number in numbers)
    assert any("." in number for number in numbers)
