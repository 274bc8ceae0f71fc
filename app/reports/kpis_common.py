"""What every statistics query shares: the row set of a scope, the case conditions of the
filters, filling a Cube from aggregate rows, and the nearest-rank median / 90th percentile
computed in SQL (the dialect-specific pieces are in kpis_sql.py; the cases of a period, live and
removed by retention, in kpis_rows.py).

Every query here groups in the database; Python only places the few aggregate rows in a Cube."""
from __future__ import annotations

import dataclasses

from dataclasses import dataclass, field
from typing import Iterable, Optional

from flask_babel import lazy_gettext as _l
from flask_babel.speaklater import LazyString
from sqlalchemy import and_, case, exists, func, select
from sqlalchemy.orm import aliased

from ..agencies.models import Referral
from ..auth.models import DistrictOffice, Gu, Organisation
from ..cases.models import CaseNeed, SupportCase
from ..extensions import db
from ..i18n import language
from .filters import ReportFilters
from .kpis_sql import month_keys
from .tables import Cube, Scope, Statistic

#: the case's school (aliased: a referral query also joins the agency's Organisation)
School = aliased(Organisation, name="school")
#: the domain filter's need (aliased: the domain cube joins CaseNeed itself)
_Need = aliased(CaseNeed, name="filter_need")


# --- the rows of a scope ---------------------------------------------------------------------

@dataclass
class Rows:
    """The row set of a cube: labels to show, the database keys they stand for."""
    heading: str
    keys: list                     #: school id, office code, gu id, or a category code
    labels: list[str]
    row_keys: list[str] = field(default_factory=list)
    grid: bool = False             #: the city's 25 자치구: the main table shows as a grid map

    def index(self) -> dict:
        return {key: i for i, key in enumerate(self.keys)}

    @property
    def main_chart(self) -> str:
        """The chart of a page's main table: the 25 자치구 as a grid map, else bars."""
        return "grid" if self.grid else "bar"


def _named(name_ko: str, name_en: str) -> LazyString:
    """A 자치구's or an office's name in the reader's language (a cube serves every language)."""
    return LazyString(lambda: name_en if name_en and language() == "en" else name_ko)


def _gu_rows(office_code: Optional[str] = None) -> Rows:
    query = select(Gu.id, Gu.name_ko, Gu.name_en).order_by(Gu.name_ko)
    if office_code is not None:
        query = query.where(Gu.office_code == office_code)
    found = db.session.execute(query).all()
    return Rows(_l("자치구"), [gu_id for gu_id, _n, _e in found], [_named(ko, en) for _i, ko, en in found],
                [ko for _i, ko, _e in found], grid=office_code is None)


def office_rows() -> Rows:
    found = db.session.execute(select(DistrictOffice.code, DistrictOffice.name_ko, DistrictOffice.name_en)
                               .order_by(DistrictOffice.code)).all()
    return Rows(_l("교육지원청"), [code for code, _n, _e in found], [_named(ko, en) for _c, ko, en in found],
                [code for code, _n, _e in found])


def scope_rows(scope: Scope) -> Rows:
    """The rows of a case-based cube (one query): the school; a district's active schools by
    name, every one even with nothing to count; the 11 offices or the 25 자치구 of the city."""
    if scope.level == "school":
        name = db.session.scalar(select(Organisation.name).where(Organisation.id == scope.school_id))
        return Rows(_l("학교"), [scope.school_id], [name or scope.name])
    if scope.level == "district":
        found = db.session.execute(
            select(Organisation.id, Organisation.name)
            .where(Organisation.kind == "school", Organisation.office_code == scope.office_code, Organisation.active)
            .order_by(Organisation.name, Organisation.id)).all()
        return Rows(_l("학교"), [i for i, _ in found], [name for _, name in found])
    if scope.level == "city":
        return _gu_rows() if scope.group == "gu" else office_rows()
    raise ValueError(f"unknown scope level {scope.level}")


def guardian_rows(scope: Scope) -> Rows:
    """Rows of a guardian figure: a district's 자치구, or the city's offices or 자치구."""
    if scope.level == "district":
        return _gu_rows(scope.office_code)
    if scope.level == "city":
        return _gu_rows() if scope.group == "gu" else office_rows()
    raise ValueError("guardian figures are kept by district offices, not schools")


def category_rows(heading: str, categories: dict[str, str]) -> Rows:
    return Rows(heading, list(categories), list(categories.values()), list(categories))


# --- which cases ------------------------------------------------------------------------------

def case_row_key(scope: Scope):
    """The column a case-based query groups by: its school, or its school's office or 자치구."""
    if scope.level == "city":
        return School.gu_id if scope.group == "gu" else School.office_code
    return SupportCase.school_id


def scope_conditions(scope: Scope, school_id) -> list:
    """The scope on ``School`` joined on ``school_id`` (a case's or a removed case's school)."""
    if scope.level == "school":
        return [school_id == scope.school_id]
    if scope.level == "district":
        # the rows are the office's active schools: the cases are theirs
        return [School.office_code == scope.office_code, School.kind == "school", School.active]
    return []


def case_conditions(scope: Scope, f: ReportFilters) -> list:
    """Conditions on SupportCase and ``School`` (joined on SupportCase.school_id): the scope and
    the school-level, risk-level and domain filters."""
    return scope_conditions(scope, SupportCase.school_id) + filter_conditions(f)


