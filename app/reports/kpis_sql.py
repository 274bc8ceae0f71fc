"""SQL that differs between SQLite and PostgreSQL, for the statistics queries: the KST month or day
of a column, day differences, the period of a DATE or naive-UTC DATETIME column (compared on the
raw column, so that indexes apply), and a way to keep SQLite from driving a query by a date index."""
from __future__ import annotations

import datetime as dt

from flask_babel.speaklater import LazyString
from sqlalchemy import Date, Integer, String, and_, cast, func, literal, literal_column
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.expression import ColumnElement
from sqlalchemy.sql.visitors import InternalTraversal

from ..extensions import db
from ..i18n import language
from ..words import month_text
from .filters import ReportFilters
from .tables import Scope

KST = dt.timedelta(hours=9)
#: Seoul has no daylight saving time: a fixed offset in SQL is exact
_PG_KST = literal_column("interval '9 hours'")


def dialect() -> str:
    return db.session.get_bind().dialect.name


def month_of_date(column):
    """'YYYY-MM' of a DATE column (already a KST day)."""
    if dialect() == "postgresql":
        return func.to_char(column, "YYYY-MM")
    return func.strftime("%Y-%m", column)


def month_of_kst(column):
    """'YYYY-MM' of the KST day a naive-UTC DATETIME falls in."""
    if dialect() == "postgresql":
        return func.to_char(column + _PG_KST, "YYYY-MM")
    return func.strftime("%Y-%m", column, "+9 hours")


def kst_date(column):
    """The KST day (a DATE) of a naive-UTC DATETIME."""
    if dialect() == "postgresql":
        return cast(column + _PG_KST, Date)
    return func.date(column, "+9 hours")


def days_between(start, end):
    """Whole days from the DATE ``start`` to the DATE ``end`` (an integer; either may be a bind)."""
    if dialect() == "postgresql":
        return cast(end, Date) - cast(start, Date)
    return cast(func.julianday(end) - func.julianday(start), Integer)


def plus_months(column, months: int):
    """A naive-UTC DATETIME ``months`` calendar months later."""
    if dialect() == "postgresql":
        return column + literal_column(f"interval '{int(months)} months'")
    return func.datetime(column, f"+{int(months)} months")


def json_elements(column, name: str):
    """The elements of a JSON array column as a FROM item with one column ``value`` (JSON):
    SQLite's json_each, PostgreSQL's json_array_elements (the column is ``json``, not ``jsonb``).
    Joined after the column's table (``ON true``), it reads that row's array (implicitly lateral)."""
    if dialect() == "postgresql":
        # a set-returning function of a base type names its column after the alias: AS name(value)
        return func.json_array_elements(column).table_valued("value").render_derived(name=name)
    return func.json_each(column).table_valued("value").alias(name)


def json_item_text(value, index: int):
    """The text of item ``index`` of a JSON array value (an element of ``json_elements``)."""
    if dialect() == "postgresql":
        # the index inlined: a bound value would keep PostgreSQL from grouping by the expression
        return value.op("->>")(literal_column(str(int(index)))).cast(String)
    return func.json_extract(value, f"$[{int(index)}]")


def json_value_text(value):
    """The text of a JSON scalar value (an element of ``json_elements`` that is a string)."""
    if dialect() == "postgresql":
        return value.op("#>>")(literal_column("'{}'")).cast(String)
    return value


def day_literal(day: dt.date):
    return literal(day, Date)


def utc_bounds(f: ReportFilters) -> tuple[dt.datetime, dt.datetime]:
    """[start 00:00 KST, end+1 00:00 KST) as naive UTC: a DATETIME column's period, on the raw column."""
    start = dt.datetime.combine(f.start, dt.time()) - KST
    return start, dt.datetime.combine(f.end + dt.timedelta(days=1), dt.time()) - KST


class _Unindexed(ColumnElement):
    """A column SQLite must not drive a query by (``+column``); PostgreSQL sees the column."""
    inherit_cache = True
    #: the column is part of the statement cache key
    _traverse_internals = [("column", InternalTraversal.dp_clauseelement)]

    def __init__(self, column):
        self.column = column
        self.type = column.type


@compiles(_Unindexed)
def _unindexed(element, compiler, **kw):
    return compiler.process(element.column, **kw)


@compiles(_Unindexed, "sqlite")
def _unindexed_sqlite(element, compiler, **kw):
    return "+" + compiler.process(element.column, **kw)


def _period_column(column, scope: Scope | None):
    """A school's or a district's records are found from its schools; without statistics on the
    date ranges SQLite would rather walk the whole city's period by a date index (4x slower)."""
    return _Unindexed(column) if scope is not None and scope.level != "city" else column


def in_period_datetime(column, f: ReportFilters, scope: Scope | None = None):
    start, stop = utc_bounds(f)
    column = _period_column(column, scope)
    return and_(column >= start, column < stop)


def in_period_date(column, f: ReportFilters, scope: Scope | None = None):
    return _period_column(column, scope).between(f.start, f.end)


def month_keys(f: ReportFilters) -> list[str]:
    return [f"{y:04d}-{m:02d}" for y, m in f.months()]


def month_label(year: int, month: int) -> LazyString:
    """"2026년 3월" / "March 2026" in the reader's language (a cube is shared by every language)."""
    return LazyString(lambda: month_text(year, month, language()))
