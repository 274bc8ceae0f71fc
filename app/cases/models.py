"""Support cases (법 10–12조): needs, consent, selection, plan, notes, escalation, chronology."""
from __future__ import annotations

import datetime as dt
from typing import Optional

from flask_babel import lazy_gettext as _l, lazy_pgettext
from sqlalchemy import Boolean, Date, DateTime, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..auth.models import Organisation, User
from ..db import (Ciphertext, EncryptedText, TimestampMixin, UidMixin, ciphertext_column, utcnow)
from ..stored_messages import EncryptedMessage
from ..extensions import db
from ..students.models import Student

#: status labels: a context, since the same Korean word is also a button (종결 "Close" / "Closed")
STATUSES = {
    "requested": lazy_pgettext("case status", "요청 접수"), "screening": lazy_pgettext("case status", "검토 중"),
    "selected": lazy_pgettext("case status", "지원 대상 선정"), "not_selected": lazy_pgettext("case status", "미선정"),
    "planning": lazy_pgettext("case status", "지원 계획 수립"), "in_support": lazy_pgettext("case status", "지원 중"),
    "monitoring": lazy_pgettext("case status", "점검(모니터링)"), "closed": lazy_pgettext("case status", "종결"),
    "follow_up": lazy_pgettext("case status", "사후 관리"), "withdrawn": lazy_pgettext("case status", "요청 철회"),
}
OPEN_STATUSES = ("requested", "screening", "selected", "planning", "in_support", "monitoring", "follow_up")
DOMAINS = {
    "learning": _l("학습"), "welfare": _l("복지"), "health": _l("건강"), "career": _l("진로"), "counselling": _l("상담"),
    "multicultural": _l("다문화"), "special_education": _l("특수교육"), "emergency_welfare": _l("긴급복지"),
    "safety": _l("보건·안전"), "school_violence": _l("학교폭력 피해"),
}
#: risk level -> (label, urgency rank: lower sorts first)
RISK_LEVELS = {"emergency": (_l("긴급"), 0), "crisis": (_l("위기"), 1), "intensive": (_l("집중"), 2), "general": (_l("일반"), 3)}
REQUESTERS = {"student": _l("학생 본인"), "parent": _l("보호자"), "staff": _l("교직원")}
CONSENT_PARTIES = {"student": _l("학생"), "parent": _l("보호자")}
CONSENT_METHODS = {"written": _l("서면"), "electronic": _l("전자"), "oral_then_written": _l("구두 후 서면 보완")}
CONSENT_PURPOSES = {"guardian_matching": _l("교육후견인 연계"), "agency_referral": _l("유관기관 의뢰"),
                    "conference_sharing": _l("사례회의 정보 공유"), "transfer": _l("전학 시 자료 이관")}
NOTE_KINDS = {"counselling": _l("상담"), "observation": _l("관찰"), "home_contact": _l("가정 연락"), "other": _l("기타")}
ACTION_STATUSES = {"open": lazy_pgettext("plan action status", "진행 중"), "done": lazy_pgettext("plan action status", "완료"),
                   "cancelled": lazy_pgettext("plan action status", "취소"),
                   "case_closed": lazy_pgettext("plan action status", "사례 종결로 종료")}
#: statuses a person may set on a plan action (case_closed is set only by closing the case)
SETTABLE_ACTION_STATUSES = ("open", "done", "cancelled")
CLOSE_REASONS = {"goals_met": _l("목표 달성"), "transferred": _l("전학"), "graduated": _l("졸업"),
                 "declined": _l("지원 거부"), "other": _l("기타")}
NEED_OUTCOMES = {"resolved": _l("해결"), "improved": _l("호전"), "unchanged": _l("변화 없음"), "worse": _l("악화"),
                 "referred": _l("외부 연계로 이관")}