def filter_conditions(f: ReportFilters) -> list:
    """The filters alone, on SupportCase and ``School``."""
    conditions = []
    if f.school_level:
        conditions.append(School.school_level == f.school_level)
    if f.risk_level:
        conditions.append(SupportCase.risk_level == f.risk_level)
    if f.domain:
        conditions.append(exists().where(_Need.case_id == SupportCase.id, _Need.domain == f.domain))
    return conditions


def referral_ever_accepted():
    """The agency took the referral on at some point: it answered (responded_at) and did not
    decline; a referral cancelled after acceptance still counts."""
    return and_(Referral.responded_at.isnot(None), Referral.status != "declined")


def join_cases(query, case_id_column):
    """``query`` joined to the case of ``case_id_column`` and the case's school."""
    return (query.join(SupportCase, SupportCase.id == case_id_column)
            .join(School, School.id == SupportCase.school_id))


def case_records(model, scope: Scope, f: ReportFilters, *columns):
    """select(columns) over the rows of ``model`` (a table with ``case_id``) whose case is in
    scope and matches the filters (FROM model JOIN support_case JOIN school)."""
    return join_cases(select(*columns).select_from(model), model.case_id).where(*case_conditions(scope, f))


def cases_query(scope: Scope, f: ReportFilters, *columns):
    """select(columns) over the cases in scope (FROM support_case JOIN school)."""
    return (select(*columns).select_from(SupportCase).join(School, School.id == SupportCase.school_id)
            .where(*case_conditions(scope, f)))


# --- filling a cube ---------------------------------------------------------------------------

def counted(inner, *names: str, distinct: str | None = None) -> list:
    """(names..., count) of ``inner`` grouped by its labelled columns ``names`` (counting the
    distinct values of its column ``distinct`` when given).

    The grouping happens outside: PostgreSQL (server-side binds) cannot match a GROUP BY
    expression holding a bound value (to_char's format, a CASE's label) to the same select item."""
    sub = inner.subquery()
    columns = [sub.c[name] for name in names]
    count = func.count(sub.c[distinct].distinct()) if distinct else func.count()
    # Core rows (no ORM result machinery): a district's cube can have thousands of groups
    return db.session.connection().execute(select(*columns, count).group_by(*columns)).all()


def make_cube(key: str, title: str, rows: Rows, columns: dict, results: Iterable, f: ReportFilters | None,
              *, unit: str = "건", note: str = "", chart: str = "bar") -> Cube:
    """A Cube from aggregate rows (row key, column key, month 'YYYY-MM' or None, count).

    ``columns`` maps column keys to labels (display order); ``f`` None makes a snapshot (one
    slot).  Rows whose keys fall outside the row set or the period are not counted."""
    months = month_keys(f) if f is not None else [None]
    month_at = {m: k for k, m in enumerate(months)}
    row_at, column_at = rows.index(), {c: j for j, c in enumerate(columns)}
    counts = [[[0] * len(months) for _ in columns] for _ in rows.keys]
    for row_key, column_key, month, n in results:
        i, j = row_at.get(row_key), column_at.get(column_key)
        m = month_at.get(month) if f is not None else 0
        if i is not None and j is not None and m is not None:
            counts[i][j][m] += int(n or 0)
    return Cube(key, title, rows.heading, list(rows.labels), list(columns.values()), counts,
                chart, unit, note, list(rows.row_keys), snapshot=f is None)


# --- statistics ---------------------------------------------------------------------------------

def nearest_rank(values) -> dict:
    """{kind: (n, median, p90)} of a subquery with integer columns ``kind`` and ``value``, in one query.

    Nearest rank: the value at rank ceil(p·n) of the sorted values, i.e. the least value whose
    cumulative count c reaches p·n (2c >= n, 10c >= 9n: integers only).  The values (days) are
    counted per distinct value first, so the window runs over a few hundred rows, not every record."""
    hist = (select(values.c.kind, values.c.value, func.count().label("c"))
            .group_by(values.c.kind, values.c.value).subquery("hist"))
    cum = select(hist.c.kind, hist.c.value,
                 func.sum(hist.c.c).over(partition_by=hist.c.kind, order_by=hist.c.value).label("upto"),
                 func.sum(hist.c.c).over(partition_by=hist.c.kind).label("n")).subquery("cum")
    query = select(cum.c.kind, func.max(cum.c.n),
                   func.min(case((cum.c.upto * 2 >= cum.c.n, cum.c.value))),
                   func.min(case((cum.c.upto * 10 >= cum.c.n * 9, cum.c.value)))).group_by(cum.c.kind)
    return {kind: (int(n), median, p90) for kind, n, median, p90 in db.session.execute(query)}


def statistic(key: str, label: str, value, n, unit: str = "일") -> Statistic:
    n = int(n or 0)
    return Statistic(key, label, None if n == 0 or value is None else float(value), n, unit)


def rate(key: str, label: str, part, whole) -> Statistic:
    """part / whole in % (one decimal); None when there is nothing to divide."""
    whole, part = int(whole or 0), int(part or 0)
    stat = statistic(key, label, round(100.0 * part / whole, 1) if whole else None, whole, "%")
    return dataclasses.replace(stat, part=part)
