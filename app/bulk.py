"""Many rows in one INSERT, for the saves that run under SQLite's write lock (a class-list import).

SQLAlchemy's executemany builds and processes every row's parameters in Python, ~8 µs a row for
a wide table: 15 ms of a 2,000-student save, three times over (students, their retention rows,
their audit events), while every other writer waits.  ``insert_rows`` applies the same column
types' bind processors once per value and hands the driver one executemany of plain tuples (or
dicts, for a driver with named parameters).  The rows and their order are exactly those of
``connection.execute(insert(table), rows)``; no RETURNING, no defaults filled in (pass every
value the row needs).
"""
from __future__ import annotations

from typing import Any

from sqlalchemy import Table, insert
from sqlalchemy.engine import Connection


def insert_rows(connection: Connection, table: Table, rows: list[dict[str, Any]]) -> None:
    """INSERT ``rows`` (dicts with the same keys, named after ``table``'s columns) in list order."""
    if not rows:
        return
    keys = list(rows[0])
    dialect = connection.dialect
    compiled = insert(table).compile(dialect=dialect, column_keys=keys)
    processors = {key: table.c[key].type.dialect_impl(dialect).bind_processor(dialect) for key in keys}
    if compiled.positional:
        order = compiled.positiontup
        params = [tuple(processors[key](row[key]) if processors[key] else row[key] for key in order) for row in rows]
    else:
        params = [{key: processors[key](row[key]) if processors[key] else row[key] for key in keys} for row in rows]
    connection.exec_driver_sql(str(compiled), params)
