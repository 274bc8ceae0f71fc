"""How a request holds the database: read without locks, write late and briefly, audit last.

SQLite has one writer at a time.  A request that took the write lock with its first query
and kept it to the end made every other user wait for its rendering, and a long import or
export stalled a whole district.  So:

- A GET (HEAD, OPTIONS) request reads in deferred transactions, which take no lock under WAL.
  The audit events it records (a view of personal data, a refusal) are kept aside and
  appended after the page is rendered, in one short write transaction of their own; if that
  append fails, the page is not sent (503): nothing is shown without its audit record.
- A POST takes the write lock with its first query (BEGIN IMMEDIATE) unless its view is marked
  ``read_first``: then it reads and validates deferred, and calls ``begin_write()`` just
  before it writes (its state change and audit events share that one write transaction).
- A lock still held by someone else after the busy timeout answers 503 with Retry-After and a
  Korean page, never 500 (app/errors.py).
- A change's commit does not expire what the request loaded: the redirect after it (the case's
  uid, the signed-in user) is built without reading again.  Were the database to go away in
  between, a committed change would otherwise answer 500, and its retry would write it twice.
  Where a request goes on deciding after a commit (``begin_write``) it expires explicitly.

PostgreSQL needs no lock for reads; the same rules keep its audit-chain lock brief too.
"""
from __future__ import annotations

import logging
from typing import Callable

from flask import Flask, current_app, g, has_request_context, request
from sqlalchemy.exc import SQLAlchemyError

from .audit.bulk_append import append_many
from .audit.services import PENDING_KEY
from .extensions import db

log = logging.getLogger(__name__)

#: requests that only read until the view says otherwise
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
_READ_KEY = "ieum_read_phase"


def read_first(view: Callable) -> Callable:
    """Mark a POST view that reads and validates at length before writing (imports, previews):
    it starts deferred and must call ``begin_write()`` before its first write."""
    view.ieum_read_first = True
    return view


def wants_write_lock() -> bool:
    """Whether a transaction beginning now should take the write lock at once (SQLite).

    Outside a request (commands, tests calling services) always: they write."""
    return not (has_request_context() and g.get(_READ_KEY))


def begin_write(session=None) -> None:
    """End the read phase: the next statement begins a write transaction (SQLite: BEGIN
    IMMEDIATE, waiting up to the busy timeout).  Audit events kept aside so far join it.

    Anything the decision depends on must be checked again after this, inside the write
    transaction: another writer may have gone in between."""
    session = session or db.session
    session.commit()  # ends the read snapshot; a read phase has nothing to write
    session.expire_all()  # what was read before must be read again inside the write transaction
    if has_request_context():
        g.pop(_READ_KEY, None)
        append_many(session, g.pop(PENDING_KEY, None) or [])


def abandon_request() -> None:
    """The request failed and was rolled back: its kept audit events go too (what they
    describe did not happen), and the error page reads in a deferred transaction."""
    g.pop(PENDING_KEY, None)
    setattr(g, _READ_KEY, True)


def _start_read_phase() -> None:
    view = current_app.view_functions.get(request.endpoint or "")
    if request.method in SAFE_METHODS or getattr(view, "ieum_read_first", False):
        g.setdefault(_READ_KEY, True)
        g.setdefault(PENDING_KEY, [])
    if request.method not in SAFE_METHODS:
        db.session().expire_on_commit = False


def _expire_on_commit_again(_exc=None) -> None:
    """teardown_request: the session may outlive the request (a test's app context, a CLI)."""
    db.session().expire_on_commit = True


def _append_kept_events(response):
    """after_request: append the audit events of a read phase, after rendering, in one short
    write transaction.  Fail closed: a page whose view could not be audited is not sent."""
    pending = g.pop(PENDING_KEY, None)
    g.pop(_READ_KEY, None)  # whatever runs after this (teardown alarms) writes directly
    if not pending:
        return response
    try:
        db.session.commit()  # ends the read snapshot
        append_many(db.session, pending)  # one INSERT, however many events the page recorded
        db.session.commit()
    except SQLAlchemyError as exc:
        db.session.rollback()
        log.warning("audit events of %s could not be appended: %s", request.endpoint, type(exc).__name__)
        from .errors import unavailable_response
        return unavailable_response()
    return response


def init_app(app: Flask) -> None:
    # first of all before_request functions: the user loader's query already reads
    app.before_request_funcs.setdefault(None, []).insert(0, _start_read_phase)
    app.after_request(_append_kept_events)
    app.teardown_request(_expire_on_commit_again)

