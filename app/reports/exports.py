"""A statistics page as a file (XLSX, CSV) through the shared export writer (app/exports.py).

Only published figures go out: a hidden cell is its text ("5 미만", "비공개"), never its value.
Headings and labels are in the reader's language (the page's own words); dates are ISO (machine-readable).
XLSX: an information sheet (scope, period, filters, rule), then one sheet per table.  CSV: the
same blocks one after another, each headed by its title."""
from __future__ import annotations

import io
from typing import Iterator

from flask_babel import gettext as _, pgettext

from .. import exports
from ..db import utcnow
from .dashboards import Dashboard, Panel
from .suppression import cell_text, statistic_text

def export_name(dashboard: Dashboard, fmt: str) -> str:
    f = dashboard.filters
    return f"ieum-stats-{dashboard.scope.level}-{f.start:%Y%m}-{f.end:%Y%m}.{fmt}"


def _value(cell, threshold: int):
    return cell.value if cell.shown else cell_text(cell, threshold)


def table_rows(panel: Panel, threshold: int) -> Iterator[list]:
    """Header, one row per group with its total, and the totals row."""
    table, source = panel.table, panel.table.source
    yield [source.row_heading, *source.columns, _("합계")]
    for label, cells, total in zip(source.rows, table.cells, table.row_totals):
        yield [label, *(_value(c, threshold) for c in cells), _value(total, threshold)]
    yield [_("합계"), *(_value(c, threshold) for c in table.column_totals), _value(table.total, threshold)]


def info_rows(dashboard: Dashboard, title: str) -> list[list]:
    f = dashboard.filters
    rows = [[_("보고서"), str(title)], [pgettext("report", "대상"), dashboard.scope.name], [_("기간"), f.label],
            [_("기간(일자)"), f"{f.start.isoformat()} ~ {f.end.isoformat()}"]]
    rows.extend([label, value] for label, value in f.described())
    if dashboard.scope.suppressed:
        rows.append([_("비식별 처리"), _("%(k)s 미만인 값은 '%(k)s 미만'으로, 그 값을 합계나 다른 조건의 값에서 계산해 낼 수 "
                                      "있는 칸은 '비공개'로 표시했습니다.", k=dashboard.threshold)])
    rows.append([_("작성 시각(UTC)"), utcnow().strftime("%Y-%m-%d %H:%M")])
    rows.append([])
    rows.append([_("지표"), _("값"), _("근거 건수")])
    for stat in dashboard.statistics:
        rows.append([stat.label, statistic_text(stat, dashboard.threshold), "" if stat.n is None else stat.n])
    return rows


def report_xlsx(dashboard: Dashboard, title: str) -> bytes:
    out = io.BytesIO()
    sheets = [(_("정보"), None, info_rows(dashboard, title))]
    seen: set[str] = set()
    for panel in dashboard.panels:
        name = panel.table.source.title[:28]
        while name in seen:  # sheet titles must differ
            name = name[:26] + f"_{len(seen)}"
        seen.add(name)
        sheets.append((name, None, table_rows(panel, dashboard.threshold)))
    exports.write_xlsx(out, sheets)
    return out.getvalue()


def report_csv(dashboard: Dashboard, title: str) -> bytes:
    def rows() -> Iterator[list]:
        yield from info_rows(dashboard, title)
        for panel in dashboard.panels:
            yield []
            yield [f"[{panel.table.source.title}]", panel.table.source.note]
            yield from table_rows(panel, dashboard.threshold)
    out = io.BytesIO()
    exports.write_csv(out, None, rows())
    return out.getvalue()
