"""Serialising state transitions per object: two people acting on one case at once must not both win.

``lock_for_change(obj)`` runs first in every service that changes an object's status: it locks
the audit chain's append lock and then the object's row until the transaction ends (``SELECT … FOR UPDATE`` on PostgreSQL; SQLite has
one writer at a time and a writing request holds the lock from its first query, see
transactions.py) and reloads it.  If the status differs from what this request had read, another
user's change was committed in between: the loser is told so in plain words and nothing changes.
The service then re-checks its rules against the reloaded state.
"""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from .audit.services import hold_chain_lock
from .domain import DomainError
from .extensions import db

CHANGED_MEANWHILE = _l("다른 사용자가 먼저 처리했습니다. 화면을 새로 고쳐 지금 상태를 확인해 주세요.")


class ChangedMeanwhile(DomainError):
    """Another transaction changed the object between this request's read and its lock."""

    def __init__(self) -> None:
        super().__init__(str(CHANGED_MEANWHILE), "status")


def lock_for_change(obj, attribute: str = "status", expected=None):
    """Lock ``obj``'s row for this transaction, reload it, and refuse if ``attribute`` changed:
    since this transaction read it, or from ``expected``, the value the user's page showed (a
    form's hidden field) — a change committed before this request began is caught that way."""
    seen = getattr(obj, attribute) if expected is None else expected
    model = type(obj)
    hold_chain_lock()  # the audit chain's lock first, then the row: one lock order for every change
    # pending changes of this transaction are flushed first (autoflush), so nothing of ours is lost
    db.session.execute(select(model).where(model.id == obj.id).with_for_update()
                       .execution_options(populate_existing=True)).scalar_one()
    if getattr(obj, attribute) != seen:
        raise ChangedMeanwhile()
    return obj
