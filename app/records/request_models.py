"""A family's request to see (열람, 개인정보 보호법 제35조) or correct (정정, 제36조) a student's data.

One row per request, recorded by the school lead of the student's school: who asked, when, how
their identity was checked, and the legal deadline (영 제41조④: 10 days after the request; kept
as a plain date so the home page and the list read overdue requests from one index).  What was
asked to be corrected, the identity note and the decision's reason may name people or quote the
record, so they are encrypted like every free text about a student.
"""
from __future__ import annotations

import datetime as dt
from typing import Optional

from flask_babel import lazy_gettext as _l, lazy_pgettext
from sqlalchemy import Date, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..auth.models import Organisation, User
from ..db import Ciphertext, EncryptedText, TimestampMixin, UidMixin, ciphertext_column
from ..extensions import db
from ..students.models import Student

REQUEST_KINDS = {"access": _l("열람"), "correction": _l("정정")}
REQUESTERS = {"student": _l("학생 본인"), "parent": _l("보호자(법정대리인)")}
#: how the lead checked that the person asking is the student or their legal guardian
IDENTITY_METHODS = {"id_card": _l("신분증 확인"), "parent_record": _l("학부모 등록 정보 대조"),
                    "student_in_person": _l("학생 본인 대면 확인"), "other": _l("기타")}
STATUSES = {"open": lazy_pgettext("subject request status", "처리 중"),
            "completed": lazy_pgettext("subject request status", "완료"),
            "partly": lazy_pgettext("subject request status", "일부 완료"),
            "refused": lazy_pgettext("subject request status", "거절")}
CLOSED_STATUSES = ("completed", "partly", "refused")
#: 개인정보 보호법 시행령 제41조④ / 제43조③: answered within 10 days of the request
DEADLINE_DAYS = 10


class SubjectRequest(UidMixin, TimestampMixin, db.Model):
    """One 열람 or 정정 request about one student, from intake to its answer."""

    __tablename__ = "subject_request"
    #: copied from the student (like support_case) so the lead's list and home are one index walk
    school_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), nullable=False)
    student_id: Mapped[int] = mapped_column(ForeignKey("student.id"), nullable=False, index=True)
    kind: Mapped[str] = mapped_column(String(12), nullable=False)
    requested_by: Mapped[str] = mapped_column(String(10), nullable=False)
    requested_on: Mapped[dt.date] = mapped_column(Date, nullable=False)
    #: requested_on + 10 days (calendar days: the decree counts days, not business days)
    due_on: Mapped[dt.date] = mapped_column(Date, nullable=False)
    recorded_by_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), nullable=False)
    identity_method: Mapped[str] = mapped_column(String(20), nullable=False)
    identity_note_enc: Mapped[Ciphertext] = ciphertext_column()
    identity_note = EncryptedText()
    status: Mapped[str] = mapped_column(String(10), nullable=False, default="open")
    #: what the family asked to have corrected (정정 only)
    correction_asked_enc: Mapped[Ciphertext] = ciphertext_column()
    correction_asked = EncryptedText()
    #: why it was refused or only partly granted (required then), or a note on the answer
    decision_reason_enc: Mapped[Ciphertext] = ciphertext_column()
    decision_reason = EncryptedText()
    completed_on: Mapped[Optional[dt.date]] = mapped_column(Date)
    completed_by_id: Mapped[Optional[int]] = mapped_column(ForeignKey("user_account.id"))

    student: Mapped[Student] = relationship()
    school: Mapped[Organisation] = relationship()
    recorded_by: Mapped[User] = relationship(foreign_keys=[recorded_by_id])
    completed_by: Mapped[Optional[User]] = relationship(foreign_keys=[completed_by_id])

    #: a school's open requests by deadline (the lead's home and list)
    __table_args__ = (Index("ix_subject_request_school_status_due", "school_id", "status", "due_on"),)

    @property
    def kind_label(self) -> str:
        return REQUEST_KINDS[self.kind]

    @property
    def status_label(self) -> str:
        return STATUSES[self.status]

    @property
    def requester_label(self) -> str:
        return REQUESTERS[self.requested_by]

    @property
    def identity_label(self) -> str:
        return IDENTITY_METHODS[self.identity_method]

    @property
    def is_open(self) -> bool:
        return self.status == "open"

    def overdue_on(self, day: dt.date) -> bool:
        return self.is_open and self.due_on < day
