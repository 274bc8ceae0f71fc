"""Education guardians (교육후견인): roster, record checks, assignments and activity logs."""
from __future__ import annotations

import datetime as dt
from typing import Optional

from sqlalchemy import JSON, Boolean, Date, DateTime, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..auth.models import Gu, Organisation, User
from ..db import (Ciphertext, EncryptedDate, EncryptedText, TimestampMixin, UidMixin, ciphertext_column,
                  utcnow)
from ..extensions import db

GUARDIAN_STATUSES = {"applicant": "지원", "screening": "심사 중", "trained": "교육 이수", "active": "활동",
                     "suspended": "활동 중지", "retired": "활동 종료"}
CHECK_KINDS = {"sex_offence": "성범죄 경력 조회 (아청법 제56조)",
               "child_abuse": "아동학대 관련 범죄 전력 조회 (아동복지법 제29조의3)"}
CHECK_RESULTS = {"pending": "조회 중", "clear": "이상 없음", "not_clear": "결격 사유 있음"}
DAYS = {"mon": "월", "tue": "화", "wed": "수", "thu": "목", "fri": "금", "sat": "토", "sun": "일"}
PERIODS = {"am": "오전", "pm": "오후", "eve": "저녁"}
#: every weekly availability slot, e.g. "mon_am"
SLOTS = {f"{d}_{p}": f"{dl} {pl}" for d, dl in DAYS.items() for p, pl in PERIODS.items()}
ASSIGNMENT_STATUSES = {"proposed": "수락 대기", "declined": "거절", "active": "활동 중", "suspended": "일시 중지",
                       "closed": "종료"}
SUSPEND_REASONS = {"check_lapsed": "범죄경력 조회 만료", "check_not_clear": "범죄경력 조회 결격",
                   "guardian_suspended": "후견인 활동 중지", "consent_withdrawn": "연계 동의 철회·만료",
                   "other": "기타"}
CLOSE_REASONS = {"goals_met": "목표 달성", "student_moved": "학생 전출", "guardian_withdrew": "후견인 사정",
                 "safety_concern": "안전 우려", "case_closed": "사례 종결", "consent_withdrawn": "연계 동의 철회·만료",
                 "other": "기타"}
CONCERN_STATUSES = {"open": "확인 대기", "acknowledged": "확인 완료"}
ACTIVITY_KINDS = {"learning": "학습", "emotional": "정서", "career": "진로", "daily_life": "생활", "other": "기타"}
GENDERS = {"female": "여성", "male": "남성"}


class Guardian(UidMixin, TimestampMixin, db.Model):
    """A vetted local volunteer run by one district office."""

    __tablename__ = "guardian"
    #: the guardian's own login (role guardian), once they have one
    user_id: Mapped[Optional[int]] = mapped_column(ForeignKey("user_account.id"), unique=True)
    office_code: Mapped[str] = mapped_column(ForeignKey("district_office.code"), nullable=False, index=True)
    gu_id: Mapped[Optional[int]] = mapped_column(ForeignKey("gu.id"), index=True)
    #: 행정동, coarse enough to keep plain; matching prefers the student's own 동
    dong: Mapped[Optional[str]] = mapped_column(String(40))
    status: Mapped[str] = mapped_column(String(12), nullable=False, default="applicant", index=True)
    gender: Mapped[Optional[str]] = mapped_column(String(8))
    #: languages spoken besides Korean, e.g. ["베트남어"]
    languages: Mapped[list] = mapped_column(JSON, nullable=False, default=list)
    #: need domains (cases.models.DOMAINS) the guardian has experience in
    experience: Mapped[list] = mapped_column(JSON, nullable=False, default=list)
    #: weekly availability slots (SLOTS)
    availability: Mapped[list] = mapped_column(JSON, nullable=False, default=list)
    capacity: Mapped[int] = mapped_column(Integer, nullable=False, default=2)
    training_hours: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    #: why the guardian is suspended or retired (shown to them, no student data)
    status_note: Mapped[Optional[str]] = mapped_column(String(200))

    name_enc: Mapped[Ciphertext] = ciphertext_column()
    name = EncryptedText()
    phone_enc: Mapped[Ciphertext] = ciphertext_column()
    phone = EncryptedText()
    address_enc: Mapped[Ciphertext] = ciphertext_column()
    address = EncryptedText()
    birth_date_enc: Mapped[Ciphertext] = ciphertext_column()
    birth_date = EncryptedDate()

    user: Mapped[Optional[User]] = relationship()
    gu: Mapped[Optional[Gu]] = relationship()
    checks: Mapped[list["RecordCheck"]] = relationship(back_populates="guardian", order_by="RecordCheck.id")
    conflicts: Mapped[list["GuardianConflict"]] = relationship(cascade="all, delete-orphan")

    @property
    def status_label(self) -> str:
        return GUARDIAN_STATUSES[self.status]


class GuardianConflict(db.Model):
    """A school where the guardian works or studies: never matched with its students."""

    __tablename__ = "guardian_conflict"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    guardian_id: Mapped[int] = mapped_column(ForeignKey("guardian.id"), nullable=False, index=True)
    school_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), nullable=False)

    school: Mapped[Organisation] = relationship()
    __table_args__ = (UniqueConstraint("guardian_id", "school_id"),)


