"""The de-identification rule (app/reports/suppression.py), checked against an independent oracle:
a linear program over every table a reader could reconstruct from what is published."""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.optimize import linprog

from app.reports.suppression import (cell_text, protect, protect_statistic,
                                     statistic_text)
from app.reports.tables import COMPLEMENT, SMALL, Cell, CountTable, Statistic

K = 5


def table(cells, columns=None, rows=None) -> CountTable:
    columns = columns or [f"c{j}" for j in range(len(cells[0]) if cells else 0)]
    rows = rows or [f"r{i}" for i in range(len(cells))]
    return CountTable("t", "표", "행", list(rows), list(columns), [list(r) for r in cells])


def truth(cells) -> list[list[int]]:
    """The table with margins: row totals last in each row, column totals last."""
    grid = [list(r) + [sum(r)] for r in cells]
    columns = [sum(c) for c in zip(*cells)]
    return grid + [columns + [sum(columns)]]


def published(pub) -> list[list[Cell]]:
    grid = [list(r) + [t] for r, t in zip(pub.cells, pub.row_totals)]
    return grid + [list(pub.column_totals) + [pub.total]]


def hidden_positions(pub) -> set[tuple[int, int]]:
    return {(r, c) for r, line in enumerate(published(pub)) for c, cell in enumerate(line) if not cell.shown}


class Reader:
    """What a reader knows of one or more published tables, as linear constraints: each table's
    row and column sums, published values fixed, "5 미만" in [0, 4], "비공개" >= 0."""

    def __init__(self, *pubs) -> None:
        self.grids = [published(p) for p in pubs]
        self.shape = (len(self.grids[0]), len(self.grids[0][0]))
        self.size = self.shape[0] * self.shape[1]
        n = self.size * len(pubs)
        self.eq, self.bounds, self.ub = [], [], []
        R, C = self.shape[0] - 1, self.shape[1] - 1
        for t, grid in enumerate(self.grids):
            for r in range(R + 1):   # each line of cells sums to its total
                self._sum(n, [self.var(t, r, c) for c in range(C)], self.var(t, r, C))
            for c in range(C + 1):
                self._sum(n, [self.var(t, r, c) for r in range(R)], self.var(t, R, c))
            for line in grid:
                for cell in line:
                    self.bounds.append((cell.value, cell.value) if cell.shown else
                                       (0, K - 1) if cell.hidden == SMALL else (0, None))

    def var(self, t: int, r: int, c: int) -> int:
        return t * self.size + r * self.shape[1] + c

    def _sum(self, n, parts, total) -> None:
        row = np.zeros(n)
        row[parts] = 1
        row[total] = -1
        self.eq.append(row)

    def at_least(self, big: int, small: int) -> None:
        """Table ``big`` counts a superset of the records of table ``small`` (cell by cell)."""
        n = self.size * len(self.grids)
        for p in range(self.size):
            row = np.zeros(n)
            row[small * self.size + p], row[big * self.size + p] = 1, -1
            self.ub.append(row)

    def range(self, objective: dict[int, float]) -> tuple[float, float]:
        """Minimum and maximum of sum(coef * var) over every table consistent with the constraints."""
        c = np.zeros(self.size * len(self.grids))
        for v, coef in objective.items():
            c[v] = coef
        ub = dict(A_ub=np.array(self.ub), b_ub=np.zeros(len(self.ub))) if self.ub else {}
        eq = dict(A_eq=np.array(self.eq), b_eq=np.zeros(len(self.eq)), bounds=self.bounds, method="highs")
        low, high = linprog(c, **eq, **ub), linprog(-c, **eq, **ub)
        assert low.status == 0, "the published figures contradict the reader's knowledge"
        return low.fun, (float("inf") if high.status == 3 else -high.fun)


def assert_protected(pub, cells) -> None:
    """Published figures are true, every figure below K is hidden as "5 미만", the true table
    is one the reader considers possible, and no hidden figure can be worked out exactly."""
    true = truth(cells)
    reader = Reader(pub)
    for r, line in enumerate(published(pub)):
        for c, cell in enumerate(line):
            value = true[r][c]
            if cell.shown:
                assert cell.value == value, (r, c)
                assert value >= K, f"{value} at {(r, c)} published"
                continue
            assert cell.hidden in (SMALL, COMPLEMENT)
            assert (cell.hidden == SMALL) == (value < K), (r, c, cell.hidden, value)
            low, high = reader.range({reader.var(0, r, c): 1})
            assert low - 1e-6 <= value <= high + 1e-6
            assert high - low >= 1 - 1e-6, f"hidden {(r, c)} = {value} is derivable: [{low}, {high}]"


values = st.one_of(st.integers(0, 4), st.integers(0, 4), st.integers(5, 40), st.integers(100, 3000))


@st.composite
def tables(draw):
    rows, columns = draw(st.integers(1, 8)), draw(st.integers(1, 6))
    return draw(st.lists(st.lists(values, min_size=columns, max_size=columns), min_size=rows, max_size=rows))


