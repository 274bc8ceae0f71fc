"""The de-identification rule: what a statistics page or export may publish.

The school team sees its own figures as they are (``suppress=False``).  Everyone else sees, with
k = REPORT_SMALL_CELL (5): (1) every count, row/column total and grand total below k, 0 included,
as "5 미만"; (2) every figure differing by 1..k-1 from the same figure of a neighbouring table
(the filter setting one group away: a month more or less, one filter cleared) as "비공개", however
large; (3) further figures as "비공개" (smallest values first, counts before totals) until no hidden
figure can be worked out exactly from the published ones, the sums, "5 미만" = 0..4 and
"비공개" >= 0 — checked exactly, as a cycle of hidden figures that +1/-1 moves can shift;
(4) a median, mean or rate from fewer than k records as "비공개"; a rate also when its part or
the rest is below k or when the table total it is a share of is hidden; rates in whole percent,
and never the number of records beside a figure.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Optional, Sequence

import numpy as np
from flask_babel import gettext, lazy_pgettext, pgettext

from .tables import COMPLEMENT, SMALL, Cell, CountTable, PublishedTable, Statistic

#: a number with its unit (the unit codes of CountTable.unit and Statistic.unit) in the reader's language
UNIT_FORMATS = {"건": lazy_pgettext("number with unit", "%(n)s건"), "명": lazy_pgettext("number with unit", "%(n)s명"),
                "회": lazy_pgettext("number with unit", "%(n)s회"), "일": lazy_pgettext("number with unit", "%(n)s일"),
                "점": lazy_pgettext("number with unit", "%(n)s점")}

_INF = float("inf")
Grid = list[list[int]]


def protect(table: CountTable, *, threshold: int, suppress: bool = True,
            neighbours: Sequence[CountTable] = ()) -> PublishedTable:
    """The table as it may be published; ``neighbours`` are the same table for the filter
    settings one group away (same rows and columns), checked for differencing."""
    grid = _grid(table)
    others = [_grid(n) for n in neighbours]
    for other in others:
        if len(other) != len(grid) or len(other[0]) != len(grid[0]):
            raise ValueError(f"neighbour of {table.key!r} has another shape")
    hidden: dict[tuple[int, int], str] = {}
    if suppress:
        if threshold < 2:
            raise ValueError("threshold must be at least 2 (a '1 미만' cell would publish a 0)")
        hidden = _hide(grid, others, threshold)
    R, C = len(grid) - 1, len(grid[0]) - 1

    def cell(r: int, c: int) -> Cell:
        kind = hidden.get((r, c))
        return Cell(hidden=kind) if kind else Cell(value=grid[r][c])

    return PublishedTable(
        source=table,
        cells=[[cell(r, c) for c in range(C)] for r in range(R)],
        row_totals=[cell(r, C) for r in range(R)],
        column_totals=[cell(R, c) for c in range(C)],
        total=cell(R, C), threshold=threshold, suppressed=suppress)


def _grid(table: CountTable) -> Grid:
    """The (R+1)x(C+1) table with margins: row totals last in each row, column totals last."""
    if len(table.cells) != len(table.rows) or any(len(r) != len(table.columns) for r in table.cells):
        raise ValueError(f"cells of {table.key!r} do not match its rows and columns")
    grid = [list(r) + [sum(r)] for r in table.cells]
    columns = table.column_totals()
    grid.append(list(columns) + [sum(columns)])
    return grid


def _hide(grid: Grid, others: list[Grid], k: int) -> dict[tuple[int, int], str]:
    hidden = {}
    for r, line in enumerate(grid):
        for c, v in enumerate(line):
            if v < k:
                hidden[(r, c)] = SMALL
            elif any(0 < abs(v - o[r][c]) < k for o in others):
                # not "5 미만": that would be false, and the reader must not assume 0..4 for it
                hidden[(r, c)] = COMPLEMENT
    if len(grid) > 1 and len(grid[0]) > 1:   # with no rows or no columns every figure is 0 anyway
        _Network(grid, hidden, k).complete()
    return hidden


class _Network:
    """The table with margins as a bipartite network.  With y = the table whose row and column
    totals are negated (grand total kept), every row and column of y sums to zero, so a change
    that keeps every sum is a circulation: cell (p, q) is an edge between row node p and column
    node q; raising y[p][q] is an arc p -> q, lowering it an arc q -> p.  A hidden cell can take
    another value iff an arc of it closes a cycle of arcs of hidden cells that have room to move.
    The longer side is put on the rows so that searches run over the (few) column nodes."""

    def __init__(self, grid: Grid, hidden: dict[tuple[int, int], str], k: int) -> None:
        R, C = len(grid) - 1, len(grid[0]) - 1
        self.flip = C > R
        self.grid, self.hidden, self.k = grid, hidden, k
        self.P, self.Q = (C + 1, R + 1) if self.flip else (R + 1, C + 1)
        self.U = np.full((self.P, self.Q), _INF)   # cost of the arc p -> q (0 for a hidden cell)
        self.D = np.full((self.P, self.Q), _INF)   # cost of the arc q -> p
        self.up = [0] * self.Q                     # bitsets over p: hidden cells with an arc p -> q
        self.down = [0] * self.Q                   # ... with an arc q -> p
        for p in range(self.P):
            for q in range(self.Q):
                self._arcs(p, q)

    def _rc(self, p: int, q: int) -> tuple[int, int]:
        return (q, p) if self.flip else (p, q)

    def _arcs(self, p: int, q: int) -> None:
        r, c = self._rc(p, q)
        R, C = len(self.grid) - 1, len(self.grid[0]) - 1
        kind = self.hidden.get((r, c))
        v = self.grid[r][c]
        more, less = (kind != SMALL or v < self.k - 1), v > 0      # a published cell: as a complement
        margin = (r == R) != (c == C)                                # a row or column total: y = -value
        inc, dec = (less, more) if margin else (more, less)
        # smallest values first; +1 so that fewer zeros are preferred; a total costs a little more
        cost = 0.0 if kind else 2.0 * (v + 1) + (r == R or c == C)
        self.U[p, q] = cost if inc else _INF
        self.D[p, q] = cost if dec else _INF
        if kind:
            bit = 1 << p
            self.up[q] = self.up[q] | bit if inc else self.up[q] & ~bit
            self.down[q] = self.down[q] | bit if dec else self.down[q] & ~bit

    def _closes(self, i: int, j: int, fwd: list[int], back: list[int]) -> bool:
        """Whether arc i -> j (in ``fwd``) and a path j ~> i of hidden arcs, not the back arc of
        the same cell, form a cycle."""
        bit = 1 << i
        if not fwd[j] & bit:
            return False
        rows, seen = back[j] & ~bit, 1 << j
        while not rows & bit:
            new = [b for b in range(self.Q) if not seen >> b & 1 and rows & fwd[b]]
            if not new:
                return False
            for b in new:
                seen |= 1 << b
                rows |= back[b]
        return True

    def free(self, p: int, q: int) -> bool:
        return self._closes(p, q, self.up, self.down) or self._closes(p, q, self.down, self.up)

    def _cheapest(self, i: int, j: int, fwd: np.ndarray, back: np.ndarray):
        """(cost, cells) of the cheapest cycle through arc i -> j of ``fwd``, or None."""
        if fwd[i, j] != 0:
            return None
        back = back.copy()
        back[i, j] = _INF
        # two steps q_a -> p -> q_b, cheapest p (first on ties: deterministic)
        steps = back[:, :, None] + fwd[:, None, :]
        via = steps.argmin(axis=0)
        W = np.take_along_axis(steps, via[None], axis=0)[0].tolist()
        dist, prev, done = [_INF] * self.Q, [-1] * self.Q, [False] * self.Q
        dist[j] = 0.0
        for _ in range(self.Q):
            a = min((d, b) for b, d in enumerate(dist) if not done[b])[1]
            if dist[a] == _INF:
                break
            done[a] = True
            for b in range(self.Q):
                if dist[a] + W[a][b] < dist[b]:
                    dist[b], prev[b] = dist[a] + W[a][b], a
        end = [dist[b] + back[i, b] for b in range(self.Q)]
        last = min(range(self.Q), key=lambda b: (end[b], b))
        if end[last] == _INF:
            return None
        columns = [last]
        while columns[-1] != j:
            columns.append(prev[columns[-1]])
        columns.reverse()
        walk = [("q", j)]
        for a, b in zip(columns, columns[1:]):
            walk += [("p", int(via[a, b])), ("q", b)]
        walk.append(("p", i))
        path: list = []   # drop loops: a simple path that costs no more
        for node in walk:
            if node in path:
                del path[path.index(node) + 1:]
            else:
                path.append(node)
        cells = [(x[1], y[1]) if x[0] == "p" else (y[1], x[1]) for x, y in zip(path, path[1:])]
        return end[last], cells

    def complete(self) -> None:
        """Add complements until every hidden cell is free."""
        while True:
            stuck = [(p, q) for p in range(self.P) for q in range(self.Q)
                     if self.hidden.get(self._rc(p, q)) and not self.free(p, q)]
            if not stuck:
                return
            for p, q in stuck:
                if self.free(p, q):   # an earlier cycle freed it
                    continue
                options = [o for o in (self._cheapest(p, q, self.U, self.D),
                                       self._cheapest(p, q, self.D, self.U)) if o]
                cells = min(options, key=lambda o: o[0])[1] if options else [
                    (a, b) for a in range(self.P) for b in range(self.Q)]   # never seen; safe
                for a, b in cells:
                    self.hidden.setdefault(self._rc(a, b), COMPLEMENT)
                    self._arcs(a, b)


@dataclass(frozen=True)
class PublishedStatistic:
    """A Statistic as it may be published.  Outside the school team (``suppressed``) it is
    ``hidden`` when computed from fewer than ``threshold`` records, or, for a rate, when its
    part or the rest is fewer than ``threshold`` (12.5% of 8 names one case), or when the
    table total it is a share of is hidden; a rate shows whole percent; and ``n`` is never
    published (a count beside a rate gives its numerator away).  ``key``, ``label`` and
    ``unit`` are the Statistic's."""
    source: Statistic
    hidden: bool
    threshold: int
    suppressed: bool = False

    key = property(lambda self: self.source.key)
    label = property(lambda self: self.source.label)
    unit = property(lambda self: self.source.unit)

    @property
    def value(self) -> Optional[float]:
        if self.hidden or self.source.value is None:
            return None
        if self.suppressed and self.unit == "%":
            return float(math.floor(self.source.value + 0.5))  # half up, as people round
        return self.source.value

    @property
    def n(self) -> Optional[int]:
        return None if self.hidden or self.suppressed else self.source.n


