"""Organisations (city office, district offices, schools, agencies), 자치구 and users."""
from __future__ import annotations

import datetime as dt
from typing import Optional

from flask_babel import gettext, lazy_gettext as _l
from flask_login import UserMixin
from sqlalchemy import JSON, Boolean, Date, DateTime, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..db import Ciphertext, EncryptedText, TimestampMixin, UidMixin, ciphertext_column, utcnow
from ..extensions import db
from ..i18n import N_

#: untranslated labels (marked with N_; kind_label translates them), plain text for callers that join them
ORG_KINDS = {
    "city_office": N_("서울특별시교육청"),
    "district_office": N_("교육지원청"),
    "school": N_("학교"),
    "agency": N_("유관기관"),
}
#: agency kinds as the directory stores them (Korean words, also the codes) -> their label in the
#: reader's language; every feature that names a kind (directory, consent, referrals) reads this
AGENCY_KIND_LABELS = {"청소년상담복지센터": _l("청소년상담복지센터"), "가족센터": _l("가족센터"),
                      "정신건강복지센터": _l("정신건강복지센터"), "지역아동센터": _l("지역아동센터"),
                      "동주민센터": _l("동주민센터"), "아동보호전문기관": _l("아동보호전문기관"), "Wee센터": _l("Wee센터"),
                      "드림스타트": _l("드림스타트"), "청소년문화의집": _l("청소년문화의집"), "보건소": _l("보건소")}
SCHOOL_LEVELS = {"elementary": N_("초"), "middle": N_("중"), "high": N_("고"), "special": N_("특수")}


class DistrictOffice(db.Model):
    """One of Seoul's 11 교육지원청 (reference data loaded by a migration)."""

    __tablename__ = "district_office"
    code: Mapped[str] = mapped_column(String(32), primary_key=True)
    name_ko: Mapped[str] = mapped_column(String(64), nullable=False)
    name_en: Mapped[str] = mapped_column(String(64), nullable=False)


class Gu(db.Model):
    """One of Seoul's 25 자치구 and the district office that covers it."""

    __tablename__ = "gu"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name_ko: Mapped[str] = mapped_column(String(32), unique=True, nullable=False)
    name_en: Mapped[str] = mapped_column(String(64), nullable=False)
    office_code: Mapped[str] = mapped_column(ForeignKey("district_office.code"), nullable=False, index=True)

    office: Mapped[DistrictOffice] = relationship()


class Organisation(UidMixin, TimestampMixin, db.Model):
    __tablename__ = "organisation"
    #: school code (NEIS 표준학교코드), office code, or a generated code for agencies
    code: Mapped[str] = mapped_column(String(32), unique=True, nullable=False)
    name: Mapped[str] = mapped_column(String(200), nullable=False)
    kind: Mapped[str] = mapped_column(String(20), nullable=False, index=True)
    gu_id: Mapped[Optional[int]] = mapped_column(ForeignKey("gu.id"), index=True)
    #: the district office whose scope this organisation falls in (schools, agencies, the office itself)
    office_code: Mapped[Optional[str]] = mapped_column(ForeignKey("district_office.code"), index=True)
    school_level: Mapped[Optional[str]] = mapped_column(String(16))
    #: agency kind, e.g. 청소년상담복지센터 (agencies only)
    agency_kind: Mapped[Optional[str]] = mapped_column(String(40))
    active: Mapped[bool] = mapped_column(Boolean, default=True, nullable=False)

    gu: Mapped[Optional[Gu]] = relationship()
    office: Mapped[Optional[DistrictOffice]] = relationship()

    @property
    def kind_label(self) -> str:
        return gettext(ORG_KINDS[self.kind]) if self.kind in ORG_KINDS else self.kind


