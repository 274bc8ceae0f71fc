"""Community agencies (HSDS-like directory) and closed-loop referrals to them.

An agency is an Organisation of kind ``agency`` (the HSDS organization); its services carry the
HSDS service fields that fit here (domains, eligible ages, languages, capacity status, service
area by 자치구, schedule, contact) and its location.  A referral shares only the items the school
chose, frozen (encrypted) at sending time.
"""
from __future__ import annotations

import datetime as dt
from typing import Optional

from flask_babel import lazy_gettext as _l, lazy_pgettext
from sqlalchemy import JSON, Date, DateTime, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..auth.models import AGENCY_KIND_LABELS, Gu, Organisation, User  # noqa: F401  (re-exported)
from ..db import (Ciphertext, EncryptedJSON, EncryptedText, TimestampMixin, UidMixin, ciphertext_column, utcnow)
from ..extensions import db

AGENCY_KINDS = ("청소년상담복지센터", "가족센터", "정신건강복지센터", "지역아동센터", "동주민센터",
                "아동보호전문기관", "Wee센터", "드림스타트", "청소년문화의집", "보건소")
#: the kind (stored as its Korean name) -> its label in the reader's language
CAPACITY_STATUSES = {"available": _l("접수 가능"), "waitlist": _l("대기"), "full": _l("마감")}
#: a referral's status -> its label (context: a status, not the action button of the same word)
REFERRAL_STATUSES = {
    "draft": lazy_pgettext("referral status", "작성 중"), "sent": lazy_pgettext("referral status", "의뢰됨"),
    "accepted": lazy_pgettext("referral status", "접수"), "declined": lazy_pgettext("referral status", "거절"),
    "in_service": lazy_pgettext("referral status", "서비스 중"), "completed": lazy_pgettext("referral status", "완료"),
    "failed": lazy_pgettext("referral status", "종결(미완료)"), "cancelled": lazy_pgettext("referral status", "취소")}
DECLINE_REASONS = {"no_capacity": _l("정원 없음"), "not_eligible": _l("대상 아님"), "outside_area": _l("서비스 지역 밖"),
                   "missing_information": _l("정보 부족"), "other": _l("기타")}
#: why a school lead sent a referral without covering consent: the audit trail keeps only this code
OVERRIDE_CATEGORIES = {"child_abuse": _l("아동학대 의심"), "self_harm": _l("자해·자살 위험"), "medical": _l("긴급 의료"),
                       "family_crisis": _l("가정 내 위기"), "other": _l("기타")}
SERVICE_KINDS = {"counselling": _l("상담"), "case_management": _l("사례관리"), "education": _l("교육·학습"),
                 "care": _l("돌봄"), "medical": _l("의료·치료"), "financial": _l("경제 지원"), "other": _l("기타")}
#: what a school may share in a referral: item code -> label
SHAREABLE_ITEMS = {
    "student_name": _l("학생 이름"), "birth_date": _l("생년월일"), "school_grade": _l("학교·학년"),
    "student_phone": _l("학생 연락처"), "address": _l("주소"), "parent_contact": _l("보호자 이름·연락처"),
    "needs": _l("지원이 필요한 영역과 내용"), "summary": _l("요청 내용"), "risk_level": _l("위기 수준"),
    "migrant": _l("이주배경·가정 언어"),
}


class AgencyService(UidMixin, TimestampMixin, db.Model):
    """One service an agency offers (HSDS service + location)."""

    __tablename__ = "agency_service"
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), nullable=False, index=True)
    name: Mapped[str] = mapped_column(String(200), nullable=False)
    description: Mapped[Optional[str]] = mapped_column(Text)
    #: need domains (cases.models.DOMAINS) the service addresses
    domains: Mapped[list] = mapped_column(JSON, nullable=False, default=list)
    min_age: Mapped[Optional[int]] = mapped_column(Integer)
    max_age: Mapped[Optional[int]] = mapped_column(Integer)
    languages: Mapped[list] = mapped_column(JSON, nullable=False, default=list)
    capacity_status: Mapped[str] = mapped_column(String(12), nullable=False, default="available")
    schedule: Mapped[Optional[str]] = mapped_column(String(200))
    contact_phone: Mapped[Optional[str]] = mapped_column(String(40))
    contact_email: Mapped[Optional[str]] = mapped_column(String(120))
    address: Mapped[Optional[str]] = mapped_column(String(200))
    #: when the agency last confirmed this entry is right
    last_confirmed_on: Mapped[Optional[dt.date]] = mapped_column(Date)

    organisation: Mapped[Organisation] = relationship()
    areas: Mapped[list["ServiceArea"]] = relationship(cascade="all, delete-orphan")


