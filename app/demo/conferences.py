"""Demo case conferences: a past (held) and an upcoming one of each kind among the demo users, with
decisions, open and overdue action items and review dates, all through the conference services."""
from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from ..auth.models import Organisation, User
from ..cases.models import SupportCase
from ..conferences import access
from ..conferences import services as cs
from ..conferences.models import ActionItem, Conference
from ..db import today_kst
from ..extensions import db

SCHOOL = "B100000465"
OPEN = ("in_support", "monitoring")


def _user(login: str) -> User:
    return db.session.execute(select(User).filter_by(login=login)).scalar_one()


def _cases(code: str) -> list[SupportCase]:
    school = db.session.execute(select(Organisation).filter_by(code=code)).scalar_one_or_none()
    if school is None:
        return []
    return list(db.session.execute(select(SupportCase).where(SupportCase.school_id == school.id,
                                                             SupportCase.status.in_(OPEN))
                                   .order_by(SupportCase.id)).scalars())


def _pick(cases: list[SupportCase], guardian: User, agency: User) -> list[SupportCase]:
    """Up to three cases: the demo guardian's, the demo agency's, and one more."""
    ids = [c.id for c in cases]
    with_guardian = access.guardian_case_ids(guardian, ids)
    with_agency = access.agency_case_ids(agency.organisation_id, ids)
    chosen = [c for c in cases if c.id in with_guardian][:1]
    chosen += [c for c in cases if c.id in with_agency and c not in chosen][:1]
    chosen += [c for c in cases if c not in chosen][:max(0, 3 - len(chosen))]
    return list(dict.fromkeys(chosen))


def _at(days: int, hour: int) -> dt.datetime:
    """A naive Seoul time ``days`` from today at ``hour`` o'clock."""
    return dt.datetime.combine(today_kst() + dt.timedelta(days=days), dt.time(hour, 0))


def _schedule(actor, kind, cases, invite, days, hour, place, externals=()) -> Conference:
    eligible = {u.id for u in access.eligible_users(actor.organisation.office_code, cases)}
    return cs.schedule_conference(actor, kind=kind, starts_at=_at(days, hour), place=place, online_link=None,
                                  case_ids=[c.id for c in cases],
                                  participant_user_ids=[u.id for u in invite if u.id in eligible and u.id != actor.id],
                                  externals=list(externals))


def _actions(case: SupportCase, due: dt.date, people: dict) -> list[dict]:
    """Action items for ``case``: the guardian or agency where linked, else the teacher; and the school team."""
    eligible = {u.id for u in access.eligible_users(case.school.office_code, [case])}
    agency = people["agency"].organisation_id
    if people["guardian"].id in eligible:
        first = dict(description="주 2회 학습 멘토링과 활동 기록", owner_kind="user",
                     owner_user_id=people["guardian"].id)
    elif case.id in access.agency_case_ids(agency, [case.id]):
        first = dict(description="상담 진행 결과를 학교에 회신", owner_kind="agency", owner_agency_id=agency)
    elif people["teacher"].id in eligible:
        first = dict(description="담임 상담 후 출결 변화 확인", owner_kind="user", owner_user_id=people["teacher"].id)
    else:
        first = dict(description="담임 상담 후 출결 변화 확인", owner_kind="school_team")
    return [{**first, "due_on": due},
            dict(description="보호자와 지원 계획 공유", owner_kind="school_team", due_on=due + dt.timedelta(days=14))]


def _hold(conference: Conference, actor, people: dict, decisions: list[str], days_ago: int) -> None:
    """Move the meeting into the past, then record it (demo history only: the services schedule
    only future meetings and accept only future due dates, so dates are set back directly)."""
    today = today_kst()
    shift = dt.timedelta(days=days_ago + 1)
    conference.starts_at -= shift  # results may be recorded only once the meeting has started
    db.session.flush()
    plans = {}
    for n, cc in enumerate(conference.cases):
        plans[cc.case_id] = dict(decision=decisions[n % len(decisions)], note="지원 경과를 공유하고 역할을 나눔",
                                 next_review_on=today + dt.timedelta(days=7 + 3 * n),
                                 actions=_actions(cc.case, today + dt.timedelta(days=1), people))
    cs.record_meeting(conference, actor, attended_participant_ids=[p.id for p in conference.participants],
                      minutes="참석자들이 사례별 지원 경과를 공유하고 다음 점검까지의 실행 과제를 정했다.",
                      decisions=plans)
    conference.held_at = conference.starts_at + dt.timedelta(hours=1)
    db.session.flush()
    items = db.session.execute(select(ActionItem).where(ActionItem.conference_id == conference.id)
                               .order_by(ActionItem.id)).scalars().all()
    for item in items[::2]:  # the first task of each case is now overdue
        item.due_on = today - dt.timedelta(days=max(1, days_ago // 3))


def seed() -> None:
    """Two conferences of each kind: one held in the past with decisions, one coming up."""
    people = {"teacher": _user("demo-school"), "lead": _user("demo-lead"), "guardian": _user("demo-guardian"),
              "agency": _user("demo-agency"), "coordinator": _user("demo-coordinator")}
    cases = _pick(_cases(SCHOOL), people["guardian"], people["agency"])
    if not cases:
        return
    lead, coordinator = people["lead"], people["coordinator"]
    invite = [people["teacher"], people["guardian"], people["agency"], coordinator]
    past = _schedule(lead, "school_meeting", cases, invite, 1, 15, "이음초등학교 상담실",
                     externals=[("김보건", "마포구보건소")])
    _hold(past, lead, people, ["continue", "modify", "refer"], days_ago=21)
    _schedule(lead, "school_meeting", cases, invite, 6, 15, "이음초등학교 상담실")
    living = cases[:2]
    past = _schedule(lead, "living_area", living, invite, 1, 10, "망원동 주민센터 회의실",
                     externals=[("이복지", "망원1동 주민센터")])
    _hold(past, lead, people, ["refer", "modify"], days_ago=10)
    _schedule(lead, "living_area", living, invite, 12, 10, "망원동 주민센터 회의실")
    district = cases[-2:]  # 서부 센터 covers 이음초 (마포구); 한빛중 is in 강남구, another office
    invite = [people["teacher"], lead, people["guardian"], people["agency"]]
    past = _schedule(coordinator, "district", district, invite, 1, 14, "서부교육지원청 3층 회의실")
    _hold(past, coordinator, people, ["continue", "modify"], days_ago=30)
    _schedule(coordinator, "district", district, invite, 9, 14, "서부교육지원청 3층 회의실",
              externals=[("박정신", "마포구정신건강복지센터")])
    db.session.flush()
