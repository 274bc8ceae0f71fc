"""The shapes every statistic takes between the queries, the de-identification rule, the charts,
the pages and the exports.

A ``CountTable`` is what a query returns: counts by row group (a school, a district office, a
자치구, a month) and column category (a status, a risk level, an outcome), always with the row
and column totals published beside it.  ``protect`` (suppression.py) turns it into a
``PublishedTable`` where each cell is a ``Cell``: a number, or hidden.  A ``Statistic`` is one
figure computed from ``n`` records (a median, a rate), hidden when ``n`` is small."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Optional

#: what a hidden cell says (a primary cell: fewer than the threshold)
SMALL = "small"
#: a complementary cell: hidden so that a small one cannot be worked out from the totals
COMPLEMENT = "complement"


@dataclass
class CountTable:
    """Counts of records by (row group, column category); totals are computed, never queried."""
    key: str                      #: stable id: "cases_by_status"; used in URLs, exports, audit details
    title: str                    #: Korean: "상태별 사례"
    row_heading: str              #: Korean heading of the label column: "학교", "교육지원청", "월"
    rows: list[str]               #: row labels (display order)
    columns: list[str]            #: column labels (display order)
    cells: list[list[int]]        #: cells[i][j] = count for rows[i], columns[j]
    chart: str = "bar"            #: "bar" (grouped/stacked bars), "line" (a trend: rows are months), "grid" (25 자치구)
    unit: str = "건"               #: 건, 명, 회
    note: str = ""                #: one Korean sentence on what is counted ("기간 내 접수된 사례의 현재 상태")
    row_keys: list[str] = field(default_factory=list)  #: machine keys of the rows (gu names for "grid")

    def row_totals(self) -> list[int]:
        return [sum(row) for row in self.cells]

    def column_totals(self) -> list[int]:
        return [sum(col) for col in zip(*self.cells)] if self.cells else [0] * len(self.columns)

    def total(self) -> int:
        return sum(self.row_totals())


@dataclass(frozen=True)
class Cell:
    """One published figure: ``value`` when shown; ``hidden`` is SMALL or COMPLEMENT otherwise."""
    value: Optional[int] = None
    hidden: Optional[str] = None

    @property
    def shown(self) -> bool:
        return self.hidden is None


@dataclass
class PublishedTable:
    """A CountTable after the de-identification rule: every number a page or export may show."""
    source: CountTable
    cells: list[list[Cell]]
    row_totals: list[Cell]
    column_totals: list[Cell]
    total: Cell
    threshold: int                #: the k in "k 미만" (config REPORT_SMALL_CELL, default 5)
    suppressed: bool              #: False for the school team's own figures (small counts allowed)


@dataclass(frozen=True)
class Statistic:
    """A figure computed from ``n`` records: a median or 90th percentile of days, a rate in %."""
    key: str                      #: "days_request_to_selection_median"
    label: str                    #: Korean: "요청부터 선정까지 (중앙값)"
    value: Optional[float]        #: None when there is no record (shown "자료 없음")
    n: int                        #: how many records it was computed from
    unit: str = "일"               #: 일, %, 점
    #: a rate's numerator (part of n): the rule hides a rate that implies a small group
    part: Optional[int] = None
    #: the key of the table whose grand total is this statistic's n (hidden with that total)
    total_of: Optional[str] = None


@dataclass
class Cube:
    """What a query returns: counts by (row, column, month of the period), so the table of the
    whole period and of the periods one month shorter at either end (which the differencing
    check needs) come from one query.  Snapshot figures (as of today) have one month slot."""
    key: str
    title: str
    row_heading: str
    rows: list[str]
    columns: list[str]
    counts: list[list[list[int]]]  #: counts[i][j][m]; m indexes ReportFilters.months() (or the one slot)
    chart: str = "bar"
    unit: str = "건"
    note: str = ""
    row_keys: list[str] = field(default_factory=list)
    snapshot: bool = False         #: as of today: the period does not change it

    def table(self, first: int = 0, last: int | None = None) -> CountTable:
        """The counts summed over months first..last (inclusive; default every month)."""
        stop = None if last is None else last + 1
        cells = [[sum(slots[first:stop]) for slots in row] for row in self.counts]
        return CountTable(self.key, self.title, self.row_heading, list(self.rows), list(self.columns), cells,
                          self.chart, self.unit, self.note, list(self.row_keys))

    def period_neighbours(self) -> list[CountTable]:
        """The same table for the periods that differ from this one by a single month."""
        months = len(self.counts[0][0]) if self.counts and self.counts[0] else 0
        if self.snapshot or months < 2:
            return []
        return [self.table(first=1), self.table(last=months - 2)]


@dataclass(frozen=True)
class Scope:
    """Whose figures: one school, one district office's schools, or the whole city; and what a
    row is (``group``): "school" (a school's own page: one row), "school" rows of a district,
    or "office" (the 11 교육지원청) / "gu" (the 25 자치구) for the city."""
    level: str                     #: "school" | "district" | "city"
    group: str                     #: "school" | "office" | "gu"
    school_id: Optional[int] = None
    office_code: Optional[str] = None
    #: "서울OO초등학교", "서부교육지원청", "서울특별시교육청" (shown, not part of the key: the city's is translated)
    name: str = field(default="", compare=False)

    @property
    def suppressed(self) -> bool:
        """Outside the school team every figure is de-identified (the school sees its cases anyway)."""
        return self.level != "school"
