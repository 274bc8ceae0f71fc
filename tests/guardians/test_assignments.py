"""Assignment lifecycle services: hard rules, capacity on every path, check expiry, permissions."""
from __future__ import annotations

import datetime as dt

import pytest
from freezegun import freeze_time
from sqlalchemy import select

import app.guardians.match_views  # noqa: F401  (routes registered before the first app)
from app.audit.models import AuditEvent
from app.cases.models import CaseEvent
from app.cases.services import close_case
from app.db import today_kst
from app.domain import DomainError, NotPermitted
from app.guardians import services as gs
from app.guardians.assignments import (accept_assignment, close_assignment, decline_assignment,
                                       propose_assignment, reactivate_assignment, suspend_assignment)
from app.notifications.models import Notification


@pytest.fixture
def case(build):
    return build.case(build.school(), status="in_support")


@pytest.fixture
def guardian_user(build):
    return build.user("guardian")


def with_login(guardian, user, db):
    guardian.user_id = user.id
    db.session.commit()
    return guardian


def test_propose_accept_and_close(db, case, coordinator, eligible_guardian, guardian_user):
    guardian = with_login(eligible_guardian(), guardian_user, db)
    assignment = propose_assignment(case, guardian, coordinator, score=42, parts=[])
    db.session.commit()
    assert assignment.status == "proposed" and assignment.score == 42
    assert db.session.execute(select(Notification).filter_by(user_id=guardian_user.id)).scalar_one().kind == "assignment_proposed"
    accept_assignment(assignment, guardian_user)
    db.session.commit()
    assert assignment.status == "active" and assignment.accepted_at is not None
    suspend_assignment(assignment, coordinator, "other")
    reactivate_assignment(assignment, coordinator)
    close_assignment(assignment, coordinator, "goals_met", rematchable=True)
    db.session.commit()
    assert assignment.status == "closed" and assignment.closed_at and assignment.close_reason == "goals_met"
    actions = db.session.execute(select(AuditEvent.action).where(AuditEvent.object_id == assignment.uid)).scalars().all()
    assert actions == ["assignment_proposed", "assignment_accepted", "assignment_suspended",
                       "assignment_reactivated", "assignment_closed"]
    assert db.session.execute(select(CaseEvent).filter_by(case_id=case.id, kind="assignment")).scalars().all()


def test_ineligible_guardian_refused(db, case, coordinator, make_guardian):
    guardian = make_guardian(status="trained")
    with pytest.raises(DomainError, match="활동 요건을 갖추지"):
        propose_assignment(case, guardian, coordinator)


def test_other_office_refused(db, build, case, coordinator, eligible_guardian):
    other_office = build.user("district_coordinator", organisation=build.organisation("district_office", "강남구"))
    with pytest.raises(DomainError, match="다른 교육지원청"):
        propose_assignment(case, eligible_guardian(office_user=other_office), coordinator)


def test_conflict_with_school_refused(db, case, coordinator, eligible_guardian):
    with pytest.raises(DomainError, match="이해관계"):
        propose_assignment(case, eligible_guardian(conflict_school_ids=[case.school_id]), coordinator)


def test_capacity_refused(db, build, case, coordinator, eligible_guardian):
    guardian = eligible_guardian(capacity=1)
    propose_assignment(build.case(case.school, status="in_support"), guardian, coordinator)
    db.session.commit()
    with pytest.raises(DomainError, match="담당 가능 인원"):
        propose_assignment(case, guardian, coordinator)


def test_same_case_twice_and_case_full_refused(db, case, coordinator, eligible_guardian):
    guardian = eligible_guardian()
    propose_assignment(case, guardian, coordinator)
    db.session.commit()
    with pytest.raises(DomainError, match="이미"):
        propose_assignment(case, eligible_guardian(), coordinator)  # guardians_needed = 1
    case.guardians_needed = 2
    with pytest.raises(DomainError, match="이미 이 사례"):
        propose_assignment(case, guardian, coordinator)


