"""What happens inside a case: chronology lines, consents (some missing, expired or withdrawn),
the support plan (some actions overdue), notes and escalations to the district centre."""
from __future__ import annotations

import datetime as dt
from bisect import bisect
from itertools import accumulate

from ...cases.models import NOTE_KINDS, CaseEscalation, CaseEvent, CaseNote, Consent, ConsentPurpose, PlanAction
from .build import Build, Case
from .words import ACTIONS, GOALS, NOTES

#: referrals a case with consent gets (mean ≈ 3.3 before duplicates: ~150,000 over ~45,000 supported cases)
REFERRALS_PER_CASE = (1, 1, 2, 2, 3, 3, 4, 4, 5, 6, 6)


def chronology(b: Build, case: Case, when: dt.datetime, kind: str, text: str, actor: int | None,
               link: str | None = None) -> None:
    b.chronology_lines[case.id] = b.chronology_lines.get(case.id, 0) + 1
    b.writer[CaseEvent].add(case_id=case.id, occurred_at=when, kind=kind, actor_id=actor, text=text, link=link)


def _pick_agencies(b: Build) -> list[int]:
    cum = getattr(b, "_agency_cum", None)
    if cum is None:
        cum = b._agency_cum = list(accumulate(b.agency_weights))
    total, rng = cum[-1], b.rng
    picked = {b.agency_ids[bisect(cum, rng.random() * total)] for _ in range(rng.choice(REFERRALS_PER_CASE))}
    return sorted(picked)


def consents(b: Build, case: Case, day: dt.date) -> None:
    """Both parties consent (mostly): guardian matching, conference sharing and the agencies the
    case will be referred to, by name."""
    rng, w = b.rng, b.writer
    case.agencies = _pick_agencies(b) if b.agency_ids else []
    parent_missing = rng.random() < 0.06
    expires = day + dt.timedelta(days=rng.choice((365, 365, 730))) if rng.random() < 0.75 else None
    withdrawn = None
    if rng.random() < 0.03 and (b.today - day).days > 2:
        withdrawn = day + dt.timedelta(days=rng.randrange(1, (b.today - day).days))
    case.consent_on = day
    case.withdrawn_on = withdrawn
    in_force = (expires is None or expires >= b.today) and withdrawn is None
    case.consented = in_force and not parent_missing
    uids = {}
    for party in ("student", "parent"):
        if party == "parent" and parent_missing:
            continue
        when = b.at(day)
        uid = uids[party] = b.uid()
        consent_id = w[Consent].add(
            uid=uid, case_id=case.id, party=party, given_on=day,
            method=rng.choice(("written", "written", "electronic")),
            expires_on=expires, withdrawn_on=withdrawn if party == "student" else None,
            lapse_handled_on=expires + dt.timedelta(days=1) if expires and expires < b.today else None,
            recorded_by_id=case.owner_id, created_at=when, updated_at=when)
        purposes = w[ConsentPurpose]
        for purpose in ("guardian_matching", "conference_sharing"):
            purposes.add(consent_id=consent_id, purpose=purpose)
        for agency_id in case.agencies:
            purposes.add(consent_id=consent_id, purpose="agency_referral", agency_id=agency_id)
        chronology(b, case, when, "consent", f"{'학생' if party == 'student' else '보호자'} 동의 기록", case.owner_id)
        b.audit(when, case.owner_id, "consent_recorded", "consent", uid, case.student_uid, {"party": party})
    if withdrawn:
        when = b.at(withdrawn)
        chronology(b, case, when, "consent", "학생 동의 철회", case.owner_id)
        b.audit(when, case.owner_id, "consent_withdrawn", "consent", uids["student"], case.student_uid,
                {"party": "student"})


def plan(b: Build, case: Case, day: dt.date) -> None:
    rng, w = b.rng, b.writer
    for _ in range(rng.randrange(2, 5)):
        due = day + dt.timedelta(days=rng.randrange(14, 150))
        if due < b.today:
            status = rng.choices(("done", "open", "cancelled"), (0.82, 0.12, 0.06))[0]  # open = overdue
        else:
            status = "open"
        if status == "open" and case.status in ("closed", "follow_up", "withdrawn"):
            status = "case_closed"
        when = b.at(day)
        uid = b.uid()
        w[PlanAction].add(uid=uid, case_id=case.id, need_id=case.first_need_id, goal=rng.choice(GOALS),
                          action=rng.choice(ACTIONS), owner_id=rng.choice(b.staff[case.school_id]), due_on=due,
                          status=status, completed_on=min(due, b.today) if status == "done" else None,
                          shared_with_guardian=rng.random() < 0.4, created_at=when, updated_at=when)
        chronology(b, case, when, "plan", "지원 계획 실행 항목 추가", case.owner_id)
        b.audit(when, case.owner_id, "plan_action_added", "plan_action", uid, case.student_uid)


def notes(b: Build, case: Case, count: int) -> None:
    rng, w = b.rng, b.writer
    span = max(1, (case.until - case.requested_on).days)
    kinds = list(NOTE_KINDS)
    for _ in range(count):
        when = b.at(case.requested_on + dt.timedelta(days=rng.randrange(span)))
        author = rng.choice(b.staff[case.school_id])
        uid = b.uid()
        kind = rng.choice(kinds)
        w[CaseNote].add(uid=uid, case_id=case.id, kind=kind, author_id=author, body=rng.choice(NOTES),
                        created_at=when, updated_at=when)
        chronology(b, case, when, "note", f"{NOTE_KINDS[kind]} 기록", author)
        b.audit(when, author, "case_note_added", "case_note", uid, case.student_uid, {"kind": kind})


def escalate(b: Build, case: Case, answered: bool) -> None:
    rng = b.rng
    day = case.requested_on + dt.timedelta(days=rng.randrange(max(1, (b.today - case.requested_on).days)))
    when = b.at(day)
    coordinator = rng.choice(b.coordinators[case.office])
    replied = b.at(min(b.today, day + dt.timedelta(days=rng.randrange(1, 10)))) if answered else None
    b.writer[CaseEscalation].add(
        case_id=case.id, office_code=case.office, requested_by_id=case.lead_id,
        reason="긴급복지 지원과 방과 후 돌봄 기관 연계에 교육지원청 도움 요청", replied_at=replied,
        replied_by_id=coordinator if answered else None, reply="지역 기관과 연계 회의를 잡겠습니다." if answered else None,
        created_at=when, updated_at=when)
    chronology(b, case, when, "escalation", "교육지원청 지원 요청", case.lead_id)
    b.audit(when, case.lead_id, "case_escalated", "support_case", case.uid, case.student_uid, {"office": case.office})
    if answered:
        chronology(b, case, max(replied, when), "escalation", "교육지원청 회신", coordinator)
        b.audit(max(replied, when), coordinator, "case_escalation_replied", "support_case", case.uid, case.student_uid)
