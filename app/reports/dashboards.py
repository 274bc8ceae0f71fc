"""A statistics page as data: the figures of a scope and period, de-identified, grouped in sections.

The queries (kpis_*.py) return Cubes; this module applies the one rule (suppression.py) to each
table, with the same table for every filter setting that differs by one group as neighbours (the
period one month shorter at either end, and each active filter cleared), so that no hidden value
can be worked out by comparing two pages.  Pages, exports and the printed report all read a
Dashboard: nothing is shown that did not pass through ``protect``."""
from __future__ import annotations

import dataclasses
import datetime as dt
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass, field

from flask import current_app
from flask_babel import lazy_gettext as _l
from markupsafe import Markup

from ..db import today_kst, utcnow
from ..i18n import current_language
from . import kpis_cases, kpis_programme
from .charts import chart
from .filters import ReportFilters
from .suppression import protect, protect_statistic
from .tables import CountTable, Cube, PublishedTable, Scope, Statistic

#: (section title, cube keys in display order); a key a scope does not have is skipped
SECTIONS = (
    (_l("지원 사례"), ("cases_by_status", "requests_trend", "cases_by_risk", "cases_by_domain")),
    (_l("지원 진행"), ("overdue_actions", "consents_missing", "guardian_matches", "referrals_by_outcome")),
    (_l("만족도"), ("satisfaction",)),
    (_l("교육후견인 운영"), ("guardians_by_status", "checks_expiring", "early_closures")),
    (_l("유관기관"), ("referrals_by_agency_kind",)),
    (_l("사례회의"), ("conferences_held", "conference_decisions", "action_items_on_time")),
)
#: the filters that narrow the records (each one cleared gives a neighbour setting)
NARROWING = ("school_level", "domain", "risk_level")


@dataclass
class Panel:
    table: PublishedTable
    svg: Markup


@dataclass
class Dashboard:
    scope: Scope
    filters: ReportFilters
    threshold: int
    counted_at: dt.datetime          #: when the figures were counted (UTC): the page says so
    sections: list[tuple[str, list[Panel]]] = field(default_factory=list)
    statistics: list[Statistic] = field(default_factory=list)
    #: HTML rendered from these figures, kept with them while the page is cached (a district's
    #: ~16 tables of up to ~200 schools took ~35 ms to render on every view)
    rendered: dict[str, Markup] = field(default_factory=dict, compare=False, repr=False)

    def rendered_once(self, name: str, render) -> Markup:
        """``render()`` the first time, the same HTML afterwards (two threads may both render)."""
        html = self.rendered.get(name)
        if html is None:
            html = self.rendered[name] = Markup(render())
        return html

    def panel(self, key: str) -> Panel | None:
        return next((p for _title, panels in self.sections for p in panels if p.table.source.key == key), None)

    @property
    def panels(self) -> list[Panel]:
        return [p for _title, panels in self.sections for p in panels]


class FigureCache:
    """The counts of recent (scope, filters, day) in this worker, for REPORT_CACHE_SECONDS.

    District and city figures aggregate a whole office or the city (0.5–4 s at Seoul scale);
    statistics are not live data, so a page may show counts a few minutes old and says when
    they were counted.  The school team's own page is never cached (it is fast, and a lead who
    just closed a case expects to see it).  Only counts are kept, in memory, never on disk."""

    MAX_ENTRIES = 256

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.entries: OrderedDict = OrderedDict()

    def get(self, key, seconds: int, compute):
        now = time.monotonic()
        with self.lock:
            hit = self.entries.get(key)
            if hit is not None and now - hit[0] < seconds:
                self.entries.move_to_end(key)
                return hit[1]
        value = compute()  # outside the lock: two workers' threads may both count, never wait
        with self.lock:
            self.entries[key] = (now, value)
            while len(self.entries) > self.MAX_ENTRIES:
                self.entries.popitem(last=False)
        return value


def _figures(scope: Scope, f: ReportFilters) -> tuple[list[Cube], list[Statistic], dt.datetime]:
    """(cubes, statistics, when counted (UTC)) of one scope and filter setting."""
    def compute():
        cubes, stats = kpis_cases.case_cubes(scope, f), kpis_cases.case_statistics(scope, f)
        if scope.level != "school":
            cubes += kpis_programme.programme_cubes(scope, f)
            stats += kpis_programme.programme_statistics(scope, f)
        return cubes, stats, utcnow()
    return _cached(("figures", scope, f), scope, compute)


def _cached(key: tuple, scope: Scope, compute):
    seconds = current_app.config["REPORT_CACHE_SECONDS"]
    if not seconds or scope.level == "school":
        return compute()
    cache = current_app.extensions.setdefault("ieum_report_cache", FigureCache())
    return cache.get((*key, today_kst()), seconds, compute)


def build(scope: Scope, f: ReportFilters) -> Dashboard:
    """Every figure of the page, each through the de-identification rule; a district or city
    page is kept whole (protected tables and charts, in the reader's language) like its counts."""
    return _cached(("page", scope, f, current_language()), scope, lambda: _build(scope, f))


def _localised(table: CountTable) -> CountTable:
    """The table's words in the reader's language: the counts are shared by every language (their
    labels are lazy messages), a page and its charts are built in one."""
    return dataclasses.replace(table, title=str(table.title), row_heading=str(table.row_heading),
                               rows=[str(r) for r in table.rows], columns=[str(c) for c in table.columns],
                               note=str(table.note))


def _build(scope: Scope, f: ReportFilters) -> Dashboard:
    threshold = current_app.config["REPORT_SMALL_CELL"]
    suppress = scope.suppressed
    cubes, statistics, counted_at = _figures(scope, f)
    # the same figures with one filter cleared: a neighbour setting a reader could also open
    cleared = [{c.key: c for c in _figures(scope, dataclasses.replace(f, **{name: None}))[0]}
               for name in NARROWING if suppress and getattr(f, name)]
    by_key: dict[str, Panel] = {}
    for cube in cubes:
        neighbours = cube.period_neighbours() if suppress else []
        neighbours += [other[cube.key].table() for other in cleared if cube.key in other]
        published = protect(_localised(cube.table()), threshold=threshold, suppress=suppress, neighbours=neighbours)
        by_key[cube.key] = Panel(published, chart(published))
    dashboard = Dashboard(scope, f, threshold, counted_at)
    for title, keys in SECTIONS:
        panels = [by_key[k] for k in keys if k in by_key]
        if panels:
            dashboard.sections.append((str(title), panels))
    placed = {k for _title, keys in SECTIONS for k in keys}
    others = [panel for key, panel in by_key.items() if key not in placed]
    if others:
        dashboard.sections.append((str(_l("기타 지표")), others))
    hidden_totals = frozenset(key for key, panel in by_key.items() if not panel.table.total.shown)
    dashboard.statistics = [protect_statistic(dataclasses.replace(s, label=str(s.label)), threshold=threshold, suppress=suppress, hidden_totals=hidden_totals)
                            for s in statistics]
    return dashboard
