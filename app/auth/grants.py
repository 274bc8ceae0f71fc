"""Grant history (안전성 확보조치 기준 제5조): every change of what an account may reach is kept
with who, when, before and after, and why — at least 3 years — and audited.

``record_grant`` is the one way to write it; callers (admin screens, the 2FA reset, handling
approval, the guardians roster) call it in the same transaction as the change itself.
"""
from __future__ import annotations

from sqlalchemy import select

from ..audit.services import record
from ..db import utcnow
from ..extensions import db
from .models import GRANT_KINDS, GrantChange, User

#: how long grant changes are kept (years); nothing in Ieum deletes them sooner
RETENTION_YEARS = 3


def grant_state(user: User) -> dict:
    """The plain facts a grant change compares: codes and ids, never a name or a secret."""
    return {"role": user.role, "organisation_id": user.organisation_id, "active": bool(user.active),
            "totp": user.totp_enabled_at is not None, "approved": user.handling_approved_at is not None,
            "training_on": user.training_on.isoformat() if user.training_on else None}


def record_grant(user: User, kind: str, actor: User | None, *, before: dict, after: dict | None = None,
                 reason: str | None = None) -> GrantChange:
    """Keep one grant change (and its audit event, which names the kind but not the reason)."""
    if kind not in GRANT_KINDS:
        raise ValueError(f"unknown grant change kind {kind}")
    change = GrantChange(user_id=user.id, actor_id=getattr(actor, "id", None), kind=kind, occurred_at=utcnow(),
                         before=before, after=after if after is not None else grant_state(user))
    change.reason = (reason or "").strip() or None
    db.session.add(change)
    db.session.flush()
    record("grant_changed", obj=user, actor=actor, details={"kind": kind, "change": change.uid})
    return change


def grant_history(user_id: int | None = None):
    """Grant changes newest first, optionally of one account (a Select for db.paginate or export)."""
    query = select(GrantChange).order_by(GrantChange.occurred_at.desc(), GrantChange.id.desc())
    return query.where(GrantChange.user_id == user_id) if user_id is not None else query
