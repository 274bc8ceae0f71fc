"""One rule for page numbers and ids read from a URL: bounded before they reach SQL.

A page number past 2^63 (or an id past the database's integer) made SQLite and PostgreSQL fail
with an overflow, answered as 500.  Every list reads ``?page=`` through ``page_arg`` (also
``db.paginate``, see extensions.py); a page past the last shows the empty-state of its list.
"""
from __future__ import annotations

from flask import request

#: no list has this many pages (100 rows a page would be 10 million rows)
MAX_PAGE = 100_000
#: the largest id a form or URL may name (the databases' 32-bit INTEGER)
MAX_ID = 2**31 - 1


def page_arg(name: str = "page") -> int:
    """``?page=`` as a number from 1 to MAX_PAGE (anything else: 1, or MAX_PAGE past it)."""
    page = request.args.get(name, 1, type=int)
    if page is None or page < 1:
        return 1
    return min(page, MAX_PAGE)


def bounded_id(value) -> int | None:
    """An id from a form or URL, or None where it is not a number a table could hold."""
    try:
        number = int(value) if value not in (None, "", "None") else None
    except (TypeError, ValueError):
        return None
    return number if number is not None and 0 < number <= MAX_ID else None
