"""Retention (학생맞춤통합지원법 시행령 제10조⑤): each student's computed retention date, legal holds
that extend it, and the tombstone left once a student's data is gone.

Why a side table (``student_retention``) rather than columns on ``student``: the date, its rule
and ``left_school_on`` are this feature's state; one row per student (kept by a flush hook in
retention_services.py) needs no change to the students feature and goes with the student.  The
date is *persisted* because the age rule needs the birth date, which is encrypted: the due query
(``retention_services.due_query``) is then plain SQL on an indexed date column.
"""
from __future__ import annotations

import datetime as dt
from typing import Optional

from sqlalchemy import JSON, Date, DateTime, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..auth.models import User
from ..db import Ciphertext, EncryptedText, UidMixin, ciphertext_column, utcnow
from ..extensions import db
from ..students.models import Student


class StudentRetention(db.Model):
    """A student's retention rule and last day kept (None: 확인 필요), and when they left school."""

    __tablename__ = "student_retention"
    student_id: Mapped[int] = mapped_column(ForeignKey("student.id"), primary_key=True, autoincrement=False)
    #: completion | age19 | unknown (retention_rules.RULES)
    rule: Mapped[str] = mapped_column(String(12), nullable=False)
    #: the last day the student's data is kept; None when a needed value is missing (확인 필요)
    until: Mapped[Optional[dt.date]] = mapped_column(Date, index=True)
    #: what is missing when ``until`` is None: grade | level | birth_date
    missing: Mapped[Optional[str]] = mapped_column(String(12))
    #: the school year in which the grade was recorded (the completion rule counts from it)
    grade_year: Mapped[int] = mapped_column(Integer, nullable=False)
    #: 학업 중단·자퇴·제적: the day the student left school (the age-19 rule applies)
    left_school_on: Mapped[Optional[dt.date]] = mapped_column(Date)
    computed_at: Mapped[dt.datetime] = mapped_column(DateTime, nullable=False, default=utcnow)

    student: Mapped[Student] = relationship()


class LegalHold(UidMixin, db.Model):
    """A lead's hold that keeps a student's data past the retention date until ``ends_on``
    (for example a pending child-protection procedure)."""

    __tablename__ = "legal_hold"
    student_id: Mapped[int] = mapped_column(ForeignKey("student.id"), nullable=False, index=True)
    #: the last day the hold keeps the data; from the next day it no longer counts
    ends_on: Mapped[dt.date] = mapped_column(Date, nullable=False)
    set_by_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), nullable=False)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, nullable=False, default=utcnow)
    #: recorded (and audited) by the first ``flask retention run`` after ``ends_on``
    ended_at: Mapped[Optional[dt.datetime]] = mapped_column(DateTime)
    #: the reason may name a procedure or a person: encrypted
    reason_enc: Mapped[Ciphertext] = ciphertext_column()
    reason = EncryptedText()

    set_by: Mapped[User] = relationship()

    __table_args__ = (Index("ix_legal_hold_student_ends", "student_id", "ends_on"),)


class RetentionTombstone(UidMixin, db.Model):
    """What is left of a removed student: when, by which rule, the school and office, and how
    many rows each table lost.  No student key and nothing personal."""

    __tablename__ = "retention_tombstone"
    removed_at: Mapped[dt.datetime] = mapped_column(DateTime, nullable=False, default=utcnow)
    rule: Mapped[str] = mapped_column(String(12), nullable=False)
    school_id: Mapped[Optional[int]] = mapped_column(ForeignKey("organisation.id"), index=True)
    office_code: Mapped[Optional[str]] = mapped_column(String(32))
    #: {table name: rows removed}
    counts: Mapped[dict] = mapped_column(JSON, nullable=False, default=dict)


class RetentionCaseFact(db.Model):
    """One removed case as the statistics need it, de-identified: where (school, office, gu),
    status, risk level, the months it was requested and closed, and per need, selection, referral,
    guardian assignment and satisfaction response the months, categories and day counts the
    statistics bucket it by (retention_facts.py).  No student, case or row key,
    no text, no exact date: app/reports can add these rows to its figures for past periods
    (/tmp/b/requests-retention.md §3)."""

    __tablename__ = "retention_case_fact"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    tombstone_id: Mapped[int] = mapped_column(ForeignKey("retention_tombstone.id"), nullable=False, index=True)
    school_id: Mapped[Optional[int]] = mapped_column(ForeignKey("organisation.id"), index=True)
    office_code: Mapped[Optional[str]] = mapped_column(String(32))
    gu_id: Mapped[Optional[int]] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(20), nullable=False)
    risk_level: Mapped[str] = mapped_column(String(20), nullable=False)
    #: the first day of the KST month the case was requested / closed
    requested_month: Mapped[dt.date] = mapped_column(Date, nullable=False)
    closed_month: Mapped[Optional[dt.date]] = mapped_column(Date)
    close_reason: Mapped[Optional[str]] = mapped_column(String(20))
    #: [[domain, outcome or null], …]
    needs: Mapped[list] = mapped_column(JSON, nullable=False, default=list)
    #: ['YYYY-MM', …]: the months of the selection meetings that selected the case
    selections: Mapped[list] = mapped_column(JSON, nullable=False, default=list)
    #: [[sent month, status, state at removal, agency kind, days to answer or null], …] (sent ones)
    referrals: Mapped[list] = mapped_column(JSON, nullable=False, default=list)
    #: [[proposed month, status, closed month or null, close reason or null, closed early 0/1], …]
    assignments: Mapped[list] = mapped_column(JSON, nullable=False, default=list)
    #: [[survey month, party, score], …]
    satisfaction: Mapped[list] = mapped_column(JSON, nullable=False, default=list)
    #: the case's conference records with a decision: [[conference month, office, kind, status, decision], …]
    decisions: Mapped[list] = mapped_column(JSON, nullable=False, default=list)
    #: the case's conference action items: [[conference month, office, kind, state at removal], …]
    action_items: Mapped[list] = mapped_column(JSON, nullable=False, default=list)
    #: conferences removed whole with the student (no other case's record): [[month, office, kind, status], …]
    conferences: Mapped[list] = mapped_column(JSON, nullable=False, default=list)
