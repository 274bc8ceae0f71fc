"""E-mail alerts: each user's address and choices, and the outbox the worker delivers from.

An outbox row is written in the transaction that creates the alert (notifications.services.notify)
and carries no content: the alert kind, the sender's organisation, a deadline and a link.  The
worker (mail_worker.py) claims rows with a lease, sends, and marks them; a row's ``message_id`` is
fixed when it is first claimed, so a message sent twice after a crash has the same Message-ID.
"""
from __future__ import annotations

import datetime as dt
from typing import Optional

from sqlalchemy import Boolean, Date, DateTime, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..auth.models import Organisation, User
from ..db import Ciphertext, EncryptedText, UidMixin, ciphertext_column, utcnow
from ..extensions import db
from .models import Notification

#: how an alert kind reaches a user by mail
MAIL_MODES = ("immediate", "digest", "none")
#: outbox row states: pending (to send, maybe after a retry), sent, failed (gave up)
OUTBOX_STATES = ("pending", "sent", "failed")


class MailSettings(UidMixin, db.Model):
    """A user's e-mail address (verified by a link before use) and digest hour."""

    __tablename__ = "mail_settings"
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), unique=True, nullable=False)
    #: the verified address alerts go to (personal data: encrypted)
    address_enc: Mapped[Ciphertext] = ciphertext_column()
    address = EncryptedText()
    verified_at: Mapped[Optional[dt.datetime]] = mapped_column(DateTime)
    #: a new address waiting for its link to be opened
    pending_enc: Mapped[Ciphertext] = ciphertext_column()
    pending = EncryptedText()
    pending_requested_at: Mapped[Optional[dt.datetime]] = mapped_column(DateTime)
    #: the hour (Seoul time, 0–23) the daily digest goes out
    digest_hour: Mapped[int] = mapped_column(Integer, nullable=False, default=8, server_default="8")
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime, nullable=False, default=utcnow, onupdate=utcnow)

    user: Mapped[User] = relationship()


class MailPreference(db.Model):
    """How one alert kind reaches one user; no row means the kind's default (mail_policy.py)."""

    __tablename__ = "mail_preference"
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), primary_key=True, autoincrement=False)
    kind: Mapped[str] = mapped_column(String(30), primary_key=True)
    mode: Mapped[str] = mapped_column(String(10), nullable=False)


class OutboxMessage(db.Model):
    """One alert (or address-verification link) to e-mail to one user."""

    __tablename__ = "mail_outbox"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), nullable=False, index=True)
    #: alert | verify (the address-verification link)
    purpose: Mapped[str] = mapped_column(String(10), nullable=False, default="alert")
    #: the alert kind (notifications.services.KINDS)
    kind: Mapped[str] = mapped_column(String(30), nullable=False)
    notification_id: Mapped[Optional[int]] = mapped_column(ForeignKey("notification.id", ondelete="SET NULL"))
    #: the organisation the alert comes from (None: Ieum itself, a scheduled command)
    sender_org_id: Mapped[Optional[int]] = mapped_column(ForeignKey("organisation.id"))
    deadline: Mapped[Optional[dt.date]] = mapped_column(Date)
    #: a path inside the app (opaque ids only); the verification link for purpose=verify
    link: Mapped[Optional[str]] = mapped_column(String(400))
    #: part of the user's daily digest rather than a message of its own
    digest: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    status: Mapped[str] = mapped_column(String(10), nullable=False, default="pending")
    #: not before this time (naive UTC): the digest hour, or the next retry
    due_at: Mapped[dt.datetime] = mapped_column(DateTime, nullable=False, default=utcnow)
    attempts: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    #: the worker holding the row and until when (a worker that died loses it when it expires)
    lease_owner: Mapped[Optional[str]] = mapped_column(String(64))
    lease_until: Mapped[Optional[dt.datetime]] = mapped_column(DateTime)
    #: fixed at the first claim: a resend after a crash repeats it, so mail clients drop the twin
    message_id: Mapped[Optional[str]] = mapped_column(String(200))
    sent_at: Mapped[Optional[dt.datetime]] = mapped_column(DateTime)
    #: the error class and SMTP code of the last failure (never content)
    last_error: Mapped[Optional[str]] = mapped_column(String(200))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, nullable=False, default=utcnow)

    user: Mapped[User] = relationship()
    sender_org: Mapped[Optional[Organisation]] = relationship()
    notification: Mapped[Optional[Notification]] = relationship()

    __table_args__ = (Index("ix_mail_outbox_due", "status", "due_at"),)
