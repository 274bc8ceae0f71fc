"""What the statistics need of a removed student's cases, kept de-identified (issue 16: "what
statistics need stays as de-identified counts").

Written by ``retention_erase.remove_student`` before the cases go: one ``retention_case_fact`` per
case with categories, counts and months only (no key, no text, no exact date), next to the
tombstone.  app/reports adds them to its past-period figures (reports/kpis_rows.py: one UNION ALL
of live and removed cases per kind of row).  Four aggregate queries per student, whatever their
case count.
"""
from __future__ import annotations

from collections import defaultdict

from sqlalchemy import func, select

from ..agencies.models import Referral
from ..auth.models import Organisation
from ..cases.models import CaseNeed, SupportCase
from ..cases.satisfaction import CaseSatisfaction
from ..extensions import db
from ..guardians.models import Assignment
from .retention_models import RetentionCaseFact, RetentionTombstone


def _by_case(model, *columns, count: bool = True, case_ids) -> dict:
    query = select(model.case_id, *columns, *([func.count()] if count else [])).where(model.case_id.in_(case_ids))
    if count:
        query = query.group_by(model.case_id, *columns)
    result: dict = defaultdict(list)
    for case_id, *values in db.session.execute(query):
        result[case_id].append(values)
    return result


def record_case_facts(tombstone: RetentionTombstone, case_ids: list[int]) -> int:
    """Add one de-identified fact per case to ``tombstone``; returns how many."""
    if not case_ids:
        return 0
    cases = db.session.execute(
        select(SupportCase.id, SupportCase.school_id, Organisation.office_code, Organisation.gu_id, SupportCase.status,
               SupportCase.risk_level, SupportCase.requested_on, SupportCase.closed_on, SupportCase.close_reason)
        .join(Organisation, Organisation.id == SupportCase.school_id)
        .where(SupportCase.id.in_(case_ids)).order_by(SupportCase.id)).all()
    needs = _by_case(CaseNeed, CaseNeed.domain, CaseNeed.outcome, count=False, case_ids=case_ids)
    referrals = _by_case(Referral, Referral.status, case_ids=case_ids)
    assignments = _by_case(Assignment, Assignment.status, case_ids=case_ids)
    scores = _by_case(CaseSatisfaction, CaseSatisfaction.party, CaseSatisfaction.score, count=False, case_ids=case_ids)
    for c in cases:
        db.session.add(RetentionCaseFact(
            tombstone_id=tombstone.id, school_id=c.school_id, office_code=c.office_code, gu_id=c.gu_id,
            status=c.status, risk_level=c.risk_level, requested_month=c.requested_on.replace(day=1),
            closed_month=c.closed_on.replace(day=1) if c.closed_on else None, close_reason=c.close_reason,
            needs=sorted([domain, outcome] for domain, outcome in needs.get(c.id, ())),
            referrals={status: n for status, n in referrals.get(c.id, ())},
            assignments={status: n for status, n in assignments.get(c.id, ())},
            satisfaction={party: score for party, score in scores.get(c.id, ())}))
    return len(cases)
