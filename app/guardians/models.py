"""Education guardians (교육후견인): roster, record checks, assignments and activity logs."""
from __future__ import annotations

import datetime as dt
from typing import Optional

from flask_babel import lazy_gettext as _l
from flask_babel import lazy_pgettext
from sqlalchemy import JSON, Boolean, Date, DateTime, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..auth.models import Gu, Organisation, User
from ..db import (Ciphertext, EncryptedDate, EncryptedText, TimestampMixin, UidMixin, ciphertext_column,
                  utcnow)
from ..extensions import db

GUARDIAN_STATUSES = {
    "applicant": lazy_pgettext("guardian status", "지원"), "screening": lazy_pgettext("guardian status", "심사 중"),
    "trained": lazy_pgettext("guardian status", "교육 이수"), "active": lazy_pgettext("guardian status", "활동"),
    "suspended": lazy_pgettext("guardian status", "활동 중지"),
    "retired": lazy_pgettext("guardian status", "활동 종료")}
CHECK_KINDS = {"sex_offence": _l("성범죄 경력 조회 (아청법 제56조)"),
               "child_abuse": _l("아동학대 관련 범죄 전력 조회 (아동복지법 제29조의3)")}
CHECK_RESULTS = {"pending": _l("조회 중"), "clear": _l("이상 없음"), "not_clear": _l("결격 사유 있음")}
DAYS = {"mon": lazy_pgettext("weekday", "월"), "tue": lazy_pgettext("weekday", "화"),
        "wed": lazy_pgettext("weekday", "수"), "thu": lazy_pgettext("weekday", "목"),
        "fri": lazy_pgettext("weekday", "금"), "sat": lazy_pgettext("weekday", "토"),
        "sun": lazy_pgettext("weekday", "일")}
PERIODS = {"am": lazy_pgettext("time of day", "오전"), "pm": lazy_pgettext("time of day", "오후"),
           "eve": lazy_pgettext("time of day", "저녁")}
#: every weekly availability slot, e.g. "mon_am" ("월 오전" / "Mon morning")
SLOTS = {f"{d}_{p}": _l("%(day)s %(period)s", day=dl, period=pl) for d, dl in DAYS.items() for p, pl in PERIODS.items()}
ASSIGNMENT_STATUSES = {
    "proposed": lazy_pgettext("assignment status", "수락 대기"), "declined": lazy_pgettext("assignment status", "거절"),
    "active": lazy_pgettext("assignment status", "활동 중"), "suspended": lazy_pgettext("assignment status", "일시 중지"),
    "closed": lazy_pgettext("assignment status", "종료")}
SUSPEND_REASONS = {"check_lapsed": _l("범죄경력 조회 만료"), "check_not_clear": _l("범죄경력 조회 결격"),
                   "guardian_suspended": _l("후견인 활동 중지"), "consent_withdrawn": _l("연계 동의 철회·만료"),
                   "other": _l("기타")}
CLOSE_REASONS = {"goals_met": _l("목표 달성"), "student_moved": _l("학생 전출"), "guardian_withdrew": _l("후견인 사정"),
                 "safety_concern": _l("안전 우려"), "case_closed": _l("사례 종결"),
                 "consent_withdrawn": _l("연계 동의 철회·만료"), "other": _l("기타")}
CONCERN_STATUSES = {"open": lazy_pgettext("concern status", "확인 대기"),
                    "acknowledged": lazy_pgettext("concern status", "확인 완료")}
ACTIVITY_KINDS = {"learning": lazy_pgettext("guardian activity", "학습"),
                  "emotional": lazy_pgettext("guardian activity", "정서"),
                  "career": lazy_pgettext("guardian activity", "진로"),
                  "daily_life": lazy_pgettext("guardian activity", "생활"), "other": _l("기타")}
GENDERS = {"female": _l("여성"), "male": _l("남성")}


def msgid(message) -> str:
    """The Korean text of a marked label (what a plain text column keeps, e.g. a status note)."""
    return message._args[-1]


def note_text(note: str | None):
    """A stored status note in the reader's language when it is a suspension reason, else as typed."""
    return next((label for label in SUSPEND_REASONS.values() if msgid(label) == note), note)


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

    @property
    def status_note_text(self):
        """The status note for the reader: a system reason in their language, a typed note as it is."""
        return note_text(self.status_note)


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