class SupportCase(UidMixin, TimestampMixin, db.Model):
    """One student's support case at one school."""

    __tablename__ = "support_case"
    #: copied from the student so every scope query is one indexed column
    school_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), nullable=False, index=True)
    student_id: Mapped[int] = mapped_column(ForeignKey("student.id"), nullable=False, index=True)
    status: Mapped[str] = mapped_column(String(20), nullable=False, default="requested", index=True)
    risk_level: Mapped[str] = mapped_column(String(20), nullable=False, default="general")
    #: 0 = 긴급 … 3 = 일반, so lists sort by urgency in SQL
    urgency: Mapped[int] = mapped_column(Integer, nullable=False, default=3)
    requested_by: Mapped[str] = mapped_column(String(10), nullable=False)
    requested_on: Mapped[dt.date] = mapped_column(Date, nullable=False)
    created_by_id: Mapped[Optional[int]] = mapped_column(ForeignKey("user_account.id"))
    #: the staff member who looks after the case day to day
    owner_id: Mapped[Optional[int]] = mapped_column(ForeignKey("user_account.id"), index=True)
    summary_enc: Mapped[Ciphertext] = ciphertext_column()
    summary = EncryptedText()
    #: escalated to the district centre (법 10④) and not yet answered
    escalation_open: Mapped[bool] = mapped_column(Boolean, default=False, nullable=False)
    closed_on: Mapped[Optional[dt.date]] = mapped_column(Date)
    close_reason: Mapped[Optional[str]] = mapped_column(String(20))
    #: why a request was withdrawn before review (status withdrawn)
    withdraw_reason_enc: Mapped[Ciphertext] = ciphertext_column()
    withdraw_reason = EncryptedText()
    #: how many education guardians the student needs (1–4) and any stated preference
    guardians_needed: Mapped[int] = mapped_column(Integer, nullable=False, default=1, server_default="1")
    guardian_gender_preference: Mapped[Optional[str]] = mapped_column(String(8))

    student: Mapped[Student] = relationship()
    school: Mapped[Organisation] = relationship()
    owner: Mapped[Optional[User]] = relationship(foreign_keys=[owner_id])
    needs: Mapped[list["CaseNeed"]] = relationship(back_populates="case", order_by="CaseNeed.id")

    #: the escalated cases of an office (a district home) are few: read them from their own index (0012)
    __table_args__ = (Index("ix_support_case_school_status", "school_id", "status", "urgency"),
                      Index("ix_support_case_escalation", "escalation_open", "school_id"))

    @property
    def status_label(self) -> str:
        return STATUSES[self.status]

    @property
    def risk_label(self) -> str:
        return RISK_LEVELS[self.risk_level][0]


#: the case lists' order: an index walk per school instead of a sort (0009)
Index("ix_support_case_list_order", SupportCase.school_id, SupportCase.urgency, SupportCase.requested_on.desc(),
      SupportCase.id.desc())
#: the statistics count cases by request day across schools (reports/kpis_cases.py; 0011)
Index("ix_support_case_report", SupportCase.requested_on, SupportCase.school_id, SupportCase.status,
      SupportCase.risk_level)


class CaseNeed(UidMixin, db.Model):
    """A need of the case in one domain, with its outcome when the case closes."""

    __tablename__ = "case_need"
    case_id: Mapped[int] = mapped_column(ForeignKey("support_case.id"), nullable=False, index=True)
    domain: Mapped[str] = mapped_column(String(30), nullable=False, index=True)
    description_enc: Mapped[Ciphertext] = ciphertext_column()
    description = EncryptedText()
    outcome: Mapped[Optional[str]] = mapped_column(String(20))
    #: set when the need was marked resolved while the case went on (or when the case closed)
    resolved_on: Mapped[Optional[dt.date]] = mapped_column(Date)
    #: the day the need was added after intake (None: part of the request)
    added_on: Mapped[Optional[dt.date]] = mapped_column(Date)
    outcome_note_enc: Mapped[Ciphertext] = ciphertext_column()
    outcome_note = EncryptedText()

    case: Mapped[SupportCase] = relationship(back_populates="needs")

    #: the list's domain filter as an index-only EXISTS (0009)
    __table_args__ = (Index("ix_case_need_case_domain", "case_id", "domain"),)

    @property
    def domain_label(self) -> str:
        return DOMAINS[self.domain]


