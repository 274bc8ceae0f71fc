"""A matched pair for the portal tests: an eligible guardian with a login, a case in support
with a shared plan goal, and the assignment between them (proposed or accepted)."""
from __future__ import annotations

import itertools
from dataclasses import dataclass

from app.cases.plan import add_plan_action
from app.extensions import db
from app.guardians.assignments import accept_assignment, propose_assignment
from app.guardians.services import create_guardian_login
from tests.factories import DEFAULT_PASSWORD, approve_login

_counter = itertools.count(1)
SHARED_GOAL = "두 자리 수 덧셈 익히기"
PRIVATE_GOAL = "보호자 상담 주 1회"


@dataclass
class Pair:
    guardian: object
    user: object
    case: object
    assignment: object
    lead: object


def matched(build, eligible_guardian, coordinator, *, accept: bool = True, school=None, guardian=None,
            student_name: str | None = None) -> Pair:
    """Everything through the real services, committed."""
    n = next(_counter)
    school = school or build.school(name=f"망원{n}초등학교")
    lead = build.user("school_lead", organisation=school)
    student = build.student(school, actor=lead, **({"name": student_name} if student_name else {}),
                            phone="010-9999-0000", address="서울 마포구 망원로 7")
    case = build.case(school=school, status="in_support", student=student, lead=lead)
    add_plan_action(case, lead, goal=SHARED_GOAL, action="주 2회 함께 연습", shared_with_guardian=True)
    add_plan_action(case, lead, goal=PRIVATE_GOAL, action="상담교사 진행")
    guardian = guardian or eligible_guardian()
    user = guardian.user
    if user is None:
        user = create_guardian_login(coordinator, guardian, f"guardian-p{n}", DEFAULT_PASSWORD)
        approve_login(user, coordinator, guardian)  # logins start unapproved: the coordinator approves them
    user.password_temporary = False  # as if the guardian had already replaced the coordinator's password
    assignment = propose_assignment(case, guardian, coordinator)
    db.session.commit()
    if accept:
        accept_assignment(assignment, user)
        db.session.commit()
    return Pair(guardian, user, case, assignment, lead)
