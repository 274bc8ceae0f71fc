"""Reactions of the agencies feature to lifecycle signals (app/signals.py); connected by the app factory.

Each receiver runs in the sender's transaction; the referral changes write their own chronology
lines and audit events (referral_lifecycle.py), and a refusal (DomainError) rolls the whole
change back.
"""
from __future__ import annotations

from .. import signals
from ..db import today_kst
from ..lifecycle import PageSection
from .referral_lifecycle import close_items, end_on_close, end_on_withdrawn_case, stop_referrals_on_withdrawal
from .referral_queries import referrals_for_case
from .referrals import FINISHED_CASES, is_school_side


@signals.case_close_items.connect
def case_close_items(case, **_kwargs):
    """The close form asks a cancel reason for each referral the agency has in hand."""
    return close_items(case)


@signals.case_closed.connect
def case_closed(case, actor=None, choices=None, **_kwargs):
    """Drafts are cancelled; open referrals are cancelled with the form's reason, or the close is refused."""
    end_on_close(case, actor, choices or {})


@signals.case_withdrawn.connect
def case_withdrawn(case, actor=None, **_kwargs):
    """A withdrawn request takes its referrals with it."""
    end_on_withdrawn_case(case, actor)


def _stops_referrals(purposes) -> bool:
    # a consent that never covered a referral cannot stop one; unknown purposes: check anyway
    return purposes is None or "agency_referral" in purposes


@signals.consent_withdrawn.connect
def consent_withdrawn(case, actor=None, purposes=None, **_kwargs):
    """Referrals the remaining consent no longer covers stop, or hide what they shared."""
    if _stops_referrals(purposes):
        stop_referrals_on_withdrawal(case, actor)


@signals.consent_expired.connect
def consent_expired(case, actor=None, purposes=None, **_kwargs):
    """An expired consent stops referrals like a withdrawal (actor None: the daily command)."""
    if _stops_referrals(purposes):
        stop_referrals_on_withdrawal(case, actor, cause="consent_expired")


@signals.case_page_sections.connect
def case_page_sections(case, user=None, **_kwargs):
    """The case page's referral block, for the case's school team and district coordinator."""
    if not is_school_side(user, case):
        return None
    referrals = referrals_for_case(case)
    return PageSection(template="agencies/_case_section.html", order=20, context={
        "referrals": referrals, "today": today_kst(),
        "can_refer": case.status not in FINISHED_CASES,
        "has_needs": bool(case.needs),
    })


@signals.student_transferred.connect
def student_transferred(case, actor=None, transfer=None, **_kwargs):
    """Referrals the agency has in hand stay; the coordinators of both offices are asked to
    review them (the agency may be far from the new school), once each."""
    from flask_babel import lazy_gettext as _l

    from ..audit.services import record
    from ..cases.chronology import add_event
    from ..notifications.services import notify
    from .referral_alerts import office_coordinators
    from .referral_lifecycle import OPEN_AT_AGENCY, _referrals
    referrals = _referrals(case, OPEN_AT_AGENCY)
    if not referrals or transfer is None:
        return
    offices = sorted({transfer.from_school.office_code, transfer.to_school.office_code})
    text = _l("%(name)s 학생이 %(old)s에서 %(new)s(으)로 전학했습니다. 진행 중인 기관 의뢰 %(n)d건을 검토해 주세요.",
              name=case.student.name, old=transfer.from_school.name, new=transfer.to_school.name, n=len(referrals))
    for office in offices:
        link = f"/cases/{case.uid}" if office == case.school.office_code else None
        for user in office_coordinators(office):
            notify(user.id, "transfer", text, link=link, case_id=case.id,
                   dedupe_key=f"transfer-review:{transfer.id}:referrals:{user.id}")
    add_event(case, "referral", _l("전학: 진행 중인 기관 의뢰 %(n)d건의 검토를 교육지원청 담당자에게 요청", n=len(referrals)),
              actor)
    record("transfer_review_requested", obj=case, subject=case.student, actor=actor,
           details={"transfer": transfer.uid, "kind": "referrals", "count": len(referrals), "offices": offices})


@signals.student_retained_until_passed.connect
def forget_student_referrals(student, rows=None, **_kwargs) -> dict:
    """Delete the student's referrals with their shared data and service records (the agency keeps
    nothing about a student whose retention ended)."""
    from sqlalchemy import delete

    from ..extensions import db
    from .models import Referral, ServiceRecord
    rows = rows or {}
    counts = {}
    for model in (ServiceRecord, Referral):
        ids = rows.get(model.__tablename__, ())
        if ids:
            db.session.execute(delete(model).where(model.id.in_(ids)))
        counts[model.__tablename__] = len(ids)
    return counts