class RecordCheck(UidMixin, TimestampMixin, db.Model):
    """One criminal-record check; a guardian serves only with both kinds clear and in date."""

    __tablename__ = "record_check"
    guardian_id: Mapped[int] = mapped_column(ForeignKey("guardian.id"), nullable=False, index=True)
    kind: Mapped[str] = mapped_column(String(20), nullable=False)
    consent_on: Mapped[dt.date] = mapped_column(Date, nullable=False)
    requested_on: Mapped[dt.date] = mapped_column(Date, nullable=False)
    result: Mapped[str] = mapped_column(String(12), nullable=False, default="pending")
    checked_on: Mapped[Optional[dt.date]] = mapped_column(Date)
    verified_by_id: Mapped[Optional[int]] = mapped_column(ForeignKey("user_account.id"))
    valid_until: Mapped[Optional[dt.date]] = mapped_column(Date, index=True)
    reference_enc: Mapped[Ciphertext] = ciphertext_column()
    reference = EncryptedText()

    guardian: Mapped[Guardian] = relationship(back_populates="checks")

    def valid_on(self, day: dt.date) -> bool:
        return self.result == "clear" and self.valid_until is not None and self.valid_until >= day


class Assignment(UidMixin, TimestampMixin, db.Model):
    """A guardian matched to a support case: proposed → active (or declined) → suspended → closed."""

    __tablename__ = "guardian_assignment"
    case_id: Mapped[int] = mapped_column(ForeignKey("support_case.id"), nullable=False, index=True)
    guardian_id: Mapped[int] = mapped_column(ForeignKey("guardian.id"), nullable=False, index=True)
    status: Mapped[str] = mapped_column(String(12), nullable=False, default="proposed", index=True)
    proposed_by_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), nullable=False)
    #: the match score and its explained parts at proposal time
    score: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    score_parts: Mapped[dict] = mapped_column(JSON, nullable=False, default=dict)
    accepted_at: Mapped[Optional[dt.datetime]] = mapped_column(DateTime)
    declined_reason: Mapped[Optional[str]] = mapped_column(String(300))
    suspended_reason: Mapped[Optional[str]] = mapped_column(String(20))
    closed_at: Mapped[Optional[dt.datetime]] = mapped_column(DateTime)
    close_reason: Mapped[Optional[str]] = mapped_column(String(20))
    #: whether this guardian may be matched with this student again
    rematchable: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)
    #: the next planned meeting (shown to the guardian)
    next_meeting_on: Mapped[Optional[dt.date]] = mapped_column(Date)
    #: the guardian asked the coordinator to end this assignment (and why, encrypted)
    end_requested_at: Mapped[Optional[dt.datetime]] = mapped_column(DateTime)
    end_request_note_enc: Mapped[Ciphertext] = ciphertext_column()
    end_request_note = EncryptedText()

    guardian: Mapped[Guardian] = relationship()
    case = relationship("SupportCase")

    __table_args__ = (Index("ix_guardian_assignment_guardian_status", "guardian_id", "status"),
                      #: a case's first accepted match, from the index alone (statistics; 0011)
                      Index("ix_guardian_assignment_case_accepted", "case_id", "accepted_at"))

    @property
    def status_label(self) -> str:
        return ASSIGNMENT_STATUSES[self.status]


class ActivityLog(UidMixin, db.Model):
    """활동일지: one meeting of a guardian with their student."""

    __tablename__ = "guardian_activity"
    assignment_id: Mapped[int] = mapped_column(ForeignKey("guardian_assignment.id"), nullable=False, index=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("support_case.id"), nullable=False, index=True)
    guardian_id: Mapped[int] = mapped_column(ForeignKey("guardian.id"), nullable=False)
    occurred_on: Mapped[dt.date] = mapped_column(Date, nullable=False)
    minutes: Mapped[int] = mapped_column(Integer, nullable=False)
    kind: Mapped[str] = mapped_column(String(12), nullable=False)
    concern: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, nullable=False, default=utcnow)
    notes_enc: Mapped[Ciphertext] = ciphertext_column()
    notes = EncryptedText()

    __table_args__ = (Index("ix_guardian_activity_guardian_day", "guardian_id", "occurred_on"),)


class GuardianConcern(UidMixin, db.Model):
    """A safeguarding concern a guardian raised on an activity log, until someone acknowledges it.

    The school team of the case's school and the office's coordinators read it in full (audited),
    one of them acknowledges it with the response taken; the guardian sees only that it was.
    """

    __tablename__ = "guardian_concern"
    activity_id: Mapped[int] = mapped_column(ForeignKey("guardian_activity.id"), nullable=False, unique=True)
    assignment_id: Mapped[int] = mapped_column(ForeignKey("guardian_assignment.id"), nullable=False, index=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("support_case.id"), nullable=False, index=True)
    guardian_id: Mapped[int] = mapped_column(ForeignKey("guardian.id"), nullable=False, index=True)
    status: Mapped[str] = mapped_column(String(12), nullable=False, default="open", index=True)
    raised_at: Mapped[dt.datetime] = mapped_column(DateTime, nullable=False, default=utcnow)
    #: when the overdue escalation to every coordinator of the office went out (once)
    escalated_at: Mapped[Optional[dt.datetime]] = mapped_column(DateTime)
    acknowledged_at: Mapped[Optional[dt.datetime]] = mapped_column(DateTime)
    acknowledged_by_id: Mapped[Optional[int]] = mapped_column(ForeignKey("user_account.id"))
    description_enc: Mapped[Ciphertext] = ciphertext_column()
    description = EncryptedText()
    response_enc: Mapped[Ciphertext] = ciphertext_column()
    response = EncryptedText()

    activity: Mapped[ActivityLog] = relationship()
    assignment: Mapped[Assignment] = relationship()
    guardian: Mapped[Guardian] = relationship()
    acknowledged_by: Mapped[Optional[User]] = relationship()
    case = relationship("SupportCase")

    @property
    def status_label(self) -> str:
        return CONCERN_STATUSES[self.status]
