"""In-app notifications."""
from __future__ import annotations

import datetime as dt
from typing import Optional

from sqlalchemy import DateTime, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from ..db import Ciphertext, UidMixin, ciphertext_column, utcnow
from ..stored_messages import EncryptedMessage
from ..extensions import db


class Notification(UidMixin, db.Model):
    """One alert for one user; ``dedupe_key`` makes daily commands idempotent."""

    __tablename__ = "notification"
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), nullable=False)
    #: e.g. concern, check_expiring, check_lapsed, assignment_proposed
    kind: Mapped[str] = mapped_column(String(30), nullable=False)
    case_id: Mapped[Optional[int]] = mapped_column(ForeignKey("support_case.id"))
    guardian_id: Mapped[Optional[int]] = mapped_column(ForeignKey("guardian.id"))
    #: the student the alert is about, whatever else it points to: the retention run deletes
    #: every alert naming a removed student by it (alerts without a case carry it too)
    student_id: Mapped[Optional[int]] = mapped_column(ForeignKey("student.id"), index=True)
    #: the link the alert opens (a path inside the app)
    link: Mapped[Optional[str]] = mapped_column(String(200))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, nullable=False, default=utcnow)
    read_at: Mapped[Optional[dt.datetime]] = mapped_column(DateTime)
    dedupe_key: Mapped[Optional[str]] = mapped_column(String(120), unique=True)
    #: the object the alert is about ("referral:12", "concern:3" …); handling it resolves the alert
    object_key: Mapped[Optional[str]] = mapped_column(String(60), index=True)
    #: set when the object was handled (by anyone): the alert leaves the unread lists
    resolved_at: Mapped[Optional[dt.datetime]] = mapped_column(DateTime)
    #: the message may name a student or guardian, so it is encrypted
    text_enc: Mapped[Ciphertext] = ciphertext_column()
    text = EncryptedMessage()

    __table_args__ = (Index("ix_notification_user_unread", "user_id", "read_at"),
                      Index("ix_notification_case", "case_id"))
