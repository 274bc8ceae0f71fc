"""Set-based reads for matching: which cases consent, which wait, which guardians have places.

Everything is decided in SQL with a fixed number of statements, whatever the size of the
office (no consent, purpose or guardian is loaded as an object just to be counted).

The consent rule is the one ``app.cases.consent.consent_covers(case, "guardian_matching", on=day)``
applies case by case: the student *and* the parent each have a consent naming guardian matching
that is in force on ``day`` — given on or before it, not withdrawn on or before it, not expired
before it (tests/guardians/test_matching_scale.py compares both on varied data).
"""
from __future__ import annotations

import datetime as dt

from sqlalchemy import case as sql_case
from sqlalchemy import and_, func, or_, select

from ..auth.models import Organisation
from ..cases.models import CONSENT_PARTIES, Consent, ConsentPurpose, SupportCase
from ..extensions import db
from .assignments import COUNTED, MATCHABLE_CASE_STATUSES, MAX_GUARDIANS_PER_CASE
from .eligibility import eligible_condition
from .models import Assignment, Guardian

PURPOSE = "guardian_matching"


def consent_in_force(day: dt.date):
    """SQL condition on Consent: in force on ``day`` (Consent.active_on as SQL)."""
    return and_(Consent.given_on <= day,
                or_(Consent.withdrawn_on.is_(None), Consent.withdrawn_on > day),
                or_(Consent.expires_on.is_(None), Consent.expires_on >= day))


def matching_consent_condition(day: dt.date):
    """SQL condition on SupportCase: both parties consent to guardian matching on ``day`` — one
    correlated EXISTS per party, read through ix consent (case_id, party, …) and
    ix consent_purpose (consent_id, purpose) without touching either table."""
    return and_(*(select(Consent.id).where(Consent.case_id == SupportCase.id, Consent.party == party,
                                           consent_in_force(day), ConsentPurpose.consent_id == Consent.id,
                                           ConsentPurpose.purpose == PURPOSE).correlate(SupportCase).exists()
                  for party in CONSENT_PARTIES))


def consenting_case_ids(case_ids, day: dt.date) -> set[int]:
    """The ids among ``case_ids`` (a list, or a select of ids) whose student and parent both
    consent to guardian matching on ``day``: one query."""
    if isinstance(case_ids, (list, tuple, set, frozenset)) and not case_ids:
        return set()
    return set(db.session.execute(select(SupportCase.id).where(SupportCase.id.in_(case_ids),
                                                               matching_consent_condition(day))).scalars())


def taken_places():
    """Correlated count of the case's assignments that hold a place."""
    return (select(func.count(Assignment.id)).where(Assignment.case_id == SupportCase.id,
                                                   Assignment.status.in_(COUNTED))
            .correlate(SupportCase).scalar_subquery())


def waiting_case_ids(office_code: str, day: dt.date):
    """A select of the ids of the office's matchable cases with matching consent and a free place."""
    wanted = sql_case((SupportCase.guardians_needed > MAX_GUARDIANS_PER_CASE, MAX_GUARDIANS_PER_CASE),
                      else_=SupportCase.guardians_needed)
    return (select(SupportCase.id).join(Organisation, Organisation.id == SupportCase.school_id)
            .where(Organisation.office_code == office_code, SupportCase.status.in_(MATCHABLE_CASE_STATUSES),
                   matching_consent_condition(day), wanted > taken_places()))


def guardian_rows(office_code: str, day: dt.date) -> list:
    """Eligible guardians of the office that still have a free place, as plain rows with what
    scoring needs (id, gu_id, dong, gender, languages, experience, availability, capacity, load):
    one query, no objects."""
    load = (select(func.count(Assignment.id)).where(Assignment.guardian_id == Guardian.id,
                                                   Assignment.status.in_(COUNTED))
            .correlate(Guardian).scalar_subquery())
    rows = db.session.execute(
        select(Guardian.id, Guardian.gu_id, Guardian.dong, Guardian.gender, Guardian.languages, Guardian.experience,
               Guardian.availability, Guardian.capacity, load.label("load"))
        .where(Guardian.office_code == office_code, eligible_condition(day)).order_by(Guardian.id)).all()
    return [r for r in rows if r.load < r.capacity]


def guardians_by_id(ids) -> dict[int, Guardian]:
    """The Guardian objects of ``ids`` (those shown or proposed), in one query."""
    ids = list(ids)
    if not ids:
        return {}
    return {g.id: g for g in db.session.execute(select(Guardian).where(Guardian.id.in_(ids))).scalars()}
