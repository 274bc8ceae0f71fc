"""The short summary at the top of the 성과보고서, in the reader's language, written from the
published figures only (a hidden figure is written as hidden, e.g. "5 미만건", so the text reveals
nothing the tables do not): "2026학년도 1학기 지원 요청 132건, 지원 대상 선정 118건 (89%), 종결 40건."""
from __future__ import annotations

from flask_babel import gettext as _

from .dashboards import Dashboard
from .kpis_cases import OVERDUE, TREND
from .suppression import cell_text, statistic_text, with_unit
from .tables import Cell


def _count(cell: Cell | None, threshold: int, unit: str = "건") -> str:
    if cell is None:
        return with_unit("0", unit)
    if cell.shown:
        return with_unit(f"{cell.value:,}", unit)
    text = cell_text(cell, threshold)
    return text if cell.hidden == "complement" else with_unit(text, unit)


def _share(part: Cell | None, whole: Cell | None) -> str:
    if part is None or whole is None or not (part.shown and whole.shown) or not whole.value:
        return ""
    return f" ({round(100 * part.value / whole.value)}%)"


def _column_total(dashboard: Dashboard, key: str, column) -> Cell | None:
    """The column total of ``column`` (its label, a lazy message: compared in the page's language)."""
    panel, column = dashboard.panel(key), str(column)
    if panel is None or column not in panel.table.source.columns:
        return None
    return panel.table.column_totals[panel.table.source.columns.index(column)]


def _grand_total(dashboard: Dashboard, key: str) -> Cell | None:
    panel = dashboard.panel(key)
    return panel.table.total if panel is not None else None


def summary_lines(dashboard: Dashboard) -> list[str]:
    """Three to six sentences: requests and outcomes, time to support, links, the programme."""
    from ..guardians.models import GUARDIAN_STATUSES
    k, f = dashboard.threshold, dashboard.filters
    lines = []
    requested = _column_total(dashboard, "requests_trend", TREND["requested"])
    selected = _column_total(dashboard, "requests_trend", TREND["selected"])
    closed = _column_total(dashboard, "requests_trend", TREND["closed"])
    lines.append(_("%(period)s 지원 요청 %(requested)s, 지원 대상 선정 %(selected)s%(share)s, 종결 %(closed)s.",
                   period=f.label, requested=_count(requested, k), selected=_count(selected, k),
                   share=_share(selected, requested), closed=_count(closed, k)))
    stats = {s.key: s for s in dashboard.statistics}
    timing = [f"{s.label} {statistic_text(s, k)}" for key, s in stats.items()
              if key.startswith("days_") and key.endswith("median")]
    if timing:
        lines.append(", ".join(timing) + ".")
    referrals, matches = _grand_total(dashboard, "referrals_by_outcome"), _grand_total(dashboard, "guardian_matches")
    lines.append(_("유관기관 의뢰 %(referrals)s, 교육후견인 연계 %(matches)s.", referrals=_count(referrals, k),
                   matches=_count(matches, k)))
    overdue = _column_total(dashboard, "overdue_actions", OVERDUE["overdue"])
    if overdue is not None:
        lines.append(_("오늘 기준 기한이 지난 지원 계획 %(n)s.", n=_count(overdue, k)))
    satisfaction = [s for key, s in stats.items() if key.startswith("satisfaction")]
    if satisfaction:
        lines.append(_("만족도: %(figures)s.", figures=", ".join(f"{s.label} {statistic_text(s, k)}"
                                                                for s in satisfaction)))
    guardians = dashboard.panel("guardians_by_status")
    if guardians is not None:
        active = _column_total(dashboard, "guardians_by_status", GUARDIAN_STATUSES["active"])
        lines.append(_("활동 중인 교육후견인 %(n)s.", n=_count(active, k, "명")))
    return lines
