"""Counting the SQL statements a request runs: the query-count tests at two data sizes use it."""
from __future__ import annotations

from contextlib import contextmanager

from sqlalchemy import event

from app.extensions import db


@contextmanager
def counting():
    """Yields a list that collects every statement run meanwhile (its length is the count)."""
    seen: list[str] = []

    def listener(_conn, _cursor, statement, *_args):
        seen.append(statement)

    engine = db.engine
    event.listen(engine, "before_cursor_execute", listener)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", listener)


def statements(client, url: str, *, method: str = "get", expect: int = 200, **kwargs) -> int:
    """How many SQL statements one request to ``url`` runs (after checking its status)."""
    with counting() as seen:
        response = getattr(client, method)(url, **kwargs)
    assert response.status_code == expect, (url, response.status_code)
    return len(seen)


def fresh_page(client, url: str, expect: int = 200) -> tuple[list[str], str]:
    """(statements, html) of one page read with an empty session, as a new request would see
    it: objects the test's builders loaded would otherwise hide lazy loads.  The test's objects
    are put back afterwards."""
    kept = list(db.session.identity_map.values())
    db.session.expunge_all()
    with counting() as seen:
        response = client.get(url)
    assert response.status_code == expect, (url, response.status_code)
    db.session.expunge_all()
    for obj in kept:
        db.session.add(obj)
    return seen, response.get_data(as_text=True)


def is_audit_append(statement: str) -> bool:
    return statement.lstrip().upper().startswith("INSERT INTO AUDIT_EVENT")
