"""Recording audit events: one ``record`` used by every service and view."""
from __future__ import annotations

import datetime as dt
import hashlib
import json
from typing import Any

from flask import g, has_request_context, request
from flask_login import current_user
from sqlalchemy import select, text

from ..db import utcnow
from ..extensions import db
from .models import GENESIS_HASH, AuditEvent

#: a constant advisory-lock key for the chain on PostgreSQL ("ieumaudt")
PG_CHAIN_LOCK = 0x6965756D61756474
_HEAD_KEY = "ieum_audit_head"


def canonical(values: dict[str, Any]) -> str:
    """The stable text form of an event that its hash covers."""
    out = {}
    for name in AuditEvent.HASHED_FIELDS:
        value = values.get(name)
        if isinstance(value, dt.datetime):
            value = value.strftime("%Y-%m-%dT%H:%M:%S.%f")
        out[name] = value
    return json.dumps(out, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def chain_hash(prev_hash: str, values: dict[str, Any]) -> str:
    return hashlib.sha256((prev_hash + canonical(values)).encode("utf-8")).hexdigest()


def _lock_chain_and_read_head(session) -> str:
    """Serialise appends: only one transaction at a time may extend the chain."""
    cached = session.info.get(_HEAD_KEY)
    if cached:  # this transaction already holds the lock and knows the head
        return cached
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": PG_CHAIN_LOCK})
    # SQLite: every transaction starts with BEGIN IMMEDIATE (see extensions setup), so the
    # write lock is already ours and the head cannot move under us.
    head = session.execute(select(AuditEvent.hash).order_by(AuditEvent.id.desc()).limit(1)).scalar()
    return head or GENESIS_HASH


def record(action: str, *, obj: Any = None, object_type: str | None = None,
           object_id: Any = None, subject: Any = None, outcome: str = "allowed",
           reason: str | None = None, details: dict | None = None, actor: Any = None,
           session=None) -> AuditEvent:
    """Append one event in the caller's transaction (the caller commits).

    ``obj`` names the object (its table and uid); ``subject`` is the data subject, a student
    (or anything with a ``uid``).  ``details`` must never hold decrypted personal values.
    """
    session = session or db.session
    if actor is None and has_request_context() and current_user and current_user.is_authenticated:
        actor = current_user
    if obj is not None:
        object_type = object_type or obj.__tablename__
        object_id = object_id if object_id is not None else (getattr(obj, "uid", None) or obj.id)
    values = {
        "occurred_at": utcnow(),
        "actor_id": getattr(actor, "id", None),
        "actor_login": getattr(actor, "login", None),
        "role": getattr(actor, "role", None),
        "organisation_id": getattr(actor, "organisation_id", None),
        "ip": request.remote_addr if has_request_context() else None,
        "action": action,
        "object_type": object_type,
        "object_id": None if object_id is None else str(object_id),
        "subject_ref": getattr(subject, "uid", subject),
        "outcome": outcome,
        "reason": reason,
        "request_id": g.get("request_id") if has_request_context() else None,
        "details": json.dumps(details, ensure_ascii=False, sort_keys=True, separators=(",", ":"), default=str) if details else None,
    }
    prev = _lock_chain_and_read_head(session)
    values["prev_hash"] = prev
    values["hash"] = chain_hash(prev, values)
    event = AuditEvent(**values)
    session.add(event)
    session.flush()
    session.info[_HEAD_KEY] = values["hash"]
    return event


def forget_head(session, *args) -> None:
    """After commit or rollback the cached head is stale (another writer may go next)."""
    session.info.pop(_HEAD_KEY, None)
