"""What the statistics need of a removed student's cases, kept de-identified (issue 16: "what
statistics need stays as de-identified counts").

Written by ``retention_erase.remove_student`` before the cases go: one ``retention_case_fact`` per
case with categories, day counts and months only (no key, no text, no exact date), next to the
tombstone.  app/reports adds them to its past-period figures (reports/kpis_rows.py: one UNION ALL
of live and removed records per kind of row).  Nine queries per student, whatever their case count.

Months are 'YYYY-MM' of the KST day the figure dates a record by (the same expression the
statistics use), so the facts bucket exactly as the live rows did.
"""
from __future__ import annotations

import calendar
import datetime as dt
from collections import defaultdict

from sqlalchemy import select

from ..agencies.models import Referral
from ..auth.models import Organisation
from ..cases.models import CaseNeed, CaseSelection, PlanAction, SupportCase
from ..cases.satisfaction import CaseSatisfaction
from ..conferences.models import ActionItem, Conference, ConferenceCase
from ..db import today_kst
from ..extensions import db
from ..guardians.models import Assignment
from .retention_models import RetentionCaseFact, RetentionTombstone

KST = dt.timedelta(hours=9)
#: an assignment closed before this many months after acceptance closed early (reports' EARLY_MONTHS)
EARLY_MONTHS = 6


def _by_case(case_ids, *columns, join=None) -> dict:
    """{case id: [values, …]} of ``columns`` (the first is the case id) for ``case_ids``."""
    query = select(*columns)
    if join is not None:
        query = query.join(*join)
    result: dict = defaultdict(list)
    for case_id, *values in db.session.execute(query.where(columns[0].in_(case_ids))):
        result[case_id].append(values)
    return result


def _month(day: dt.date | None) -> str | None:
    return day.strftime("%Y-%m") if day is not None else None


def _kst_day(moment: dt.datetime | None) -> dt.date | None:
    return (moment + KST).date() if moment is not None else None


def _plus_months(moment: dt.datetime, months: int) -> dt.datetime:
    """``months`` calendar months later, the day clamped to the month's end (PostgreSQL's interval;
    SQLite rolls a 31st over into the next month: a few days' difference, at most, on the 29th–31st)."""
    year, month = divmod(moment.month - 1 + months, 12)
    year, month = moment.year + year, month + 1
    return moment.replace(year=year, month=month, day=min(moment.day, calendar.monthrange(year, month)[1]))


def _referral(status, kind, sent_at, respond_by, responded_at, today) -> list:
    """[sent month, status, state today, agency kind, days to answer or None] (reports'
    referrals_by_agency_kind states: a referral still unanswered at removal keeps the state it had)."""
    state = status
    if status == "sent":
        state = "overdue" if respond_by is not None and respond_by < today else "waiting"
    elif status in ("accepted", "in_service"):
        state = "accepted"
    answer = (_kst_day(responded_at) - _kst_day(sent_at)).days if responded_at is not None else None
    return [_month(_kst_day(sent_at)), status, state, kind, answer]


def _assignment(status, created_at, accepted_at, closed_at, close_reason) -> list:
    """[proposed month, status, closed month or None, close reason or None, 1 if closed early else 0]."""
    early = int(accepted_at is not None and closed_at is not None
                and closed_at < _plus_months(accepted_at, EARLY_MONTHS))
    return [_month(_kst_day(created_at)), status, _month(_kst_day(closed_at)), close_reason, early]


def _item_state(item_status, due_on, updated_at, plan_status, completed_on, today) -> str:
    """An action item's state as reports' action_items_on_time gives it (on the day of removal)."""
    status = plan_status if item_status == "open" and plan_status not in (None, "open") else item_status
    done_on = completed_on or _kst_day(updated_at)
    if status == "done":
        return "done_on_time" if due_on is None or done_on <= due_on else "done_late"
    if status == "open":
        return "overdue" if due_on is not None and due_on < today else "open"
    return "ended"


