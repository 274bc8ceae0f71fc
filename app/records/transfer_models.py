"""A student who moves school (전학): the old school's lead sends the case to another Seoul school
that uses Ieum; the new school's lead accepts it (a receipt) or returns it within 5 business days.

One row per sending.  ``with_data`` says whether the case itself travels: only when the student
and the parent both consent to "전학 시 자료 이관" (cases.models.CONSENT_PURPOSES["transfer"]) on
the day it is sent *and* on the day it is accepted; otherwise the new school receives only the
fact that a case existed and the old school's contact.  The row stays after acceptance: it is
the old school's read-only record of what it sent and who received it when.
"""
from __future__ import annotations

import datetime as dt
from typing import Optional

from flask_babel import lazy_pgettext
from sqlalchemy import Boolean, Date, DateTime, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..auth.models import Organisation, User
from ..db import Ciphertext, EncryptedText, TimestampMixin, UidMixin, ciphertext_column
from ..extensions import db

#: status -> label (a status, not the button of the same word)
TRANSFER_STATUSES = {
    "sent": lazy_pgettext("transfer status", "회신 대기"), "accepted": lazy_pgettext("transfer status", "접수"),
    "returned": lazy_pgettext("transfer status", "반송"), "cancelled": lazy_pgettext("transfer status", "취소"),
}
#: statuses in which the transfer still waits for the new school
OPEN_TRANSFER = ("sent",)


class CaseTransfer(UidMixin, TimestampMixin, db.Model):
    """One sending of a case to another school: sent → accepted | returned (or cancelled by the sender)."""

    __tablename__ = "case_transfer"
    case_id: Mapped[int] = mapped_column(ForeignKey("support_case.id"), nullable=False, index=True)
    student_id: Mapped[int] = mapped_column(ForeignKey("student.id"), nullable=False, index=True)
    from_school_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), nullable=False)
    to_school_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), nullable=False)
    status: Mapped[str] = mapped_column(String(12), nullable=False, default="sent")
    sent_by_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), nullable=False)
    sent_at: Mapped[dt.datetime] = mapped_column(DateTime, nullable=False)
    #: the new school answers by this day (5 business days after sending, Korean holidays excluded)
    due_on: Mapped[dt.date] = mapped_column(Date, nullable=False)
    #: the case travels (both parties consent to "transfer"); set False at acceptance if consent lapsed meanwhile
    with_data: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    answered_by_id: Mapped[Optional[int]] = mapped_column(ForeignKey("user_account.id"))
    answered_at: Mapped[Optional[dt.datetime]] = mapped_column(DateTime)
    #: the day the daily command told both schools and both offices it is overdue (once)
    overdue_alerted_on: Mapped[Optional[dt.date]] = mapped_column(Date)
    #: why the new school returned it (required to return)
    return_reason_enc: Mapped[Ciphertext] = ciphertext_column()
    return_reason = EncryptedText()
    #: the old school's short note to the new school
    note_enc: Mapped[Ciphertext] = ciphertext_column()
    note = EncryptedText()
    #: how to reach the old school's lead (phone, e-mail), as the lead wrote it
    contact_enc: Mapped[Ciphertext] = ciphertext_column()
    contact = EncryptedText()

    case = relationship("SupportCase")
    student = relationship("Student")
    from_school: Mapped[Organisation] = relationship(foreign_keys=[from_school_id])
    to_school: Mapped[Organisation] = relationship(foreign_keys=[to_school_id])
    sent_by: Mapped[User] = relationship(foreign_keys=[sent_by_id])
    answered_by: Mapped[Optional[User]] = relationship(foreign_keys=[answered_by_id])

    # the home panels and the list page: a school's incoming / outgoing open transfers, and the
    # daily command's walk of open transfers by due day
    __table_args__ = (Index("ix_case_transfer_to_status", "to_school_id", "status", "due_on"),
                      Index("ix_case_transfer_from_status", "from_school_id", "status", "due_on"),
                      Index("ix_case_transfer_status_due", "status", "due_on"))

    @property
    def status_label(self) -> str:
        return TRANSFER_STATUSES[self.status]

    def overdue_on(self, day: dt.date) -> bool:
        return self.status == "sent" and self.due_on < day