class ServiceArea(db.Model):
    """A 자치구 a service covers (HSDS service_area)."""

    __tablename__ = "agency_service_area"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    service_id: Mapped[int] = mapped_column(ForeignKey("agency_service.id"), nullable=False, index=True)
    gu_id: Mapped[int] = mapped_column(ForeignKey("gu.id"), nullable=False, index=True)

    gu: Mapped[Gu] = relationship()
    __table_args__ = (UniqueConstraint("service_id", "gu_id"),)


class Referral(UidMixin, TimestampMixin, db.Model):
    """A referral of a case to an agency: draft → sent → accepted | declined → in_service →
    completed | failed | cancelled."""

    __tablename__ = "referral"
    case_id: Mapped[int] = mapped_column(ForeignKey("support_case.id"), nullable=False, index=True)
    agency_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), nullable=False)
    service_id: Mapped[Optional[int]] = mapped_column(ForeignKey("agency_service.id"))
    status: Mapped[str] = mapped_column(String(12), nullable=False, default="draft")
    created_by_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), nullable=False)
    #: the item codes (SHAREABLE_ITEMS) the school chose to share
    shared_items: Mapped[list] = mapped_column(JSON, nullable=False, default=list)
    sent_at: Mapped[Optional[dt.datetime]] = mapped_column(DateTime)
    sent_by_id: Mapped[Optional[int]] = mapped_column(ForeignKey("user_account.id"))
    #: the agency answers by this day (business days, Korean holidays excluded)
    respond_by: Mapped[Optional[dt.date]] = mapped_column(Date)
    responded_at: Mapped[Optional[dt.datetime]] = mapped_column(DateTime)
    responded_by_id: Mapped[Optional[int]] = mapped_column(ForeignKey("user_account.id"))
    decline_reason: Mapped[Optional[str]] = mapped_column(String(24))
    closed_at: Mapped[Optional[dt.datetime]] = mapped_column(DateTime)
    #: set when a consent withdrawal stopped the referral or hid what was shared
    consent_withdrawn_at: Mapped[Optional[dt.datetime]] = mapped_column(DateTime)
    override_by_id: Mapped[Optional[int]] = mapped_column(ForeignKey("user_account.id"))
    #: OVERRIDE_CATEGORIES code of an override (the written reason stays encrypted below)
    override_category: Mapped[Optional[str]] = mapped_column(String(24))

    reason_enc: Mapped[Ciphertext] = ciphertext_column()
    reason = EncryptedText()
    #: the shared items' values as sent: {item code: value}
    shared_enc: Mapped[Ciphertext] = ciphertext_column()
    shared = EncryptedJSON()
    decline_comment_enc: Mapped[Ciphertext] = ciphertext_column()
    decline_comment = EncryptedText()
    #: a school lead's written reason for sending without covering consent (e.g. suspected abuse)
    override_reason_enc: Mapped[Ciphertext] = ciphertext_column()
    override_reason = EncryptedText()
    outcome_note_enc: Mapped[Ciphertext] = ciphertext_column()
    outcome_note = EncryptedText()

    agency: Mapped[Organisation] = relationship(foreign_keys=[agency_id])
    service: Mapped[Optional[AgencyService]] = relationship()
    case = relationship("SupportCase")

    # the agency's inbox order and its home counts walk these (0009)
    __table_args__ = (Index("ix_referral_agency_status_sent", "agency_id", "status", "sent_at"),
                      Index("ix_referral_agency_sent", "agency_id", "sent_at"),
                      Index("ix_referral_agency_case", "agency_id", "case_id"),
                      Index("ix_referral_status_respond_by", "status", "respond_by"),
                      # the statistics read referrals sent in a period from this index alone (0011)
                      Index("ix_referral_report", "sent_at", "case_id", "status", "agency_id", "respond_by",
                            "responded_at"))

    @property
    def status_label(self) -> str:
        return REFERRAL_STATUSES[self.status]


class ServiceRecord(UidMixin, db.Model):
    """A service the agency delivered under a referral (date, kind, encrypted note)."""

    __tablename__ = "referral_service_record"
    referral_id: Mapped[int] = mapped_column(ForeignKey("referral.id"), nullable=False, index=True)
    occurred_on: Mapped[dt.date] = mapped_column(Date, nullable=False)
    kind: Mapped[str] = mapped_column(String(20), nullable=False)
    created_by_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), nullable=False)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, nullable=False, default=utcnow)
    note_enc: Mapped[Ciphertext] = ciphertext_column()
    note = EncryptedText()

    created_by: Mapped[User] = relationship()
