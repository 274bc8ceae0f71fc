"""Every figure of a district page passes the one rule (issue 14): two settings a reader can open
that differ by one group — all school levels and 중학교 only, a semester and a month less —
never publish the same figure with a difference of 1 to 4 (a small group worked out)."""
from __future__ import annotations

import dataclasses
import itertools

import pytest

from app.reports.dashboards import build
from app.reports.filters import ReportFilters, month_end

from .conftest import semester1


def published(dashboard) -> dict[tuple, int]:
    """(table, row, column) -> every shown figure, totals included (row/column None)."""
    out = {}
    for panel in dashboard.panels:
        t, key = panel.table, panel.table.source.key
        rows, cols = t.source.rows, t.source.columns
        for (i, row), (j, col) in itertools.product(enumerate(rows), enumerate(cols)):
            if t.cells[i][j].shown:
                out[key, row, col] = t.cells[i][j].value
        out.update({(key, row, None): c.value for row, c in zip(rows, t.row_totals) if c.shown})
        out.update({(key, None, col): c.value for col, c in zip(cols, t.column_totals) if c.shown})
        if t.total.shown:
            out[key, None, None] = t.total.value
    return out


def differences(a, b) -> list:
    return [(k, a[k], b[k]) for k in a.keys() & b.keys() if 0 < abs(a[k] - b[k]) < 5]


@pytest.mark.usefixtures("frozen")
def test_all_levels_and_one_level_never_differ_by_a_small_group(app, data, district):
    for day in range(12):  # enough middle-school cases for figures to show at all
        data.case(district.B, f"2026-04-{day + 1:02d}", "screening", domains=("learning",))
        data.case(district.A, f"2026-05-{day + 1:02d}", "screening", domains=("learning",))
    data.case(district.B, "2026-06-01", "screening")
    everything, middle = semester1(), dataclasses.replace(semester1(), school_level="middle")
    shown_all, shown_middle = published(build(district.scope, everything)), published(build(district.scope, middle))
    assert shown_all and shown_middle
    assert differences(shown_all, shown_middle) == []


@pytest.mark.usefixtures("frozen")
def test_a_period_and_the_same_period_a_month_shorter_never_differ_by_a_small_group(app, data, district):
    for day in range(9):
        data.case(district.A, f"2026-03-{day + 1:02d}", "screening")
    data.case(district.A, "2026-08-03", "screening")  # the last month holds a small group
    semester = semester1()
    shorter = ReportFilters("custom", semester.start, month_end(2026, 7), "2026년 3월–2026년 7월")
    a, b = published(build(district.scope, semester)), published(build(district.scope, shorter))
    assert differences(a, b) == []
