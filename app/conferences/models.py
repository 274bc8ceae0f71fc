"""Integrated case conferences (통합사례협의회): meetings, participants, the cases discussed,
decisions per case, action items and review dates."""
from __future__ import annotations

import datetime as dt
from typing import Optional

from flask_babel import lazy_gettext as _l, lazy_pgettext
from sqlalchemy import Boolean, Date, DateTime, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..auth.models import Organisation, User
from ..db import Ciphertext, EncryptedJSON, EncryptedText, TimestampMixin, UidMixin, ciphertext_column
from ..extensions import db

CONFERENCE_KINDS = {"school_meeting": _l("학교 사례회의(솔루션 회의)"), "living_area": _l("학생 생활권 협의체"),
                    "district": _l("교육지원청 통합사례협의회")}
CONFERENCE_STATUSES = {"scheduled": lazy_pgettext("conference status", "예정"),
                       "held": lazy_pgettext("conference status", "개최"),
                       "cancelled": lazy_pgettext("conference status", "취소")}
DECISIONS = {"continue": lazy_pgettext("conference decision", "지원 유지"),
             "modify": lazy_pgettext("conference decision", "계획 수정"),
             "escalate": lazy_pgettext("conference decision", "교육지원청 요청"),
             "refer": lazy_pgettext("conference decision", "기관 의뢰"),
             "close": lazy_pgettext("conference decision", "종결")}
ACTION_OWNER_KINDS = {"user": lazy_pgettext("action owner", "담당자"),
                      "agency": lazy_pgettext("action owner", "유관기관"),
                      "school_team": lazy_pgettext("action owner", "학교 지원팀")}
ACTION_ITEM_STATUSES = {"open": lazy_pgettext("action item status", "진행 중"),
                        "done": lazy_pgettext("action item status", "완료"),
                        "cancelled": lazy_pgettext("action item status", "취소"),
                        "case_closed": lazy_pgettext("action item status", "사례 종결로 종료")}
#: statuses a person may set on an action item (case_closed is set only by closing the case)
SETTABLE_ITEM_STATUSES = ("open", "done", "cancelled")


class Conference(UidMixin, TimestampMixin, db.Model):
    """One meeting about one or several cases."""

    __tablename__ = "conference"
    kind: Mapped[str] = mapped_column(String(20), nullable=False)
    status: Mapped[str] = mapped_column(String(12), nullable=False, default="scheduled", index=True)
    #: the school or district office that organises it
    organiser_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), nullable=False, index=True)
    office_code: Mapped[str] = mapped_column(ForeignKey("district_office.code"), nullable=False, index=True)
    #: when it starts (UTC)
    starts_at: Mapped[dt.datetime] = mapped_column(DateTime, nullable=False, index=True)
    place: Mapped[Optional[str]] = mapped_column(String(200))
    online_link: Mapped[Optional[str]] = mapped_column(String(300))
    created_by_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), nullable=False)
    held_at: Mapped[Optional[dt.datetime]] = mapped_column(DateTime)
    cancelled_at: Mapped[Optional[dt.datetime]] = mapped_column(DateTime)
    cancel_reason_enc: Mapped[Ciphertext] = ciphertext_column()
    cancel_reason = EncryptedText()
    #: the minutes, encrypted
    minutes_enc: Mapped[Ciphertext] = ciphertext_column()
    minutes = EncryptedText()

    organiser: Mapped[Organisation] = relationship()
    cases: Mapped[list["ConferenceCase"]] = relationship(back_populates="conference", order_by="ConferenceCase.id")
    participants: Mapped[list["ConferenceParticipant"]] = relationship(
        back_populates="conference", order_by="ConferenceParticipant.id")

    #: a district office's conferences by kind (its list and upcoming panel; 0009); the scheduled
    #: ones in start order, so a home's "next conferences" stops at its first five in scope (0012)
    __table_args__ = (Index("ix_conference_office_kind", "office_code", "kind"),
                      Index("ix_conference_status_starts", "status", "starts_at"))

    @property
    def kind_label(self) -> str:
        return CONFERENCE_KINDS[self.kind]


class ConferenceCase(UidMixin, db.Model):
    """A case discussed at a conference, with the decision taken for it."""

    __tablename__ = "conference_case"
    conference_id: Mapped[int] = mapped_column(ForeignKey("conference.id"), nullable=False, index=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("support_case.id"), nullable=False, index=True)
    decision: Mapped[Optional[str]] = mapped_column(String(12))
    next_review_on: Mapped[Optional[dt.date]] = mapped_column(Date, index=True)
    decision_note_enc: Mapped[Ciphertext] = ciphertext_column()
    decision_note = EncryptedText()

    conference: Mapped[Conference] = relationship(back_populates="cases")
    case = relationship("SupportCase")
    __table_args__ = (UniqueConstraint("conference_id", "case_id"),
                      # a case's current review without reading the table (homes; 0009)
                      Index("ix_conference_case_case_review", "case_id", "next_review_on"))


