"""Reads that fail to decrypt: a display-only stand-in and an integrity alarm.

A stored value that does not decrypt (moved from another row or column, tampered, or under a
key the ring lacks) must not turn a whole page into a 500.  ``EncryptedField`` (app/db.py)
returns an ``Unreadable`` in its place — it renders as "복호화할 수 없는 값" — and calls
``raise_integrity_alarm``, which audits it once per request as ``integrity_alarm`` with the
table, column and row uid (never the ciphertext).  The stand-in is refused on every write
path (assignment, blind indexes), and rotation decrypts tables directly, so it stops on such
a value instead of rewriting it; ``flask keys status --verify`` lists them.
"""
from __future__ import annotations

import logging
from typing import Any

from flask import g, has_request_context

from .domain import DomainError
from .extensions import db

log = logging.getLogger(__name__)

UNREADABLE_TEXT = "복호화할 수 없는 값"


class Unreadable(str):
    """Display-only stand-in for a stored value that failed to decrypt (moved between rows,
    tampered, or under a key the ring lacks).  It renders as "복호화할 수 없는 값" so one bad
    row does not break a page, but it can never be written back: assigning it to an
    encrypted field or hashing it into a blind index raises UnreadableValueError."""

    table: str
    column: str
    uid: str

    def __new__(cls, table: str, column: str, uid: str) -> "Unreadable":
        value = super().__new__(cls, UNREADABLE_TEXT)
        value.table, value.column, value.uid = table, column, uid
        return value

    def __repr__(self) -> str:
        return f"Unreadable({self.table}.{self.column}, {self.uid})"


class UnreadableDate(Unreadable):
    """The stand-in of an undecryptable date: forms and filters that format a date show the
    text (and a form posting it back fails the date check instead of saving anything)."""

    def strftime(self, _format: str) -> str:
        return str(self)

    def isoformat(self) -> str:
        return str(self)


class UnreadableJSON(Unreadable):
    """The stand-in of an undecryptable JSON document: shows the text, and behaves as an empty
    document where code reads one (``get``, ``in``, iteration, ``dict(value)``)."""

    def get(self, _key: Any, default: Any = None) -> Any:
        return default

    def keys(self) -> tuple:
        return ()

    def values(self) -> tuple:
        return ()

    def items(self) -> tuple:
        return ()

    def __iter__(self):
        return iter(())

    def __contains__(self, _item: object) -> bool:
        return False

    def __getitem__(self, key: Any) -> Any:
        if isinstance(key, str):
            raise KeyError(key)
        return str.__getitem__(self, key)


class UnreadableValueError(DomainError):
    """Refusal to store the stand-in (or its text, posted back by a form) in place of the
    real value: the ciphertext stays as it is, for an operator to restore from a backup."""

    def __init__(self, field: str) -> None:
        from flask_babel import gettext
        super().__init__(gettext("복호화할 수 없는 값은 저장할 수 없습니다. 다른 항목만 고치거나 관리자에게 문의해 주세요."),
                         field)


_ALARMS_KEY = "ieum_integrity_alarms"


def raise_integrity_alarm(table: str, column: str, uid: str) -> None:
    """Log an undecryptable value and audit it once per request (names, never ciphertext).

    In a request the event is written by ``flush_integrity_alarms`` when the request ends, in
    its own commit: the read may happen while a template renders, after the view committed,
    and the view's own transaction might be rolled back.  Outside a request (commands) it is
    recorded in the current transaction, which the command commits."""
    key = (table, column, uid)
    seen = g.setdefault(_ALARMS_KEY, []) if has_request_context() else None
    if seen is not None and key in seen:
        return
    log.error("integrity alarm: %s.%s of row %s could not be decrypted", table, column, uid)
    if seen is not None:
        seen.append(key)
    else:
        _record_alarm(key)


def _record_alarm(key: tuple[str, str, str]) -> None:
    from .audit.services import record  # audit imports this module
    table, column, uid = key
    record("integrity_alarm", object_type=table, object_id=uid, outcome="failed",
           details={"table": table, "column": column, "row": uid})


def flush_integrity_alarms(_exc=None) -> None:
    """teardown_request: write this request's integrity alarms and commit them on their own
    (whatever the view left uncommitted is discarded first, as the teardown would anyway)."""
    alarms = g.pop(_ALARMS_KEY, None)
    if not alarms:
        return
    try:
        db.session.rollback()
        for key in alarms:
            _record_alarm(key)
        db.session.commit()
    except Exception:  # noqa: BLE001 — the response is sent; the log line above still stands
        db.session.rollback()
        log.exception("integrity alarm could not be audited")