class Consent(UidMixin, TimestampMixin, db.Model):
    """One party's consent (법 11③) to named purposes; withdrawal stops new sharing at once."""

    __tablename__ = "consent"
    case_id: Mapped[int] = mapped_column(ForeignKey("support_case.id"), nullable=False, index=True)
    party: Mapped[str] = mapped_column(String(10), nullable=False)
    given_on: Mapped[dt.date] = mapped_column(Date, nullable=False)
    method: Mapped[str] = mapped_column(String(20), nullable=False)
    expires_on: Mapped[Optional[dt.date]] = mapped_column(Date)
    withdrawn_on: Mapped[Optional[dt.date]] = mapped_column(Date)
    #: the day the daily command sent consent_expired for this consent (once)
    lapse_handled_on: Mapped[Optional[dt.date]] = mapped_column(Date)
    recorded_by_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), nullable=False)

    purposes: Mapped[list["ConsentPurpose"]] = relationship(back_populates="consent", order_by="ConsentPurpose.id")
    recorded_by: Mapped[User] = relationship()

    #: "is a consent of this party in force" answered from the index alone (lists, matching; 0009)
    __table_args__ = (Index("ix_consent_case_party", "case_id", "party", "given_on", "withdrawn_on", "expires_on"),)

    def active_on(self, day: dt.date) -> bool:
        """Given, not withdrawn and not expired on ``day``."""
        return (self.given_on <= day and (self.withdrawn_on is None or self.withdrawn_on > day)
                and (self.expires_on is None or self.expires_on >= day))


class ConsentPurpose(db.Model):
    """A purpose one consent covers: guardian matching, conference sharing, or a referral to
    a named agency or to any agency of a kind."""

    __tablename__ = "consent_purpose"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    consent_id: Mapped[int] = mapped_column(ForeignKey("consent.id"), nullable=False, index=True)
    purpose: Mapped[str] = mapped_column(String(30), nullable=False)
    agency_id: Mapped[Optional[int]] = mapped_column(ForeignKey("organisation.id"))
    agency_kind: Mapped[Optional[str]] = mapped_column(String(40))

    consent: Mapped[Consent] = relationship(back_populates="purposes")
    agency: Mapped[Optional[Organisation]] = relationship()

    __table_args__ = (Index("ix_consent_purpose_consent_purpose", "consent_id", "purpose"),)


class CaseSelection(UidMixin, TimestampMixin, db.Model):
    """The school meeting's decision to select or not select (법 10⑥, 영 10②), with evidence."""

    __tablename__ = "case_selection"
    case_id: Mapped[int] = mapped_column(ForeignKey("support_case.id"), nullable=False, index=True)
    selected: Mapped[bool] = mapped_column(Boolean, nullable=False)
    meeting_on: Mapped[dt.date] = mapped_column(Date, nullable=False)
    decided_by_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), nullable=False)
    basic_academic_result_enc: Mapped[Ciphertext] = ciphertext_column()
    basic_academic_result = EncryptedText()
    teacher_opinions_enc: Mapped[Ciphertext] = ciphertext_column()
    teacher_opinions = EncryptedText()
    parent_counselling_enc: Mapped[Ciphertext] = ciphertext_column()
    parent_counselling = EncryptedText()
    members_enc: Mapped[Ciphertext] = ciphertext_column()
    members = EncryptedText()
    reason_enc: Mapped[Ciphertext] = ciphertext_column()
    reason = EncryptedText()

    #: "when was the case selected" from the index alone (statistics; 0011)
    __table_args__ = (Index("ix_case_selection_case_selected", "case_id", "selected", "meeting_on"),)


