"""Read-side queries for case lists and home pages, always built on the scope query."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import and_, exists, func, or_, select
from sqlalchemy.orm import joinedload, selectinload

from ..db import blind_index_matches, today_kst
from ..extensions import db
from ..permissions import case_scope, cases_visible_to
from ..students.models import Student
from .models import CONSENT_PARTIES, DOMAINS, OPEN_STATUSES, RISK_LEVELS, STATUSES, CaseNeed, Consent, PlanAction, SupportCase


@dataclass
class CaseFilters:
    status: str = ""
    domain: str = ""
    risk: str = ""
    overdue: bool = False
    consent_missing: bool = False
    q: str = ""


def _active_consent_parties(day: dt.date):
    """Number of distinct parties with a consent in force, per case (correlated subquery)."""
    return (select(func.count(func.distinct(Consent.party)))
            .where(Consent.case_id == SupportCase.id, Consent.given_on <= day,
                   or_(Consent.withdrawn_on.is_(None), Consent.withdrawn_on > day),
                   or_(Consent.expires_on.is_(None), Consent.expires_on >= day))
            .scalar_subquery())


def overdue_condition(day: dt.date):
    return exists().where(PlanAction.case_id == SupportCase.id, PlanAction.status == "open", PlanAction.due_on < day)


def consent_missing_condition(day: dt.date):
    return _active_consent_parties(day) < len(CONSENT_PARTIES)


def filtered_cases(user, filters: CaseFilters):
    """The user's cases narrowed by ``filters``, most urgent first (a Select for db.paginate)."""
    day = today_kst()
    query = cases_visible_to(user).join(SupportCase.student).options(
        joinedload(SupportCase.student), joinedload(SupportCase.school), selectinload(SupportCase.needs))
    if filters.status in STATUSES:
        query = query.where(SupportCase.status == filters.status)
    elif filters.status == "open":
        query = query.where(SupportCase.status.in_(OPEN_STATUSES))
    if filters.domain in DOMAINS:
        query = query.where(exists().where(CaseNeed.case_id == SupportCase.id, CaseNeed.domain == filters.domain))
    if filters.risk in RISK_LEVELS:
        query = query.where(SupportCase.risk_level == filters.risk)
    if filters.overdue:
        query = query.where(overdue_condition(day))
    if filters.consent_missing:
        query = query.where(consent_missing_condition(day))
    q = (filters.q or "").strip()
    if q:
        # exact match on the blind index of the name or the NEIS number: no decryption in SQL
        query = query.where(or_(blind_index_matches(Student.name_bidx, q),
                                blind_index_matches(Student.neis_number_bidx, q)))
    return query.order_by(SupportCase.urgency, SupportCase.requested_on.desc(), SupportCase.id.desc())


def my_open_cases(user, limit: int = 10) -> list[SupportCase]:
    """Open cases the user owns."""
    query = (cases_visible_to(user).where(SupportCase.owner_id == user.id, SupportCase.status.in_(OPEN_STATUSES))
             .options(joinedload(SupportCase.student)).order_by(SupportCase.urgency, SupportCase.id.desc()).limit(limit))
    return list(db.session.execute(query).unique().scalars())


def overdue_actions(user, limit: int = 10) -> list[tuple[PlanAction, SupportCase]]:
    """Open plan actions past their due date in the user's cases (theirs first)."""
    day = today_kst()
    query = (select(PlanAction, SupportCase).join(SupportCase, PlanAction.case_id == SupportCase.id)
             .where(case_scope(user), SupportCase.status.in_(OPEN_STATUSES), PlanAction.status == "open",
                    PlanAction.due_on < day)
             .options(joinedload(SupportCase.student))
             .order_by((PlanAction.owner_id == user.id).desc(), PlanAction.due_on).limit(limit))
    return list(db.session.execute(query).unique().all())


def waiting_cases(user, limit: int = 10) -> list[SupportCase]:
    """Cases waiting for selection, or in planning and support without both consents."""
    day = today_kst()
    query = (cases_visible_to(user)
             .where(or_(SupportCase.status.in_(("requested", "screening")),
                        and_(SupportCase.status.in_(("selected", "planning", "in_support", "monitoring")),
                             consent_missing_condition(day))))
             .options(joinedload(SupportCase.student)).order_by(SupportCase.urgency, SupportCase.id).limit(limit))
    return list(db.session.execute(query).unique().scalars())


def escalated_cases(user, limit: int = 20) -> list[SupportCase]:
    """Cases of the coordinator's district waiting for the centre's reply (법 10④)."""
    query = (cases_visible_to(user).where(SupportCase.escalation_open.is_(True))
             .options(joinedload(SupportCase.student), joinedload(SupportCase.school))
             .order_by(SupportCase.urgency, SupportCase.id).limit(limit))
    return list(db.session.execute(query).unique().scalars())
