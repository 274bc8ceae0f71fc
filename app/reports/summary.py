"""The short Korean summary at the top of the 성과보고서, written from the published figures only
(a hidden figure is written as hidden, e.g. "5건 미만", so the text reveals nothing the tables
do not): "2026학년도 1학기 요청 132건, 선정 118건 (89%), 종결 40건."""
from __future__ import annotations

from .dashboards import Dashboard
from .suppression import cell_text, statistic_text
from .tables import Cell


def _count(cell: Cell | None, threshold: int, unit: str = "건") -> str:
    if cell is None:
        return f"0{unit}"
    return f"{cell.value:,}{unit}" if cell.shown else f"{cell_text(cell, threshold)}" + ("" if cell.hidden == "complement" else unit)


def _share(part: Cell | None, whole: Cell | None) -> str:
    if part is None or whole is None or not (part.shown and whole.shown) or not whole.value:
        return ""
    return f" ({round(100 * part.value / whole.value)}%)"


def _column_total(dashboard: Dashboard, key: str, column: str) -> Cell | None:
    panel = dashboard.panel(key)
    if panel is None or column not in panel.table.source.columns:
        return None
    return panel.table.column_totals[panel.table.source.columns.index(column)]


def _grand_total(dashboard: Dashboard, key: str) -> Cell | None:
    panel = dashboard.panel(key)
    return panel.table.total if panel is not None else None


def summary_lines(dashboard: Dashboard) -> list[str]:
    """Three to six sentences: requests and outcomes, time to support, links, the programme."""
    k, f = dashboard.threshold, dashboard.filters
    lines = []
    requested = _column_total(dashboard, "requests_trend", "요청")
    selected = _column_total(dashboard, "requests_trend", "선정")
    closed = _column_total(dashboard, "requests_trend", "종결")
    lines.append(f"{f.label} 지원 요청 {_count(requested, k)}, 지원 대상 선정 {_count(selected, k)}"
                 f"{_share(selected, requested)}, 종결 {_count(closed, k)}.")
    stats = {s.key: s for s in dashboard.statistics}
    timing = [f"{s.label} {statistic_text(s, k)}" for key, s in stats.items()
              if key.startswith("days_") and key.endswith("median")]
    if timing:
        lines.append(", ".join(timing) + ".")
    referrals, matches = _grand_total(dashboard, "referrals_by_outcome"), _grand_total(dashboard, "guardian_matches")
    lines.append(f"유관기관 의뢰 {_count(referrals, k)}, 교육후견인 연계 {_count(matches, k)}.")
    overdue = _column_total(dashboard, "overdue_actions", "기한 지남")
    if overdue is not None:
        lines.append(f"오늘 기준 기한이 지난 지원 계획 {_count(overdue, k)}.")
    satisfaction = [s for key, s in stats.items() if key.startswith("satisfaction")]
    if satisfaction:
        lines.append("만족도: " + ", ".join(f"{s.label} {statistic_text(s, k)}" for s in satisfaction) + ".")
    guardians = dashboard.panel("guardians_by_status")
    if guardians is not None:
        active = _column_total(dashboard, "guardians_by_status", "활동")
        lines.append(f"활동 중인 교육후견인 {_count(active, k, '명')}.")
    return lines
