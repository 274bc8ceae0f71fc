"""Delivering the outbox: claim with a lease, send outside any transaction, mark sent or retry.

At least once, never twice on purpose: a row is claimed by one worker at a time (``FOR UPDATE
SKIP LOCKED`` on PostgreSQL; SQLite serialises writers, and the lease condition in the UPDATE
makes the claim atomic on both), and a worker that dies between sending and marking loses its
lease, so the row is sent again with the same Message-ID, which mail clients use to drop the twin.
"""
from __future__ import annotations

import datetime as dt
import logging
import uuid
from collections import defaultdict

from flask import current_app
from sqlalchemy import or_, select, update

from ..audit.services import record
from ..db import utcnow
from ..extensions import db
from ..mail import PermanentMailError, SmtpTransport, TemporaryMailError
from .mail_messages import build, new_message_id
from .mail_models import MailSettings, OutboxMessage

log = logging.getLogger(__name__)

#: a claim lasts this long; a worker still sending after it may see the row sent twice
LEASE = dt.timedelta(minutes=5)
#: after this many failed attempts a row is given up (status failed)
MAX_ATTEMPTS = 8
BATCH = 50


def backoff(attempts: int) -> dt.timedelta:
    """1, 2, 4 … minutes after each failure, at most 6 hours."""
    return dt.timedelta(minutes=min(2 ** max(attempts - 1, 0), 360))


def new_worker_id() -> str:
    return uuid.uuid4().hex[:16]


def _claimable(now: dt.datetime):
    return (OutboxMessage.status == "pending", OutboxMessage.due_at <= now,
            or_(OutboxMessage.lease_until.is_(None), OutboxMessage.lease_until < now))


def claim(worker: str, now: dt.datetime | None = None, limit: int = BATCH) -> dict[str, list[int]]:
    """Lease due rows to ``worker`` and group them by Message-ID (one message each); commits.

    A user's due digest rows are claimed together so a digest goes out as one message."""
    now = now or utcnow()
    ids = list(db.session.execute(select(OutboxMessage.id).where(*_claimable(now))
                                  .order_by(OutboxMessage.due_at, OutboxMessage.id).limit(limit)
                                  .with_for_update(skip_locked=True)).scalars())
    digest_users = set(db.session.execute(select(OutboxMessage.user_id).where(
        OutboxMessage.id.in_(ids), OutboxMessage.digest.is_(True))).scalars()) if ids else set()
    if digest_users:
        ids += db.session.execute(select(OutboxMessage.id).where(
            *_claimable(now), OutboxMessage.digest.is_(True), OutboxMessage.user_id.in_(digest_users),
            OutboxMessage.id.not_in(ids)).with_for_update(skip_locked=True)).scalars().all()
    if not ids:
        db.session.commit()
        return {}
    until = now + LEASE
    db.session.execute(update(OutboxMessage).where(OutboxMessage.id.in_(ids), *_claimable(now))
                       .values(lease_owner=worker, lease_until=until).execution_options(synchronize_session=False))
    rows = db.session.execute(select(OutboxMessage).where(
        OutboxMessage.id.in_(ids), OutboxMessage.lease_owner == worker, OutboxMessage.lease_until == until)
        .order_by(OutboxMessage.id)).scalars().all()
    groups: dict[str, list[int]] = defaultdict(list)
    digest_ids: dict[int, str] = {}
    for row in rows:
        if row.message_id is None:
            if row.digest:  # a user's fresh digest rows share one id; a retried digest keeps its own
                row.message_id = digest_ids.setdefault(row.user_id, new_message_id())
            else:
                row.message_id = new_message_id()
        groups[row.message_id].append(row.id)
    db.session.commit()
    return dict(groups)


def _address(row: OutboxMessage) -> str | None:
    """Where the row goes now: an account deactivated since it was queued gets nothing."""
    settings = db.session.execute(select(MailSettings).where(MailSettings.user_id == row.user_id)).scalar_one_or_none()
    if settings is None or not row.user.active:
        return None
    if row.purpose == "verify":
        return settings.pending
    return settings.address if settings.verified_at else None


def _rows(ids: list[int], worker: str) -> list[OutboxMessage]:
    return list(db.session.execute(select(OutboxMessage).where(
        OutboxMessage.id.in_(ids), OutboxMessage.lease_owner == worker).order_by(OutboxMessage.id)).scalars())


def mark_sent(ids: list[int], worker: str, now: dt.datetime | None = None) -> None:
    now = now or utcnow()
    rows = _rows(ids, worker)
    for row in rows:
        row.status, row.sent_at, row.lease_owner, row.lease_until = "sent", now, None, None
        row.attempts += 1
    if rows:
        record("alert_mailed", object_type="mail_outbox", object_id=rows[0].id, actor=None,
               details={"purpose": rows[0].purpose, "kinds": sorted({r.kind for r in rows}), "items": len(rows),
                        "user_id": rows[0].user_id})
    db.session.commit()


def mark_failed(ids: list[int], worker: str, error: Exception, now: dt.datetime | None = None) -> str:
    """A temporary failure is retried after a back-off; a permanent one, or too many, gives up."""
    now = now or utcnow()
    rows = _rows(ids, worker)
    state = "pending"
    for row in rows:
        row.attempts += 1
        row.last_error = str(error)[:200]
        row.lease_owner = row.lease_until = None
        if isinstance(error, PermanentMailError) or row.attempts >= MAX_ATTEMPTS:
            row.status = state = "failed"
        else:
            row.due_at = now + backoff(row.attempts)
    if rows and state == "failed":
        record("alert_mail_failed", object_type="mail_outbox", object_id=rows[0].id, actor=None, outcome="failed",
               details={"purpose": rows[0].purpose, "error": str(error)[:200], "attempts": rows[0].attempts,
                        "user_id": rows[0].user_id})
    db.session.commit()
    return state


def deliver_due(worker: str | None = None, now: dt.datetime | None = None, limit: int = BATCH,
                transport_factory=SmtpTransport) -> dict[str, int]:
    """Claim and send one batch; returns counts (sent, retry, failed)."""
    worker = worker or new_worker_id()
    counts = {"sent": 0, "retry": 0, "failed": 0}
    groups = claim(worker, now, limit)
    if not groups:
        return counts
    messages = {}
    for message_id, ids in groups.items():
        rows = _rows(ids, worker)
        if not rows:  # the lease ran out and another worker has the rows now
            continue
        address = _address(rows[0])
        if address is None:
            mark_failed(ids, worker, PermanentMailError("no_verified_address"), now)
            counts["failed"] += 1
            continue
        messages[message_id] = (ids, build(rows, address, message_id))
    db.session.commit()  # end the read before talking to the server: no transaction while sending
    if not messages:
        return counts
    try:
        with transport_factory(current_app.config) as transport:
            for message_id, (ids, message) in messages.items():
                try:
                    transport.send(message)
                except (TemporaryMailError, PermanentMailError) as error:
                    counts["retry" if mark_failed(ids, worker, error, now) == "pending" else "failed"] += 1
                    continue
                mark_sent(ids, worker, now)
                counts["sent"] += 1
    except (TemporaryMailError, PermanentMailError) as error:
        # the server could not be reached or refused the sign-in: no message is at fault, all wait
        error = TemporaryMailError(str(error))
        log.warning("mail server unavailable: %s", error)
        for ids, _ in messages.values():
            if _rows(ids, worker):
                counts["retry" if mark_failed(ids, worker, error, now) == "pending" else "failed"] += 1
    return counts