@settings(max_examples=200, deadline=None)
@given(tables())
def test_no_hidden_figure_can_be_worked_out(cells):
    assert_protected(protect(table(cells), threshold=K), cells)


@settings(max_examples=200, deadline=None)
@given(tables(), st.data())
def test_neighbour_tables_do_not_reveal_a_small_difference(cells, data):
    row = data.draw(st.integers(0, len(cells) - 1))
    deltas = data.draw(st.lists(st.integers(-4, 4), min_size=len(cells[0]), max_size=len(cells[0])))
    other = [list(r) for r in cells]
    other[row] = [max(0, v + d) for v, d in zip(cells[row], deltas)]
    mine = protect(table(cells), threshold=K, neighbours=[table(other)])
    theirs = protect(table(other), threshold=K, neighbours=[table(cells)])
    assert_protected(mine, cells)
    assert_protected(theirs, other)
    a, b = truth(cells), truth(other)
    for r, c in np.ndindex(len(a), len(a[0])):
        if 0 < abs(a[r][c] - b[r][c]) < K:
            assert (r, c) in hidden_positions(mine) and (r, c) in hidden_positions(theirs), (r, c)


STATUSES = ["요청 접수", "지원 중", "종결", "사후 관리"]
RISKS = ["긴급", "위기", "집중", "일반"]


def test_two_filter_settings_that_differ_by_one_school():
    """A district's cases by risk level and status, for every school level and for 중학교 only:
    the only difference is one high school's 3 cases (2 위기/지원 중, 1 일반/종결)."""
    middle = [[6, 9, 12, 5], [14, 22, 30, 8], [25, 41, 37, 19], [60, 88, 102, 44]]
    high_school = [[0, 0, 0, 0], [0, 2, 0, 0], [0, 0, 0, 0], [0, 0, 1, 0]]
    every = [[m + h for m, h in zip(mr, hr)] for mr, hr in zip(middle, high_school)]
    pub_every = protect(table(every, STATUSES, RISKS), threshold=K, neighbours=[table(middle, STATUSES, RISKS)])
    pub_middle = protect(table(middle, STATUSES, RISKS), threshold=K, neighbours=[table(every, STATUSES, RISKS)])
    assert_protected(pub_every, every)
    assert_protected(pub_middle, middle)

    # no figure is published in both with a difference the reader could attribute to the school
    grid_every, grid_middle = published(pub_every), published(pub_middle)
    for r, c in np.ndindex(5, 5):
        one, two = grid_every[r][c], grid_middle[r][c]
        if one.shown and two.shown:
            assert one.value == two.value, (r, c)
    assert not pub_every.total.shown and not pub_middle.total.shown     # 628 and 625

    # and the reader who knows the first table counts a superset of the second cannot pin the
    # difference anywhere: not the 3 in the grand total, not the 2 or the 1 in their cells
    reader = Reader(pub_every, pub_middle)
    reader.at_least(0, 1)
    true_every, true_middle = truth(every), truth(middle)
    for r, c in np.ndindex(5, 5):
        difference = true_every[r][c] - true_middle[r][c]
        if difference:
            low, high = reader.range({reader.var(0, r, c): 1, reader.var(1, r, c): -1})
            assert low - 1e-6 <= difference <= high + 1e-6
            assert high - low >= 1 - 1e-6, f"the school's {difference} at {(r, c)} is derivable"


def test_one_small_cell_gets_the_cheapest_cycle_of_complements():
    pub = protect(table([[2, 10], [20, 30]]), threshold=K)
    assert pub.cells == [[Cell(hidden=SMALL), Cell(hidden=COMPLEMENT)],
                         [Cell(hidden=COMPLEMENT), Cell(hidden=COMPLEMENT)]]
    assert [c.value for c in pub.row_totals + pub.column_totals + [pub.total]] == [12, 50, 22, 40, 62]

    # 8 + 20 + 7 is the cheapest cycle through the 1 (not 8 + 40 + 6, nor 9 + 30 + 7, nor a total)
    pub = protect(table([[1, 8, 9], [7, 20, 30], [6, 40, 50]]), threshold=K)
    assert hidden_positions(pub) == {(0, 0), (0, 1), (1, 0), (1, 1)}
    assert pub.cells[0][0].hidden == SMALL and pub.cells[1][1].hidden == COMPLEMENT


def test_zeros_are_small_and_a_zero_row_hides_its_total_and_a_complement_row():
    cells = [[0, 0], [6, 7]]
    pub = protect(table(cells), threshold=K)
    assert [cell_text(c, K) for c in pub.cells[0] + [pub.row_totals[0]]] == ["5 미만"] * 3
    # 6 and 7 would give the zeros away, and then 13 would give the row total away
    assert hidden_positions(pub) == {(0, 0), (0, 1), (0, 2), (1, 0), (1, 1), (1, 2)}
    assert [c.value for c in pub.column_totals] == [6, 7] and pub.total.value == 13
    assert_protected(pub, cells)
    assert_protected(protect(table([[0, 0, 0], [0, 0, 0]]), threshold=K), [[0, 0, 0], [0, 0, 0]])