def protect_statistic(stat: Statistic, *, threshold: int, suppress: bool = True,
                      hidden_totals: frozenset = frozenset()) -> PublishedStatistic:
    """Hidden when suppressing and n < threshold (n = 0 too: "자료 없음" would publish a 0),
    when a rate's part or rest is below the threshold, or when ``stat.total_of`` names a table
    whose grand total is hidden (``hidden_totals``: the keys of such tables)."""
    small_part = stat.part is not None and (stat.part < threshold or stat.n - stat.part < threshold)
    hidden = suppress and (stat.n < threshold or small_part or stat.total_of in hidden_totals)
    return PublishedStatistic(stat, hidden, threshold, suppress)


def with_unit(number: str, unit: str) -> str:
    """ "12건", "3일" / "12", "3 days": a number (already formatted) with its unit."""
    return str(UNIT_FORMATS[unit]) % {"n": number} if unit in UNIT_FORMATS else f"{number}{unit}"


def unit_name(unit: str) -> str:
    """The unit as a table caption names it: "건" / "count"."""
    names = {"건": pgettext("unit", "건"), "명": pgettext("unit", "명"), "회": pgettext("unit", "회"),
             "일": pgettext("unit", "일"), "점": pgettext("unit", "점")}
    return names.get(unit, unit)


def cell_text(cell: Cell, threshold: int) -> str:
    """Display text in the reader's language: "1,234", "5 미만" or "비공개"."""
    if cell.hidden == SMALL:
        return gettext("%(k)s 미만", k=threshold)
    if cell.hidden:
        return gettext("비공개")
    return f"{cell.value:,}"


def statistic_text(stat: PublishedStatistic, threshold: Optional[int] = None) -> str:
    """ "12일", "88.9%", "4.2점", "자료 없음" or "비공개" (``threshold``: the
    PublishedStatistic's own unless given)."""
    if stat.hidden:
        return gettext("비공개")
    value = stat.value
    if value is None:
        return gettext("자료 없음")
    number = f"{round(value):,}" if abs(value - round(value)) < 1e-9 else f"{value:,.1f}"
    return with_unit(number, stat.unit)
