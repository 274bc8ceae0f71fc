"""Referral reads: the values a referral shares, what an agency may see of them, overdue lists."""
from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from ..cases.consent import consent_covers
from ..db import today_kst
from ..extensions import db
from .models import Referral


def shared_values(case, items: list[str]) -> dict[str, str]:
    """The chosen items' values from the case and student, as they are now."""
    student = case.student
    values = {
        "student_name": lambda: student.name,
        "birth_date": lambda: student.birth_date.isoformat() if student.birth_date else "",
        "school_grade": lambda: " ".join(p for p in (case.school.name, student.class_label) if p),
        "student_phone": lambda: student.phone,
        "address": lambda: student.address,
        "parent_contact": lambda: " ".join(p for p in (student.parent_name, f"({student.parent_relation})"
                                                       if student.parent_relation else "", student.parent_phone) if p),
        "needs": lambda: "; ".join(f"{n.domain_label}: {n.description or ''}" for n in case.needs),
        "summary": lambda: case.summary,
        "risk_level": lambda: case.risk_label,
        "migrant": lambda: ("이주배경" + (f", 가정 언어 {student.home_language}" if student.home_language else ""))
        if student.migrant_background else "해당 없음",
    }
    return {item: values[item]() or "" for item in items}


def shared_items_visible(referral: Referral, day: dt.date | None = None) -> dict:
    """What the agency may read: the frozen values while consent covers the agency (or the
    referral went under an override); nothing from the moment consent is withdrawn."""
    if referral.sent_at is None:
        return {}
    if referral.override_by_id is None and not consent_covers(referral.case, "agency_referral", referral.agency,
                                                               on=day):
        return {}
    return dict(referral.shared or {})


def is_overdue(referral: Referral, day: dt.date | None = None) -> bool:
    """Sent, not answered, and the response day has passed."""
    day = day or today_kst()
    return referral.status == "sent" and referral.respond_by is not None and referral.respond_by < day


def overdue_referrals(scope_condition, day: dt.date | None = None) -> list[Referral]:
    """Overdue referrals within ``scope_condition`` (e.g. permissions.referral_scope(user)), oldest first."""
    day = day or today_kst()
    return list(db.session.execute(select(Referral).where(
        scope_condition, Referral.status == "sent", Referral.respond_by < day)
        .order_by(Referral.respond_by, Referral.id)).scalars())


def overridden_referrals(scope_condition=None) -> list[Referral]:
    """Referrals sent without covering consent under a school lead's override (for auditors)."""
    query = select(Referral).where(Referral.override_by_id.is_not(None)).order_by(Referral.sent_at.desc())
    if scope_condition is not None:
        query = query.where(scope_condition)
    return list(db.session.execute(query).scalars())


def referrals_for_case(case) -> list[Referral]:
    """The case's referrals, newest first (for the case page's partial)."""
    return list(db.session.execute(select(Referral).where(Referral.case_id == case.id)
                                   .order_by(Referral.created_at.desc(), Referral.id.desc())).scalars())