class PlanAction(UidMixin, TimestampMixin, db.Model):
    """A goal-serving action of the support plan, with an owner and a due date."""

    __tablename__ = "plan_action"
    case_id: Mapped[int] = mapped_column(ForeignKey("support_case.id"), nullable=False, index=True)
    need_id: Mapped[Optional[int]] = mapped_column(ForeignKey("case_need.id"))
    goal_enc: Mapped[Ciphertext] = ciphertext_column()
    goal = EncryptedText()
    action_enc: Mapped[Ciphertext] = ciphertext_column()
    action = EncryptedText()
    #: a user owns it: a school team member, or (from a conference) a coordinator or guardian
    owner_id: Mapped[Optional[int]] = mapped_column(ForeignKey("user_account.id"), index=True)
    #: an agency owns it (from a conference); the label is derived at render time, never stored
    owner_agency_id: Mapped[Optional[int]] = mapped_column(ForeignKey("organisation.id"))
    due_on: Mapped[Optional[dt.date]] = mapped_column(Date, index=True)
    status: Mapped[str] = mapped_column(String(12), nullable=False, default="open")
    completed_on: Mapped[Optional[dt.date]] = mapped_column(Date)
    #: guardians see the goals shared with them (DESIGN: guardian sees plan goals shared)
    shared_with_guardian: Mapped[bool] = mapped_column(Boolean, default=False, nullable=False)

    need: Mapped[Optional[CaseNeed]] = relationship()
    owner: Mapped[Optional[User]] = relationship(foreign_keys=[owner_id])
    #: the overdue filter and flags: open actions of a case past their due day (0009); a district's
    #: oldest open overdue actions, walked in due order across the city (0022)
    __table_args__ = (Index("ix_plan_action_case_status_due", "case_id", "status", "due_on"),
                      Index("ix_plan_action_status_due", "status", "due_on"))
    owner_agency: Mapped[Optional[Organisation]] = relationship(foreign_keys=[owner_agency_id])

    @property
    def owner_name(self) -> str | None:
        """Who owns it, for display: the user's (decrypted) name or the agency's name."""
        if self.owner is not None:
            return self.owner.display_name or self.owner.login
        return self.owner_agency.name if self.owner_agency is not None else None

    @property
    def status_label(self) -> str:
        return ACTION_STATUSES[self.status]

    def overdue_on(self, day: dt.date) -> bool:
        return self.status == "open" and self.due_on is not None and self.due_on < day


class CaseNote(UidMixin, TimestampMixin, db.Model):
    """A dated note by a team member (상담 · 관찰 · 가정 연락 · 기타)."""

    __tablename__ = "case_note"
    case_id: Mapped[int] = mapped_column(ForeignKey("support_case.id"), nullable=False, index=True)
    kind: Mapped[str] = mapped_column(String(20), nullable=False)
    author_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), nullable=False)
    body_enc: Mapped[Ciphertext] = ciphertext_column()
    body = EncryptedText()

    author: Mapped[User] = relationship()


class CaseEscalation(UidMixin, TimestampMixin, db.Model):
    """A request for the district centre's help (법 10④) and its reply (법 10⑤)."""

    __tablename__ = "case_escalation"
    case_id: Mapped[int] = mapped_column(ForeignKey("support_case.id"), nullable=False, index=True)
    office_code: Mapped[str] = mapped_column(ForeignKey("district_office.code"), nullable=False, index=True)
    requested_by_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), nullable=False)
    reason_enc: Mapped[Ciphertext] = ciphertext_column()
    reason = EncryptedText()
    replied_at: Mapped[Optional[dt.datetime]] = mapped_column(DateTime)
    replied_by_id: Mapped[Optional[int]] = mapped_column(ForeignKey("user_account.id"))
    reply_enc: Mapped[Ciphertext] = ciphertext_column()
    reply = EncryptedText()


class CaseEvent(UidMixin, db.Model):
    """One line of the case chronology; services of every feature append here."""

    __tablename__ = "case_event"
    case_id: Mapped[int] = mapped_column(ForeignKey("support_case.id"), nullable=False)
    occurred_at: Mapped[dt.datetime] = mapped_column(DateTime, nullable=False, default=utcnow)
    #: request, status, consent, note, plan, escalation, referral, assignment, conference …
    kind: Mapped[str] = mapped_column(String(20), nullable=False)
    actor_id: Mapped[Optional[int]] = mapped_column(ForeignKey("user_account.id"))
    #: a short description, encrypted since it may name the student or their situation
    text_enc: Mapped[Ciphertext] = ciphertext_column()
    #: a marked message (shown in each reader's language) or plain text
    text = EncryptedMessage()

    #: where the line's object opens (a concern, a referral …), a path inside the app
    link: Mapped[Optional[str]] = mapped_column(String(200))

    actor: Mapped[Optional[User]] = relationship()

    __table_args__ = (Index("ix_case_event_case_time", "case_id", "occurred_at"),)