@pytest.mark.parametrize("cells", [[[3, 10, 12]], [[3], [10], [12]], [[3]], [[30]], [[7, 10, 12]]])
def test_a_single_row_or_column_hides_a_cell_with_its_equal_total(cells):
    pub = protect(table(cells), threshold=K)
    assert_protected(pub, cells)
    grid = published(pub)
    single_row = len(cells) == 1
    for i in range(len(cells[0]) if single_row else len(cells)):
        cell, total = (grid[0][i], grid[1][i]) if single_row else (grid[i][0], grid[i][1])
        assert cell == total   # the same number: shown alike or hidden alike
    if cells == [[3, 10, 12]]:
        assert [cell_text(c, K) for c in grid[0]] == ["5 미만", "비공개", "12", "25"]


def test_the_school_team_sees_every_figure():
    cells = [[0, 1], [3, 40]]
    pub = protect(table(cells), threshold=K, suppress=False, neighbours=[table([[1, 1], [3, 40]])])
    assert not pub.suppressed and not hidden_positions(pub)
    assert [[c.value for c in line] for line in published(pub)] == truth(cells)


def test_a_large_figure_differing_by_a_few_from_a_neighbour_is_hidden_but_not_as_small():
    pub = protect(table([[10, 20], [30, 40]]), threshold=K, neighbours=[table([[12, 20], [30, 40]])])
    # the 10, its row and column totals and the grand total: a cycle already, no complement needed
    assert hidden_positions(pub) == {(0, 0), (0, 2), (2, 0), (2, 2)}
    assert {c.hidden for line in published(pub) for c in line if not c.shown} == {COMPLEMENT}
    assert cell_text(pub.cells[0][0], K) == "비공개"
    assert_protected(pub, [[10, 20], [30, 40]])


def test_empty_table_and_the_same_input_gives_the_same_output():
    pub = protect(table([], ["a", "b"]), threshold=K)
    assert pub.cells == [] and pub.row_totals == []
    assert pub.column_totals == [Cell(hidden=SMALL)] * 2 and pub.total == Cell(hidden=SMALL)
    cells = [[1, 7, 9, 30], [2, 8, 0, 14], [40, 3, 60, 70], [5, 6, 7, 8]]
    first = protect(table(cells), threshold=K)
    assert all(protect(table(cells), threshold=K) == first for _ in range(3))
    assert_protected(first, cells)


def test_programming_errors():
    with pytest.raises(ValueError):
        protect(table([[1, 2]]), threshold=K, neighbours=[table([[1, 2, 3]])])
    with pytest.raises(ValueError):
        protect(table([[1, 2]]), threshold=K, neighbours=[table([[1, 2], [3, 4]])])
    with pytest.raises(ValueError):
        protect(table([[1, 2]]), threshold=1)
    with pytest.raises(ValueError):   # cells that do not match the columns
        protect(CountTable("t", "표", "행", ["a"], ["x", "y"], [[1]]), threshold=K)


def test_cell_text():
    assert cell_text(Cell(value=1234567), K) == "1,234,567"
    assert cell_text(Cell(value=0), K) == "0"
    assert cell_text(Cell(hidden=SMALL), K) == "5 미만"
    assert cell_text(Cell(hidden=SMALL), 10) == "10 미만"
    assert cell_text(Cell(hidden=COMPLEMENT), K) == "비공개"


def test_statistics_from_few_records_are_hidden():
    median = Statistic("days_median", "요청부터 선정까지 (중앙값)", 12.0, n=4)
    hidden = protect_statistic(median, threshold=K)
    assert hidden.hidden and hidden.value is None
    assert statistic_text(hidden) == statistic_text(hidden, K) == "비공개"
    assert hidden.n is None and (hidden.key, hidden.label, hidden.unit) == ("days_median", median.label, "일")
    shown = protect_statistic(median, threshold=K, suppress=False)
    assert shown.value == 12.0 and statistic_text(shown) == "12일" and shown.n == 4

    big = Statistic("days_p90", "90백분위", 1234.5, n=5000)
    published = protect_statistic(big, threshold=K)
    assert statistic_text(published) == "1,234.5일" and published.n is None  # n never beside a figure


def test_a_rate_that_implies_a_small_group_is_hidden_and_others_show_whole_percent():
    def rate(part, n, **extra):
        return Statistic("closure_rate", "종결률", round(100 * part / n, 1), n=n, unit="%", part=part, **extra)
    assert protect_statistic(rate(1, 11), threshold=K).hidden              # 9.1% of 11: one case
    assert protect_statistic(rate(8, 11), threshold=K).hidden              # the other three
    shown = protect_statistic(rate(6, 11), threshold=K)
    assert not shown.hidden and statistic_text(shown) == "55%" and shown.n is None
    assert statistic_text(protect_statistic(rate(1, 11), threshold=K, suppress=False)) == "9.1%"
    tied = rate(6, 11, total_of="cases_by_status")
    assert protect_statistic(tied, threshold=K, hidden_totals=frozenset({"cases_by_status"})).hidden
    assert not protect_statistic(tied, threshold=K, hidden_totals=frozenset({"other"})).hidden