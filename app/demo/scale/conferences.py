"""Case conferences: school meetings, living-area and district conferences, held (minutes,
decisions, review dates, action items that join the case plan), scheduled or cancelled."""
from __future__ import annotations

import datetime as dt
from itertools import accumulate

from ...cases.models import PlanAction
from ...conferences.models import (DECISIONS, ActionItem, Conference, ConferenceCase, ConferenceParticipant)
from .build import Build
from .casework import chronology
from .words import ACTIONS, MINUTES, person_name

KINDS = (("school_meeting", 0.55), ("living_area", 0.15), ("district", 0.30))
STATUSES = (("held", 0.85), ("scheduled", 0.10), ("cancelled", 0.05))
FINISHED = ("not_selected", "withdrawn", "requested", "screening")


def build_conferences(b: Build, tick) -> None:
    rng = b.rng
    by_school: dict[int, list] = {}
    by_office: dict[str, list] = {}
    for case in b.cases:
        if case.status not in FINISHED:
            by_school.setdefault(case.school_id, []).append(case)
            by_office.setdefault(case.office, []).append(case)
    schools = list(by_school)
    school_weights = list(accumulate(len(by_school[s]) for s in schools))
    offices = list(by_office)
    office_weights = list(accumulate(len(by_office[o]) for o in offices))
    kinds, kind_weights = [k for k, _ in KINDS], [p for _, p in KINDS]
    statuses, status_weights = [s for s, _ in STATUSES], [p for _, p in STATUSES]
    for n in range(b.n("conferences", minimum=len(KINDS) * len(STATUSES))):
        kind = kinds[n % 3] if n < 9 else rng.choices(kinds, kind_weights)[0]
        status = statuses[n // 3 % 3] if n < 9 else rng.choices(statuses, status_weights)[0]
        if kind == "district":
            office = rng.choices(offices, cum_weights=office_weights)[0]
            pool, organiser, owners = by_office[office], b.offices[office], b.coordinators[office]
        else:
            school = rng.choices(schools, cum_weights=school_weights)[0]
            pool, organiser = by_school[school], school
            owners, office = [b.leads[school], *b.staff[school]], pool[0].office
        cases = rng.sample(pool, min(len(pool), rng.randrange(2, 6) if kind == "district" else rng.randrange(1, 3)))
        _conference(b, kind, status, organiser, office, owners, cases)
        tick(1)
    b.writer.flush()


def _conference(b: Build, kind, status, organiser, office, owners, cases) -> None:
    rng, w = b.rng, b.writer
    earliest = max(c.requested_on for c in cases) + dt.timedelta(days=1)
    if status == "scheduled":
        day = b.today + dt.timedelta(days=rng.randrange(1, 30))
    else:
        latest = min(b.today - dt.timedelta(days=1), min(c.until for c in cases))
        day = earliest + dt.timedelta(days=rng.randrange(max(1, (latest - earliest).days + 1)))
        day = min(day, b.today - dt.timedelta(days=1))
    creator = owners[0]
    starts = dt.datetime(day.year, day.month, day.day, rng.choice((6, 7, 8)), rng.choice((0, 30)))  # 15:00–17:30 KST
    made = min(b.at(day - dt.timedelta(days=rng.randrange(3, 15))), starts)
    held = starts + dt.timedelta(hours=1) if status == "held" else None
    uid = b.uid()
    cid = w[Conference].add(
        uid=uid, kind=kind, status=status, organiser_id=organiser, office_code=office, starts_at=starts,
        place="교무실 회의실" if kind != "district" else "교육지원청 3층 회의실",
        online_link=None, created_by_id=creator, held_at=held,
        cancelled_at=b.clamp(made + dt.timedelta(days=1)) if status == "cancelled" else None,
        cancel_reason="참석자 일정 변경" if status == "cancelled" else None,
        minutes=rng.choice(MINUTES) if held else None, created_at=made, updated_at=held or made)
    b.conference_days.append((made.date().toordinal(), (uid, creator)))
    b.audit(made, creator, "conference_scheduled", "conference", uid, None, {"cases": len(cases)})
    people = rng.sample(owners, min(len(owners), rng.randrange(2, 5)))
    for user_id in people:
        w[ConferenceParticipant].add(conference_id=cid, user_id=user_id, attended=True if held else None)
    for _ in range(rng.randrange(0, 3)):
        w[ConferenceParticipant].add(conference_id=cid, external_name=person_name(rng),
                                     external_organisation="지역 복지관", attended=bool(held))
    for case in cases:
        decision = rng.choice(list(DECISIONS)) if held else None
        review = day + dt.timedelta(days=rng.randrange(20, 120)) if decision in ("continue", "modify") else None
        w[ConferenceCase].add(conference_id=cid, case_id=case.id, decision=decision, next_review_on=review,
                              decision_note="지원 방향 합의" if held else None)
        chronology(b, case, held or made, "conference", "사례회의 결정 기록" if held else "사례회의 예정", creator)
        if held:
            b.audit(held, creator, "conference_decision", "conference", uid, case.student_uid, {"decision": decision})
            _items(b, cid, case, day, creator, held)
    if held:
        b.audit(held, creator, "conference_recorded", "conference", uid, None)
    elif status == "cancelled":
        b.audit(b.clamp(made + dt.timedelta(days=1)), creator, "conference_cancelled", "conference", uid, None)


def _items(b: Build, cid: int, case, day: dt.date, creator: int, when: dt.datetime) -> None:
    rng, w = b.rng, b.writer
    for _ in range(rng.randrange(0, 3)):
        due = day + dt.timedelta(days=rng.randrange(7, 60))
        closed = case.status in ("closed", "follow_up")
        status = "case_closed" if closed and rng.random() < 0.3 else \
            ("done" if due < b.today and rng.random() < 0.75 else "open")
        owner_kind = rng.choices(("user", "agency", "school_team"), (0.6, 0.2, 0.2))[0]
        agency = case.agencies[0] if owner_kind == "agency" and case.agencies else None
        owner_kind = "user" if owner_kind == "agency" and agency is None else owner_kind
        owner = rng.choice(b.staff[case.school_id]) if owner_kind == "user" else None
        text = rng.choice(ACTIONS)
        plan_id = w[PlanAction].add(case_id=case.id, need_id=None, goal="사례회의 실행 항목", action=text,
                                    owner_id=owner, owner_agency_id=agency, due_on=due,
                                    status=status if status != "case_closed" else "case_closed",
                                    completed_on=min(due, b.today) if status == "done" else None,
                                    shared_with_guardian=False, created_at=when, updated_at=when)
        w[ActionItem].add(conference_id=cid, case_id=case.id, owner_kind=owner_kind, owner_user_id=owner,
                          owner_agency_id=agency, due_on=due, status=status, plan_action_id=plan_id,
                          description=text, created_at=when, updated_at=when)
