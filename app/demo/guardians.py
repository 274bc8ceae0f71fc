"""Demo education guardians of 서부교육지원청 in every vetting state, assignments in every state
and activity logs, all through the real services (demo-guardian has an active assignment)."""
from __future__ import annotations

import datetime as dt
import secrets

from sqlalchemy import select

from ..auth.models import Gu, User
from ..cases.models import SupportCase
from ..db import today_kst, utcnow
from ..extensions import db
from ..guardians import assignments as a
from ..guardians.activity import log_activity
from ..guardians.services import (change_guardian_status, create_guardian_login, record_check_request,
                                  record_check_result, register_guardian)

#: (name, 동, languages, experience, status to reach, check state)
GUARDIANS = [
    ("정민재", "망원동", [], ["learning", "counselling"], "active", "clear"),  # demo-guardian
    ("김선영", "합정동", ["베트남어"], ["multicultural", "learning"], "active", "lapsing"),
    ("이정호", "연남동", [], ["career", "learning"], "active", "clear"),
    ("박미경", "성산동", ["중국어"], ["welfare", "multicultural"], "active", "clear"),
    ("최은주", "서교동", [], ["health"], "trained", "clear"),
    ("한상우", "공덕동", [], ["learning"], "screening", "pending"),
    ("오지혜", "아현동", [], ["counselling"], "applicant", None),
    ("윤태식", "상암동", [], ["career"], "suspended", "not_clear"),
    ("장영희", "도화동", [], ["learning"], "retired", "clear"),
]


def _user(login: str) -> User:
    return db.session.execute(select(User).filter_by(login=login)).scalar_one()


def _guardian(coordinator, today, index, name, dong, languages, experience, target, checks):
    gu = db.session.execute(select(Gu).filter_by(name_ko="마포구")).scalar_one()
    guardian = register_guardian(coordinator, {
        "name": name, "phone": f"010-55{index:02d}-{1000 + index * 37:04d}", "address": f"서울 마포구 {dong}",
        "birth_date": dt.date(1965 + index * 2, 1 + index, 10), "gu_id": gu.id, "dong": dong,
        "gender": "female" if index % 2 else "male", "languages": languages, "experience": experience,
        "availability": ["tue_pm", "thu_pm", "sat_am"], "capacity": 2, "training_hours": 30 if target != "applicant" else 0})
    if checks:
        for kind in ("sex_offence", "child_abuse"):
            # a lapsing check was done almost a year ago: it runs out within 7 days
            checked = today - dt.timedelta(days=360) if checks == "lapsing" and kind == "child_abuse" \
                else today - dt.timedelta(days=40)
            check = record_check_request(coordinator, guardian, kind, checked - dt.timedelta(days=5),
                                         checked - dt.timedelta(days=3))
            if checks != "pending":
                record_check_result(coordinator, check, "clear", checked, f"REF-{index:03d}-{kind[:3].upper()}")
    path = {"applicant": [], "screening": ["screening"], "trained": ["screening", "trained"],
            "active": ["screening", "trained", "active"], "suspended": ["screening", "trained", "active"],
            "retired": ["screening", "trained", "active", "retired"]}[target]
    for status in path:
        if guardian.status != status:
            change_guardian_status(coordinator, guardian, status, "데모 데이터")
    if checks == "not_clear":  # a re-check came back not clear: the service suspends the guardian
        recheck = record_check_request(coordinator, guardian, "sex_offence", today - dt.timedelta(days=5),
                                       today - dt.timedelta(days=5))
        record_check_result(coordinator, recheck, "not_clear", today - dt.timedelta(days=1), f"REF-{index:03d}-RE")
    return guardian


def seed() -> None:
    """Guardians, their record checks, assignments in every state and activity logs."""
    today = today_kst()
    coordinator = _user("demo-coordinator")
    guardians = [_guardian(coordinator, today, i, *row) for i, row in enumerate(GUARDIANS)]
    guardians[0].user_id = _user("demo-guardian").id  # the printed demo login is this guardian
    for i, guardian in enumerate(guardians[1:4], start=1):
        create_guardian_login(coordinator, guardian, f"demo-guardian{i + 1}", secrets.token_urlsafe(16))
    db.session.flush()
    cases = list(db.session.execute(
        select(SupportCase).where(SupportCase.status.in_(("in_support", "monitoring")),
                                  SupportCase.school.has(office_code="SEOBU")).order_by(SupportCase.id)).scalars())
    main, second, third = cases[0], cases[1], cases[2]
    for case in (main, second, third):
        case.guardians_needed = 2
    demo, lapsing, mentor, linguist = guardians[:4]

    def accepted(case, guardian):
        assignment = a.propose_assignment(case, guardian, coordinator, score=60)
        a.accept_assignment(assignment, db.session.get(User, guardian.user_id))
        # demo history: the match began a month ago, so meetings can be logged in the past
        assignment.accepted_at = utcnow() - dt.timedelta(days=30)
        return assignment

    finished = accepted(main, mentor)                      # closed: goals met
    a.close_assignment(finished, coordinator, "goals_met", rematchable=True)
    active = accepted(main, demo)                          # active: demo-guardian
    active.next_meeting_on = today + dt.timedelta(days=3)
    paused = accepted(third, mentor)                       # suspended
    a.suspend_assignment(paused, coordinator, "other")
    refused = a.propose_assignment(second, linguist, coordinator, score=45)   # declined
    a.decline_assignment(refused, db.session.get(User, linguist.user_id), "일정이 맞지 않습니다.")
    a.propose_assignment(second, lapsing, coordinator, score=70)            # proposed (check lapsing)
    a.propose_assignment(third, demo, coordinator, score=55)                # proposed to demo-guardian
    guardian_user = db.session.get(User, demo.user_id)
    for days, minutes, kind, notes, concern in (
            (24, 60, "learning", "분수 덧셈 복습, 숙제 확인", False),
            (17, 90, "emotional", "학교생활 이야기, 친구 관계 고민 들어줌", False),
            (10, 60, "career", "관심 직업 찾기 활동", False),
            (3, 45, "daily_life", "아침을 거르고 온다고 함. 최근 집에 보호자가 없는 날이 많다고 말함", True)):
        log_activity(active, guardian_user, occurred_on=today - dt.timedelta(days=days), minutes=minutes,
                     kind=kind, notes=notes, concern=concern, concern_description=notes if concern else "")
    db.session.flush()