def test_declined_before_refused_for_this_student(db, build, case, coordinator, eligible_guardian, guardian_user):
    guardian = with_login(eligible_guardian(), guardian_user, db)
    decline_assignment(propose_assignment(case, guardian, coordinator), guardian_user, "일정이 맞지 않음")
    db.session.commit()
    with pytest.raises(DomainError, match="거절"):
        propose_assignment(case, guardian, coordinator)
    close_case(case, build.user("school_lead", organisation=case.school), reason="goals_met",
               outcomes={need.id: ("improved", "") for need in case.needs})
    db.session.commit()
    later = build.case(case.school, status="in_support", student=case.student)  # a new case, same student
    with pytest.raises(DomainError, match="거절"):
        propose_assignment(later, guardian, coordinator)


@pytest.mark.parametrize("rematchable", [True, False])
def test_closed_not_rematchable_refused(db, case, coordinator, eligible_guardian, rematchable):
    guardian = eligible_guardian()
    close_assignment(propose_assignment(case, guardian, coordinator), coordinator, "safety_concern", rematchable)
    db.session.commit()
    if rematchable:
        assert propose_assignment(case, guardian, coordinator).status == "proposed"
    else:
        with pytest.raises(DomainError, match="다시 연계하지"):
            propose_assignment(case, guardian, coordinator)


def test_consent_required(db, build, coordinator, eligible_guardian):
    case = build.case(build.school(), status="planning")
    with pytest.raises(DomainError, match="동의"):
        propose_assignment(case, eligible_guardian(), coordinator)


def test_check_expiry(db, build, case, coordinator, eligible_guardian, guardian_user):
    guardian = with_login(eligible_guardian(), guardian_user, db)
    other = build.case(case.school, status="in_support")
    valid_until = min(c.valid_until for c in guardian.checks)
    with freeze_time(dt.datetime.combine(valid_until, dt.time(3))):  # 12:00 KST on the last valid day
        assert today_kst() == valid_until
        assignment = propose_assignment(case, guardian, coordinator)
        db.session.commit()
    with freeze_time(dt.datetime.combine(valid_until + dt.timedelta(days=1), dt.time(3))):
        with pytest.raises(DomainError, match="만료"):
            accept_assignment(assignment, guardian_user)
        db.session.rollback()
        with pytest.raises(DomainError, match="만료"):
            propose_assignment(other, guardian, coordinator)


def test_accept_rechecks_capacity(db, build, case, coordinator, eligible_guardian, guardian_user):
    guardian = with_login(eligible_guardian(capacity=2), guardian_user, db)
    first = propose_assignment(case, guardian, coordinator)
    propose_assignment(build.case(case.school, status="in_support"), guardian, coordinator)
    guardian.capacity = 1  # lowered after the proposals
    db.session.commit()
    with pytest.raises(DomainError, match="담당 가능 인원"):
        accept_assignment(first, guardian_user)


def test_reactivate_rechecks_eligibility(db, case, coordinator, eligible_guardian, guardian_user):
    guardian = with_login(eligible_guardian(), guardian_user, db)
    assignment = propose_assignment(case, guardian, coordinator)
    accept_assignment(assignment, guardian_user)
    suspend_assignment(assignment, coordinator, "other")
    gs.change_guardian_status(coordinator, guardian, "suspended", "확인 필요")
    db.session.commit()
    with pytest.raises(DomainError, match="활동 요건"):
        reactivate_assignment(assignment, coordinator)


def test_permissions(db, build, case, coordinator, eligible_guardian, guardian_user):
    guardian = with_login(eligible_guardian(), guardian_user, db)
    lead = build.user("school_lead", organisation=case.school)
    foreign = build.user("district_coordinator", organisation=build.organisation("district_office", "강남구"))
    for actor in (lead, foreign, guardian_user, None):
        with pytest.raises(NotPermitted):
            propose_assignment(case, guardian, actor)
    assignment = propose_assignment(case, guardian, coordinator)
    someone = build.user("guardian")
    for actor in (coordinator, someone):
        with pytest.raises(NotPermitted):
            accept_assignment(assignment, actor)
        with pytest.raises(NotPermitted):
            decline_assignment(assignment, actor, "사유")
    with pytest.raises(NotPermitted):
        close_assignment(assignment, guardian_user, "other", True)
    with pytest.raises(DomainError, match="거절 사유"):
        decline_assignment(assignment, guardian_user, " ")
    with pytest.raises(DomainError, match="종료 사유"):
        close_assignment(assignment, coordinator, "bogus", True)
    with pytest.raises(DomainError, match="상태"):
        suspend_assignment(assignment, coordinator, "other")  # still proposed
