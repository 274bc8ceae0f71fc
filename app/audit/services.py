"""Recording audit events (one ``record`` for every service and view), the hash chain's
canonical form, and the raw, streaming reads that verify and export share."""
from __future__ import annotations

import _hashlib
import datetime as dt
import hashlib
import hmac
import json
from typing import Any

from flask import current_app, g, has_request_context, request
from flask_login import current_user
from sqlalchemy import event as sa_event
from sqlalchemy import select, text
from sqlalchemy.orm import Session, make_transient_to_detached, scoped_session

from ..db import utcnow
from ..extensions import db
from .models import GENESIS_HASH, AuditCheckpoint, AuditEvent

#: a constant advisory-lock key for the chain on PostgreSQL ("ieumaudt")
PG_CHAIN_LOCK = 0x6965756D61756474
HEAD_KEY = "ieum_audit_head"
_UNSAVED_KEY = "ieum_audit_unsaved"
#: g: audit values of a request's read phase, appended after rendering (app/transactions.py)
PENDING_KEY = "ieum_audit_pending"
_PG_LOCK = text("SELECT pg_advisory_xact_lock(:k)")
_INSERT = AuditEvent.__table__.insert()
_HEAD = select(AuditEvent.__table__.c.hash).order_by(AuditEvent.__table__.c.id.desc()).limit(1)

#: how occurred_at enters the hash: always six fraction digits, as SQLite stores it and as
#: PostgreSQL's to_char(..., 'YYYY-MM-DD HH24:MI:SS.US') renders it, so verify can hash raw rows
TIME_FORMAT = "%Y-%m-%d %H:%M:%S.%f"
#: compact JSON is unambiguous (types, null, escaping) and its C encoder is the fastest
#: unambiguous encoder the standard library has; this one object is shared with verify
encode_canonical = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"),
                                    check_circular=False, allow_nan=False).encode
_INT_FIELDS = frozenset({"actor_id", "organisation_id"})

#: rows per fetch: large enough that per-batch overhead vanishes, small enough for memory
BATCH = 20_000


#: one-shot HMAC in C (OpenSSL) where available: verify maps it over whole batches
hmac_digest = getattr(_hashlib, "hmac_digest", None) or hmac.digest
#: OpenSSL's HMAC object built in one C call (key, message, digest): with hexdigest mapped over a
#: batch, the fastest HMAC the standard library offers (faster than digest + bytes.hex).  Unlike
#: ``hmac_digest``, which lets go of the GIL at every call, it keeps the GIL for a short message:
#: 2,000 events hashed under the write lock beside a busy thread of the same worker took 1.4 ms
#: each (that thread's switch interval) with ``hmac_digest``, 2 µs with this
hmac_object = getattr(_hashlib, "hmac_new", None) or hmac.new


def canonical(prev_hash: str, values: dict[str, Any], key_id: str | None = None) -> str:
    """The text an event's hash covers: a JSON array of [key_id,] prev_hash and HASHED_FIELDS in
    order.  Keyed events start with their audit key id (the legacy SHA-256 form has none); a
    sealed subject enters as its seal (models.AuditEvent.subject_seal)."""
    items = [key_id, prev_hash] if key_id else [prev_hash]
    for name in AuditEvent.HASHED_FIELDS:
        value = values.get(name)
        if name == "subject_ref" and values.get("subject_seal"):
            value = values["subject_seal"]
        if isinstance(value, dt.datetime):
            value = value.strftime(TIME_FORMAT)
        items.append(value)
    return encode_canonical(items)


def chain_hash(prev_hash: str, values: dict[str, Any], key_id: str | None = None, key: bytes | None = None) -> str:
    """HMAC-SHA256 (hex) of the canonical form under an audit key; plain SHA-256 without one
    (the legacy form, kept to verify events sealed before the switch)."""
    message = canonical(prev_hash, values, key_id).encode("utf-8")
    if key is None:
        return hashlib.sha256(message).hexdigest()
    return hmac_object(key, message, "sha256").hexdigest()


def keyring():
    """The app's key ring (audit keys live there, never in the database)."""
    ring = current_app.extensions["ieum_keyring"]
    ring.refresh()
    return ring


#: what a retention tombstone's subject reference starts with (app/audit/tombstones.py)
TOMBSTONE_PREFIX = "retained:"
#: object_id of an event whose object is its data subject (a student viewed, created, changed):
#: the reference is kept once, in subject_ref, where a retention tombstone can replace it
SAME_AS_SUBJECT = "=subject"


def subject_seal(key: bytes, subject_ref: str | None) -> str | None:
    """The seal the hash covers in place of a subject reference (None without a subject): 128
    bits of HMAC, enough against forgery and half the size in ix_audit_event_subject_seal."""
    return mac_fields(key, "subject", subject_ref)[:32] if subject_ref else None


def mac_fields(key: bytes, *fields: Any) -> str:
    """HMAC-SHA256 hex of a canonical JSON array: checkpoints and anchors are signed this way."""
    return hmac_object(key, encode_canonical(list(fields)).encode("utf-8"), "sha256").hexdigest()


def lock_chain_and_read_head(session) -> str:
    """Serialise appends: only one transaction at a time may extend the chain."""
    cached = session.info.get(HEAD_KEY)
    if cached:  # this transaction already holds the lock and knows the head
        return cached
    conn = session.connection()  # Core on the session's connection: this runs on every request
    if conn.dialect.name == "postgresql":
        conn.execute(_PG_LOCK, {"k": PG_CHAIN_LOCK})
    # SQLite: a transaction that appends began with BEGIN IMMEDIATE (db_setup, transactions),
    # so the write lock is already ours and the head cannot move under us.
    head = conn.execute(_HEAD).scalar()
    if head is None:  # a new database (a purge always leaves its own event behind)
        head = _checkpoint_hash(session)
    return head or GENESIS_HASH