def _conference_facts(case_ids, today) -> tuple[dict, dict, dict]:
    """{case id: [[month, office, kind, status, decision], …]} of the cases' conference records,
    {case id: [[month, office, kind, state], …]} of their action items, and {case id: [[month,
    office, kind, status], …]} of the conferences that go whole with them (no other case's record:
    conferences/reactions.forget_student_conference_records), each kept by the first such case."""
    where = Conference.office_code, Conference.kind, Conference.status
    decisions = _by_case(case_ids, ConferenceCase.case_id, ConferenceCase.conference_id, Conference.starts_at, *where,
                         ConferenceCase.decision, join=(Conference, Conference.id == ConferenceCase.conference_id))
    items = db.session.execute(
        select(ActionItem.case_id, ActionItem.conference_id, Conference.starts_at, *where, ActionItem.status,
               ActionItem.due_on, ActionItem.updated_at, PlanAction.status, PlanAction.completed_on)
        .join(Conference, Conference.id == ActionItem.conference_id)
        .outerjoin(PlanAction, PlanAction.id == ActionItem.plan_action_id)
        .where(ActionItem.case_id.in_(case_ids))).all()
    touched: dict = {}
    for case_id, rows in decisions.items():
        for conference_id, starts_at, office, kind, status, _decision in rows:
            touched.setdefault(conference_id, []).append((case_id, [_month(_kst_day(starts_at)), office, kind, status]))
    for case_id, conference_id, starts_at, office, kind, status, *_rest in items:
        touched.setdefault(conference_id, []).append((case_id, [_month(_kst_day(starts_at)), office, kind, status]))
    shared = set()
    if touched:
        shared = set(db.session.execute(select(ConferenceCase.conference_id.distinct()).where(
            ConferenceCase.conference_id.in_(list(touched)), ConferenceCase.case_id.notin_(case_ids))).scalars())
    whole: dict = defaultdict(list)
    for conference_id, found in touched.items():
        if conference_id not in shared:
            case_id, fact = min(found, key=lambda pair: pair[0])
            whole[case_id].append(fact)
    kept = {case_id: [[_month(_kst_day(starts_at)), office, kind, status, decision]
                      for _c, starts_at, office, kind, status, decision in rows if decision is not None]
            for case_id, rows in decisions.items()}
    states: dict = defaultdict(list)
    for case_id, _c, starts_at, office, kind, _s, item_status, due_on, updated_at, plan_status, completed in items:
        states[case_id].append([_month(_kst_day(starts_at)), office, kind,
                                _item_state(item_status, due_on, updated_at, plan_status, completed, today)])
    return kept, states, whole


def record_case_facts(tombstone: RetentionTombstone, case_ids: list[int]) -> int:
    """Add one de-identified fact per case to ``tombstone``; returns how many."""
    if not case_ids:
        return 0
    today = today_kst()
    cases = db.session.execute(
        select(SupportCase.id, SupportCase.school_id, Organisation.office_code, Organisation.gu_id, SupportCase.status,
               SupportCase.risk_level, SupportCase.requested_on, SupportCase.closed_on, SupportCase.close_reason)
        .join(Organisation, Organisation.id == SupportCase.school_id)
        .where(SupportCase.id.in_(case_ids)).order_by(SupportCase.id)).all()
    needs = _by_case(case_ids, CaseNeed.case_id, CaseNeed.domain, CaseNeed.outcome)
    selections = _by_case(case_ids, CaseSelection.case_id, CaseSelection.meeting_on, CaseSelection.selected)
    # drafts were never sent: no figure counts them
    referrals = _by_case(case_ids, Referral.case_id, Referral.status, Organisation.agency_kind, Referral.sent_at,
                         Referral.respond_by, Referral.responded_at,
                         join=(Organisation, Organisation.id == Referral.agency_id))
    assignments = _by_case(case_ids, Assignment.case_id, Assignment.status, Assignment.created_at,
                           Assignment.accepted_at, Assignment.closed_at, Assignment.close_reason)
    scores = _by_case(case_ids, CaseSatisfaction.case_id, CaseSatisfaction.surveyed_on, CaseSatisfaction.party,
                      CaseSatisfaction.score)
    decisions, items, conferences = _conference_facts(case_ids, today)
    for c in cases:
        db.session.add(RetentionCaseFact(
            tombstone_id=tombstone.id, school_id=c.school_id, office_code=c.office_code, gu_id=c.gu_id,
            status=c.status, risk_level=c.risk_level, requested_month=c.requested_on.replace(day=1),
            closed_month=c.closed_on.replace(day=1) if c.closed_on else None, close_reason=c.close_reason,
            needs=sorted([domain, outcome] for domain, outcome in needs.get(c.id, ())),
            selections=sorted(_month(day) for day, selected in selections.get(c.id, ()) if selected),
            referrals=sorted((_referral(*r, today) for r in referrals.get(c.id, ()) if r[2] is not None),
                             key=repr),
            assignments=sorted((_assignment(*a) for a in assignments.get(c.id, ())), key=repr),
            satisfaction=sorted([_month(day), party, score] for day, party, score in scores.get(c.id, ())),
            decisions=sorted(decisions.get(c.id, ()), key=repr), action_items=sorted(items.get(c.id, ()), key=repr),
            conferences=sorted(conferences.get(c.id, ()), key=repr)))
    return len(cases)
