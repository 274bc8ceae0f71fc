"""Many rows in one INSERT, for the saves that run under SQLite's write lock (a class-list import).

Two costs of SQLAlchemy's executemany weigh there, while every other writer waits:

- It builds and processes every row's parameters in Python, ~8 µs a row for a wide table (15 ms
  of a 2,000-student save, three times over: students, retention rows, audit events).
  ``insert_rows`` applies the columns' own bind processors once per value instead.
- The driver steps one row at a time and lets go of the GIL at every step.  With a page
  rendering in another thread of the same worker, each row then waits for that thread's switch
  interval (5 ms): measured at Seoul scale, 2,000 rows took 12 s instead of 60 ms beside one
  busy thread.  On SQLite the rows therefore go in as multi-row ``VALUES`` lists, one statement
  (one step) per up to SQLite's variable limit; other databases keep the driver's executemany.

Either way the rows go in in list order (ids follow it: the audit chain relies on that), with
no RETURNING and no defaults filled in (pass every value the row needs).
"""
from __future__ import annotations

from functools import lru_cache
from typing import Any

from sqlalchemy import Table, func, insert, select
from sqlalchemy.engine import Connection, Dialect

#: SQLite's bound-variable limit where the driver cannot say (builds before 3.32)
OLD_SQLITE_VARIABLES = 999


def insert_rows(connection: Connection, table: Table, rows: list[dict[str, Any]]) -> None:
    """INSERT ``rows`` (dicts with the same keys, named after ``table``'s columns) in list order."""
    if not rows:
        return
    keys = tuple(rows[0])
    dialect = connection.dialect
    statement, order, processors = _compiled(table, dialect, keys)
    if order is None:
        connection.exec_driver_sql(statement, [
            {key: processors[key](row[key]) if processors[key] else row[key] for key in keys} for row in rows])
        return
    params = [tuple(processors[key](row[key]) if processors[key] else row[key] for key in order) for row in rows]
    if dialect.name != "sqlite":
        connection.exec_driver_sql(statement, params)
        return
    head, _, one_row = statement.partition(" VALUES ")
    per_statement = max(1, variable_limit(connection) // len(order))
    for start in range(0, len(params), per_statement):
        chunk = params[start:start + per_statement]
        connection.exec_driver_sql(f"{head} VALUES {', '.join([one_row] * len(chunk))}",
                                   tuple(value for row in chunk for value in row))


@lru_cache(maxsize=64)
def _compiled(table: Table, dialect: Dialect, keys: tuple[str, ...]) -> tuple[str, tuple | None, dict]:
    """The INSERT's SQL, its positional parameter order (None: named) and each column's bind
    processor, made once per table, dialect and columns: every page's audit append comes here,
    and compiling the statement anew cost each page ~0.5 ms."""
    compiled = insert(table).compile(dialect=dialect, column_keys=list(keys))
    processors = {key: table.c[key].type.dialect_impl(dialect).bind_processor(dialect) for key in keys}
    return str(compiled), (tuple(compiled.positiontup) if compiled.positional else None), processors


def variable_limit(connection: Connection) -> int:
    """How many ``?`` one SQLite statement may bind (32,766 since SQLite 3.32)."""
    import sqlite3
    raw = connection.connection.dbapi_connection
    getlimit = getattr(raw, "getlimit", None)  # Python 3.11+
    return getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER) if getlimit else OLD_SQLITE_VARIABLES


def inserted_ids(connection: Connection, table: Table, uids: list[str]) -> dict[str, int]:
    """uid -> id of rows ``insert_rows`` just wrote, ``uids`` in the order they were inserted.

    One aggregate row when the ids are one unbroken run (rows inserted in list order under the
    write lock get ascending ids; nothing else can take one in between), so the driver steps
    once, not once per row; otherwise every uid's id is read."""
    low, high, count = connection.execute(
        select(func.min(table.c.id), func.max(table.c.id), func.count()).where(table.c.uid.in_(uids))).one()
    if count == len(uids) == len(set(uids)) and high - low + 1 == count:
        return dict(zip(uids, range(low, high + 1)))
    return dict(connection.execute(select(table.c.uid, table.c.id).where(table.c.uid.in_(uids))).all())
