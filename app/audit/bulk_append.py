"""Many events at once: an import's 2,000 ``student_created`` events, or the events a page
kept aside in its read phase (app/transactions.py).  Sealed ahead of the write lock where they
can be, chained under it, and inserted with one statement per batch, in chain order."""
from __future__ import annotations

from typing import Any

from flask import g, has_request_context

from ..bulk import insert_rows
from ..db import utcnow
from ..extensions import db
from .models import AuditEvent
from .services import (HEAD_KEY, PENDING_KEY, chain_hash, event_values, keyring, lock_chain_and_read_head, plain,
                       subject_seal)


def record_each(action: str, subjects: list, *, actor: Any = None, details: dict | None = None,
                details_each: list[dict] | None = None, session=None) -> int:
    """One event per object that is its own data subject (the students an import registers or
    moves to a new class): the rows ``record(action, obj=x, subject=x, ...)`` would write for
    each, with ``details`` for all or ``details_each[i]`` for the i-th, appended with one chain
    lock and one INSERT, so a 2,000-row import holds the write lock for far less time.
    Returns how many events were appended; no ORM objects are made for them."""
    return append_rows(sealed_rows(action, subjects, actor=actor, details=details, details_each=details_each),
                       session=session)


def sealed_rows(action: str, subjects: list, *, actor: Any = None, details: dict | None = None,
                details_each: list[dict] | None = None) -> list[dict[str, Any]]:
    """The events ``record_each`` appends, made ahead: their columns and subject seals, all
    but the chain.  A bulk save builds them before it takes the write lock, so only the hashes,
    which need the chain's head, are computed under it (``append_rows``)."""
    kid, key = keyring().audit_key()
    each = details_each if details_each is not None else [details] * len(subjects)
    rows = []
    for subject, detail in zip(subjects, each, strict=True):
        values = event_values(action, obj=subject, subject=subject, actor=actor, details=detail)
        values["key_id"] = kid
        values["subject_seal"] = subject_seal(key, values["subject_ref"])
        rows.append(values)
    return rows


def append_rows(rows: list[dict[str, Any]], session=None) -> int:
    """Append events made by ``event_values`` or ``sealed_rows`` with one chain lock and one
    INSERT (kept aside instead while a request is in its read phase); returns how many."""
    session = plain(session or db.session)
    pending = g.get(PENDING_KEY) if has_request_context() else None
    if pending is not None and session is db.session():
        pending.extend(rows)
        return len(rows)
    append_many(session, rows)
    return len(rows)


def append_many(session, rows: list[dict[str, Any]]) -> None:
    """Extend the chain by several events in order (the caller commits): each hash covers the
    one before, exactly as that many ``append_values`` calls would; the rows go in with
    ``bulk.insert_rows`` in list order, so their ids follow the chain.  The events are not
    added to the session."""
    if not rows:
        return
    session = plain(session)
    kid, key = keyring().audit_key()
    prev = lock_chain_and_read_head(session)
    now = utcnow()  # read under the lock, once: occurred_at never decreases with id
    stored = []
    for values in rows:
        sealed = values.get("key_id") == kid and "subject_seal" in values  # by sealed_rows, same key
        values = dict(values, occurred_at=now, prev_hash=prev, key_id=kid)
        if not sealed:
            values["subject_seal"] = subject_seal(key, values.get("subject_ref"))
        values["hash"] = prev = chain_hash(prev, values, kid, key)
        stored.append(values)
    insert_rows(session.connection(), AuditEvent.__table__, stored)
    session.info[HEAD_KEY] = prev