class User(UserMixin, UidMixin, TimestampMixin, db.Model):
    __tablename__ = "user_account"
    login: Mapped[str] = mapped_column(String(64), unique=True, nullable=False)
    #: the login as compared (NFKC, case-folded, trimmed): unique, so no look-alike twin can exist
    login_key: Mapped[str] = mapped_column(String(64), unique=True, nullable=False)
    #: the person's name, encrypted: a guardian's account name is their real name
    display_name_enc: Mapped[Ciphertext] = ciphertext_column()
    display_name = EncryptedText()
    password_hash: Mapped[str] = mapped_column(String(255), nullable=False)
    role: Mapped[str] = mapped_column(String(32), nullable=False, index=True)
    organisation_id: Mapped[Optional[int]] = mapped_column(ForeignKey("organisation.id"), index=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True, nullable=False)
    last_login_at: Mapped[Optional[dt.datetime]] = mapped_column(DateTime)
    #: bumped at logout, password change, deactivation, role change and 2FA reset: every session
    #: carrying an older version ends on its next request
    session_version: Mapped[int] = mapped_column(Integer, nullable=False, default=1, server_default="1")
    #: set by an admin reset or a coordinator-made first password: must be changed at next sign-in
    password_temporary: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False, server_default="0")
    password_changed_at: Mapped[Optional[dt.datetime]] = mapped_column(DateTime)
    #: TOTP second factor: the secret (encrypted), when enrolment finished, the last step used
    totp_secret_enc: Mapped[Ciphertext] = ciphertext_column()
    totp_secret = EncryptedText()
    totp_enabled_at: Mapped[Optional[dt.datetime]] = mapped_column(DateTime)
    totp_last_step: Mapped[Optional[int]] = mapped_column(Integer)
    #: 취급승인 (법 제17조): who approved the account for handling personal data, and when
    handling_approved_at: Mapped[Optional[dt.datetime]] = mapped_column(DateTime)
    handling_approved_by_id: Mapped[Optional[int]] = mapped_column(ForeignKey("user_account.id"))
    #: the date of the latest yearly 개인정보 training (시행령 제15조)
    training_on: Mapped[Optional[dt.date]] = mapped_column(Date)

    organisation: Mapped[Optional[Organisation]] = relationship(foreign_keys=[organisation_id])

    @property
    def is_active(self) -> bool:  # Flask-Login logs inactive users out on the next request
        return self.active

    def get_id(self) -> str:
        return self.uid


class LoginThrottle(db.Model):
    """Failed logins per login name, whether or not the login exists, so a lock says nothing
    about which logins are real."""

    __tablename__ = "login_throttle"
    login: Mapped[str] = mapped_column(String(64), primary_key=True)
    failures: Mapped[int] = mapped_column(Integer, default=0, nullable=False)
    locked_until: Mapped[Optional[dt.datetime]] = mapped_column(DateTime)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow, onupdate=utcnow, nullable=False)


class RecoveryCode(db.Model):
    """One of a user's 10 one-time recovery codes for the second factor, stored hashed."""

    __tablename__ = "recovery_code"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), nullable=False, index=True)
    code_hash: Mapped[str] = mapped_column(String(255), nullable=False)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, nullable=False, default=utcnow)
    used_at: Mapped[Optional[dt.datetime]] = mapped_column(DateTime)


#: grant change kinds (안전성 확보조치 기준 제5조: every grant change kept 3 years)
GRANT_KINDS = {"created": _l("계정 생성"), "role_changed": _l("역할 변경"), "organisation_changed": _l("소속 변경"),
               "deactivated": _l("비활성화"), "reactivated": _l("재활성화"), "totp_reset": _l("2단계 인증 초기화"),
               "approval_given": _l("취급승인"), "approval_withdrawn": _l("취급승인 철회"),
               "training_recorded": _l("교육 이수 기록"), "password_reset": _l("비밀번호 초기화"),
               "unlocked": _l("잠금 해제")}


class GrantChange(UidMixin, db.Model):
    """One change of what an account may reach: who, when, before and after, and why."""

    __tablename__ = "grant_change"
    occurred_at: Mapped[dt.datetime] = mapped_column(DateTime, nullable=False, default=utcnow, index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), nullable=False, index=True)
    #: None: the system or a command-line operator
    actor_id: Mapped[Optional[int]] = mapped_column(ForeignKey("user_account.id"))
    kind: Mapped[str] = mapped_column(String(30), nullable=False)
    #: codes and ids only (role, organisation id, active flag …), never a name or a secret
    before: Mapped[dict] = mapped_column(JSON, nullable=False, default=dict)
    after: Mapped[dict] = mapped_column(JSON, nullable=False, default=dict)
    reason_enc: Mapped[Ciphertext] = ciphertext_column()
    reason = EncryptedText()

    user: Mapped[User] = relationship(foreign_keys=[user_id])
    actor: Mapped[Optional[User]] = relationship(foreign_keys=[actor_id])

    @property
    def kind_label(self) -> str:
        return str(GRANT_KINDS.get(self.kind, self.kind))