def hold_chain_lock(session=None) -> None:
    """Take the chain's append lock now (PostgreSQL; SQLite's writer already holds it), before any
    row lock: every transition then locks in one order — chain, then rows — and two of them
    (closing a case, answering one of its referrals) cannot deadlock."""
    session = session or db.session
    lock_chain_and_read_head(plain(session))


def _checkpoint_hash(session) -> str | None:
    table = AuditCheckpoint.__table__
    return session.connection().execute(select(table.c.last_event_hash)
                                        .order_by(table.c.last_event_id.desc()).limit(1)).scalar()


def _clean(name: str, value: Any) -> Any:
    # The stored value must hash exactly like the value hashed here: a str column would turn
    # an int subject into text on SQLite, and verify hashes what the database returns.
    if value is None:
        return None
    return int(value) if name in _INT_FIELDS else str(value)


def event_values(action: str, *, obj: Any = None, object_type: str | None = None,
                 object_id: Any = None, subject: Any = None, outcome: str = "allowed",
                 reason: str | None = None, details: dict | None = None, actor: Any = None) -> dict[str, Any]:
    """The columns of one event before the chain is extended: who, from where, what, on whom."""
    if has_request_context() and g.get("client_request_id"):
        # a client's own request id (cleaned, ≤ 64 characters) only as a detail, never as ours
        details = {**(details or {}), "client_request_id": g.client_request_id}
    if actor is None and has_request_context() and current_user and current_user.is_authenticated:
        actor = current_user
    if obj is not None:
        object_type = object_type or obj.__tablename__
        object_id = object_id if object_id is not None else (getattr(obj, "uid", None) or obj.id)
    values = {
        "actor_id": getattr(actor, "id", None),
        "actor_login": getattr(actor, "login", None),
        "role": getattr(actor, "role", None),
        "organisation_id": getattr(actor, "organisation_id", None),
        "ip": request.remote_addr if has_request_context() else None,
        "action": action,
        "object_type": object_type,
        "object_id": object_id,
        "subject_ref": getattr(subject, "uid", subject),
        "outcome": outcome,
        "reason": reason,
        "request_id": g.get("request_id") if has_request_context() else None,
        "details": json.dumps(details, ensure_ascii=False, sort_keys=True, separators=(",", ":"),
                              default=str) if details else None,
    }
    values = {name: _clean(name, value) for name, value in values.items()}
    if values["object_id"] is not None and values["object_id"] == values["subject_ref"]:
        values["object_id"] = SAME_AS_SUBJECT  # so a retention tombstone leaves no copy of the uid
    return values


def record(action: str, *, session=None, **fields: Any) -> AuditEvent:
    """Append one event in the caller's transaction (the caller commits).

    ``obj`` names the object (its table and uid); ``subject`` is the data subject, a student
    (or anything with a ``uid``).  ``details`` must never hold decrypted personal values.
    """
    session = plain(session or db.session)
    values = event_values(action, **fields)
    pending = g.get(PENDING_KEY) if has_request_context() else None
    if pending is not None and session is db.session():
        # a read phase (app/transactions.py): appended after the page is rendered, in one
        # short write transaction, before the response leaves
        pending.append(values)
        return AuditEvent(**values)
    return append_values(session, values)


def plain(session):
    return session() if isinstance(session, scoped_session) else session


def append_values(session, values: dict[str, Any]) -> AuditEvent:
    """Extend the chain by one event in the session's transaction (the caller commits)."""
    session = plain(session)
    values = dict(values)
    kid, key = keyring().audit_key()  # before the lock: a ring without an audit key refuses early
    prev = lock_chain_and_read_head(session)
    # the clock is read under the lock, so occurred_at grows with id on one host
    values["occurred_at"] = utcnow()
    values["prev_hash"] = prev
    values["key_id"] = kid
    values["subject_seal"] = subject_seal(key, values.get("subject_ref"))
    values["hash"] = chain_hash(prev, values, kid, key)
    # Core INSERT, then the instance joins the session as already persistent: the same row
    # and object as add() + flush(), for half the cost of a unit-of-work flush
    values["id"] = session.connection().execute(_INSERT, values).inserted_primary_key[0]
    event = AuditEvent(**values)
    make_transient_to_detached(event)
    session.add(event)
    session.info[HEAD_KEY] = values["hash"]
    transaction = session.get_nested_transaction() or session.get_transaction()
    session.info.setdefault(_UNSAVED_KEY, []).append((transaction, event))
    return event


def forget_head(session, *args) -> None:
    """After commit or rollback the cached head is stale (another writer may go next)."""
    session.info.pop(HEAD_KEY, None)


def _forget_unsaved(session, rolled_back) -> None:
    """Detach the events of a rolled-back transaction, as a flush-then-rollback would: they
    never existed, and SQLite hands their ids to the next events, which could not join the
    session while a stale object held the same identity."""
    kept = []
    for transaction, event in session.info.get(_UNSAVED_KEY, ()):
        owner = transaction
        while owner is not None and owner is not rolled_back:
            owner = owner.parent
        if owner is None:
            kept.append((transaction, event))
        elif event in session:
            session.expunge(event)
    session.info[_UNSAVED_KEY] = kept


def _saved(session) -> None:
    if not session.in_nested_transaction():  # the root committed (a savepoint's release also fires)
        session.info.pop(_UNSAVED_KEY, None)


sa_event.listen(Session, "after_soft_rollback", _forget_unsaved)
sa_event.listen(Session, "after_commit", _saved)