class ConferenceParticipant(UidMixin, db.Model):
    """A participant: a user of Ieum, or an external person (name and organisation encrypted)."""

    __tablename__ = "conference_participant"
    conference_id: Mapped[int] = mapped_column(ForeignKey("conference.id"), nullable=False, index=True)
    user_id: Mapped[Optional[int]] = mapped_column(ForeignKey("user_account.id"), index=True)
    attended: Mapped[Optional[bool]] = mapped_column(Boolean)
    external_name_enc: Mapped[Ciphertext] = ciphertext_column()
    external_name = EncryptedText()
    external_organisation_enc: Mapped[Ciphertext] = ciphertext_column()
    external_organisation = EncryptedText()

    conference: Mapped[Conference] = relationship(back_populates="participants")
    user: Mapped[Optional[User]] = relationship()


class ActionItem(UidMixin, TimestampMixin, db.Model):
    """Something a conference asked someone to do for a case, by a date; it joins the case plan."""

    __tablename__ = "conference_action_item"
    conference_id: Mapped[int] = mapped_column(ForeignKey("conference.id"), nullable=False, index=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("support_case.id"), nullable=False, index=True)
    owner_kind: Mapped[str] = mapped_column(String(12), nullable=False, default="user")
    owner_user_id: Mapped[Optional[int]] = mapped_column(ForeignKey("user_account.id"), index=True)
    owner_agency_id: Mapped[Optional[int]] = mapped_column(ForeignKey("organisation.id"))
    due_on: Mapped[Optional[dt.date]] = mapped_column(Date, index=True)
    status: Mapped[str] = mapped_column(String(12), nullable=False, default="open")
    #: the plan action created for it on the case
    plan_action_id: Mapped[Optional[int]] = mapped_column(ForeignKey("plan_action.id"))
    description_enc: Mapped[Ciphertext] = ciphertext_column()
    description = EncryptedText()

    owner_user: Mapped[Optional[User]] = relationship(foreign_keys=[owner_user_id])
    owner_agency: Mapped[Optional[Organisation]] = relationship(foreign_keys=[owner_agency_id])

    __table_args__ = (Index("ix_conference_action_item_status_due", "status", "due_on"),
                      Index("ix_conference_action_item_owner_agency", "owner_agency_id", "status"))


class ConferenceAmendment(UidMixin, db.Model):
    """An amendment of a recorded meeting: the reason and the record as it was before (encrypted
    JSON: minutes and each case's decision, note and review date), so no version is lost."""

    __tablename__ = "conference_amendment"
    conference_id: Mapped[int] = mapped_column(ForeignKey("conference.id"), nullable=False, index=True)
    amended_at: Mapped[dt.datetime] = mapped_column(DateTime, nullable=False)
    amended_by_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), nullable=False)
    reason_enc: Mapped[Ciphertext] = ciphertext_column()
    reason = EncryptedText()
    previous_enc: Mapped[Ciphertext] = ciphertext_column()
    previous = EncryptedJSON()

    amended_by: Mapped[User] = relationship()


class CaseReview(db.Model):
    """A case's current review date: the next review decided by its latest held conference.

    Derived from conference_case (conferences.reviews.refresh_reviews keeps it, in the transaction
    that records or amends a conference), and kept by school and office so that a home page reads
    its upcoming reviews from one index instead of probing the review dates of every case of the
    office (a district coordinator has ~9,000 cases at Seoul scale; migration 0012)."""

    __tablename__ = "case_review"
    case_id: Mapped[int] = mapped_column(ForeignKey("support_case.id"), primary_key=True, autoincrement=False)
    conference_case_id: Mapped[int] = mapped_column(ForeignKey("conference_case.id"), nullable=False, unique=True)
    school_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), nullable=False)
    office_code: Mapped[str] = mapped_column(ForeignKey("district_office.code"), nullable=False)
    review_on: Mapped[dt.date] = mapped_column(Date, nullable=False)

    __table_args__ = (Index("ix_case_review_office", "office_code", "review_on", "case_id"),
                      Index("ix_case_review_school", "school_id", "review_on", "case_id"))
