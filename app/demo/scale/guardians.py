"""Education guardians per office: every roster status, record checks (some in vetting, some
running out within 30 days), accounts, assignments (some guardians at capacity, many with room),
activity logs and a few safeguarding concerns."""
from __future__ import annotations

import datetime as dt

from ...cases.models import DOMAINS
from ...guardians.models import (ACTIVITY_KINDS, SLOTS, ActivityLog, Assignment, Guardian, GuardianConcern,
                                 RecordCheck)
from ...guardians.services import add_months
from .build import Build
from .casework import chronology
from .words import ACTIVITY_NOTES, CONCERNS, DONG, HOME_LANGUAGES, address, person_name, phone

STATUS_MIX = (("applicant", 0.05), ("screening", 0.07), ("trained", 0.08), ("active", 0.70), ("suspended", 0.05),
              ("retired", 0.05))
CAPACITY = ((1, 0.2), (2, 0.5), (3, 0.2), (4, 0.1))
#: share of active guardians filled to capacity (the rest keep room)
FULL_SHARE = 0.2
WITH_ACCOUNT = ("trained", "active", "suspended", "retired")


def build_guardians(b: Build, tick) -> None:
    rng = b.rng
    office_weight: dict[str, float] = {}
    for case in b.cases:
        office_weight[case.office] = office_weight.get(case.office, 0) + 1
    offices = sorted(office_weight)
    gus = {}
    for gu_id, name, office in b.gus:
        gus.setdefault(office, []).append((gu_id, name))
    by_office: dict[str, list[int]] = {o: [] for o in offices}
    total = b.n("guardians", minimum=len(STATUS_MIX) * 2)
    for n in range(total):
        office = offices[n % len(offices)] if n < len(offices) else rng.choices(
            offices, [office_weight[o] for o in offices])[0]
        status = STATUS_MIX[n % len(STATUS_MIX)][0] if n < len(STATUS_MIX) else rng.choices(
            [s for s, _ in STATUS_MIX], [p for _, p in STATUS_MIX])[0]
        gid = _guardian(b, n + 1, office, rng.choice(gus[office]), status)
        if status == "active":
            by_office[office].append(gid)
        tick(1)
    b.writer.flush()
    _assign(b, by_office)
    b.writer.flush()


def _guardian(b: Build, n: int, office: str, gu: tuple[int, str], status: str) -> int:
    rng, w = b.rng, b.writer
    name = person_name(rng)
    user_id = None
    if status in WITH_ACCOUNT and rng.random() < 0.9:
        user_id = b.accounts.add(f"guardian-{n:05d}", "guardian", None, name)
    created = b.at(b.day_ago(rng.randrange(30, 700)))
    uid = b.uid()
    capacity = rng.choices([c for c, _ in CAPACITY], [p for _, p in CAPACITY])[0]
    gid = w[Guardian].add(
        uid=uid, user_id=user_id, office_code=office, gu_id=gu[0], dong=rng.choice(DONG), status=status,
        gender=rng.choice(("female", "male")), languages=[rng.choice(HOME_LANGUAGES)] if rng.random() < 0.1 else [],
        experience=rng.sample(list(DOMAINS), rng.randrange(1, 4)),
        availability=sorted(rng.sample(list(SLOTS), rng.randrange(3, 7))), capacity=capacity,
        training_hours=30 if status not in ("applicant", "screening") else 0,
        status_note={"suspended": "범죄경력 조회 결격", "retired": "개인 사정으로 활동 종료"}.get(status),
        name=name, phone=phone(rng), address=address(rng, gu[1]),
        birth_date=dt.date(rng.randrange(1955, 1996), rng.randrange(1, 13), rng.randrange(1, 29)),
        created_at=created, updated_at=created)
    b.guardians[gid] = [uid, office, user_id, capacity, 0]
    coordinator = rng.choice(b.coordinators[office])
    b.audit(created, coordinator, "guardian_registered", "guardian", uid, uid, {"office": office})
    if status != "applicant":
        lapsing = status == "active" and rng.random() < 0.08
        for kind in ("sex_offence", "child_abuse"):
            pending = status == "screening"
            checked = b.day_ago(rng.randrange(340, 360) if lapsing else rng.randrange(5, 330))
            result = "pending" if pending else ("not_clear" if status == "suspended" and kind == "sex_offence"
                                                else "clear")
            check_uid = b.uid()
            w[RecordCheck].add(
                uid=check_uid, guardian_id=gid, kind=kind, consent_on=checked - dt.timedelta(days=5),
                requested_on=checked - dt.timedelta(days=3), result=result,
                checked_on=None if pending else checked, verified_by_id=None if pending else coordinator,
                valid_until=add_months(checked, 12) if result == "clear" else None,
                reference=None if pending else f"REF-{n:05d}-{kind[:3].upper()}")
            b.audit(b.at(checked - dt.timedelta(days=3)), coordinator, "record_check_requested", "record_check",
                    check_uid, None, {"guardian": uid, "kind": kind})
    return gid


