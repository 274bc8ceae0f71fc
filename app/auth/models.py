"""Organisations (city office, district offices, schools, agencies), 자치구 and users."""
from __future__ import annotations

import datetime as dt
from typing import Optional

from flask_login import UserMixin
from sqlalchemy import Boolean, DateTime, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..db import Ciphertext, EncryptedText, TimestampMixin, UidMixin, ciphertext_column, utcnow
from ..extensions import db

ORG_KINDS = {
    "city_office": "서울특별시교육청",
    "district_office": "교육지원청",
    "school": "학교",
    "agency": "유관기관",
}
SCHOOL_LEVELS = {"elementary": "초", "middle": "중", "high": "고", "special": "특수"}


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
        return ORG_KINDS.get(self.kind, self.kind)


class User(UserMixin, UidMixin, TimestampMixin, db.Model):
    __tablename__ = "user_account"
    login: Mapped[str] = mapped_column(String(64), unique=True, nullable=False)
    #: the person's name, encrypted: a guardian's account name is their real name
    display_name_enc: Mapped[Ciphertext] = ciphertext_column()
    display_name = EncryptedText()
    password_hash: Mapped[str] = mapped_column(String(255), nullable=False)
    role: Mapped[str] = mapped_column(String(32), nullable=False, index=True)
    organisation_id: Mapped[Optional[int]] = mapped_column(ForeignKey("organisation.id"), index=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True, nullable=False)
    last_login_at: Mapped[Optional[dt.datetime]] = mapped_column(DateTime)

    organisation: Mapped[Optional[Organisation]] = relationship()

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