def _assign(b: Build, by_office: dict[str, list[int]]) -> None:
    rng = b.rng
    waiting: dict[str, list] = {}
    history: dict[str, list] = {}
    for case in b.cases:
        if case.consented and case.status in ("in_support", "monitoring"):
            waiting.setdefault(case.office, []).append(case)
        elif case.consent_on and case.status in ("closed", "follow_up"):
            history.setdefault(case.office, []).append(case)
    for office, guardians in by_office.items():
        cases = waiting.get(office, [])
        rng.shuffle(cases)
        for gid in guardians:
            capacity = b.guardians[gid][3]
            fill = capacity if rng.random() < FULL_SHARE else rng.randrange(0, capacity)
            for _ in range(fill):
                if not cases:
                    break
                _assignment(b, cases.pop(), gid, "active")
            if cases and rng.random() < 0.1:
                _assignment(b, cases.pop(), gid, rng.choice(("proposed", "proposed", "declined", "suspended")))
            past = history.get(office)
            if past and rng.random() < 0.6:
                _assignment(b, past.pop(), gid, "closed")


def _assignment(b: Build, case, gid: int, status: str) -> None:
    rng, w = b.rng, b.writer
    uid = b.uid()
    guardian_uid, _office, user_id, _capacity, _active = b.guardians[gid]
    start = max(case.consent_on, b.day_ago(400))
    proposed_day = start + dt.timedelta(days=rng.randrange(max(1, min(60, (case.until - start).days))))
    proposed_day = min(proposed_day, b.today)
    coordinator = rng.choice(b.coordinators[case.office])
    proposed = b.at(proposed_day)
    accepted = b.at(min(b.today, proposed_day + dt.timedelta(days=rng.randrange(1, 5)))) \
        if status in ("active", "suspended", "closed") else None
    if accepted and accepted < proposed:
        accepted = b.clamp(proposed + dt.timedelta(hours=3))
    closed = None
    if status == "closed":
        closed = b.clamp(max(b.at(case.until), accepted + dt.timedelta(days=1)))
    aid = w[Assignment].add(
        uid=uid, case_id=case.id, guardian_id=gid, status=status, proposed_by_id=coordinator,
        score=rng.randrange(35, 95), score_parts={"distance": rng.randrange(0, 30), "experience": rng.randrange(0, 30)},
        accepted_at=accepted, declined_reason="일정이 맞지 않습니다." if status == "declined" else None,
        suspended_reason="other" if status == "suspended" else None, closed_at=closed,
        close_reason="case_closed" if closed else None, rematchable=True,
        next_meeting_on=b.today + dt.timedelta(days=rng.randrange(1, 10)) if status == "active" else None,
        created_at=proposed, updated_at=closed or accepted or proposed)
    if status == "active":
        b.guardians[gid][4] += 1
    chronology(b, case, proposed, "assignment", "교육후견인 배정 제안", coordinator)
    b.audit(proposed, coordinator, "assignment_proposed", "guardian_assignment", uid, case.student_uid,
            {"guardian": guardian_uid})
    if accepted and user_id:
        b.assignments[aid] = (uid, case, user_id, accepted.date())
        b.audit(accepted, user_id, "assignment_accepted", "guardian_assignment", uid, case.student_uid,
                {"guardian": guardian_uid, "status": "active"})
        chronology(b, case, accepted, "assignment", "교육후견인 배정 수락", user_id)
        _activities(b, case, aid, gid, user_id, accepted.date(), (closed.date() if closed else b.today))


def _activities(b: Build, case, aid: int, gid: int, user_id: int, start: dt.date, end: dt.date) -> None:
    rng, w = b.rng, b.writer
    weeks = min(30, max(0, (end - start).days // 7))
    for k in range(int(weeks * 0.7)):
        day = min(end, start + dt.timedelta(days=7 * k + rng.randrange(7)))
        concern = rng.random() < 0.015
        when = b.at(day, 19)
        uid = b.uid()
        note = rng.choice(CONCERNS) if concern else rng.choice(ACTIVITY_NOTES)
        log_id = w[ActivityLog].add(uid=uid, assignment_id=aid, case_id=case.id, guardian_id=gid, occurred_on=day,
                                    minutes=rng.choice((45, 60, 60, 90)), kind=rng.choice(list(ACTIVITY_KINDS)),
                                    concern=concern, created_at=when, notes=note)
        b.audit(when, user_id, "activity_logged", "guardian_activity", uid, case.student_uid, {"concern": concern})
        if concern:
            acknowledged = (b.today - day).days > 3 or rng.random() < 0.5
            ack_at = b.at(min(b.today, day + dt.timedelta(days=1))) if acknowledged else None
            w[GuardianConcern].add(
                activity_id=log_id, assignment_id=aid, case_id=case.id, guardian_id=gid,
                status="acknowledged" if acknowledged else "open", raised_at=when,
                acknowledged_at=max(ack_at, when) if ack_at else None,
                acknowledged_by_id=case.owner_id if acknowledged else None, description=note,
                response="보호자와 통화하고 가정 방문 일정을 잡음" if acknowledged else None)
            b.audit(when, user_id, "concern_raised", "guardian_activity", uid, case.student_uid)
