"""Registering, editing and moving guardians through their lifecycle (services)."""
from __future__ import annotations

import datetime as dt

import pytest
from freezegun import freeze_time
from sqlalchemy import func, select

from app.audit.models import AuditEvent
from app.domain import DomainError, NotPermitted
from app.db import today_kst
from app.extensions import db
from app.guardians import services as gs
from app.guardians.eligibility import is_eligible, missing_requirements
from app.guardians.models import Guardian

from .conftest import guardian_fields


def test_eligible_guardian_fixture(eligible_guardian):
    guardian = eligible_guardian()
    assert guardian.status == "active"
    assert is_eligible(guardian), missing_requirements(guardian)


def _audit_count(action: str) -> int:
    return db.session.execute(select(func.count()).select_from(AuditEvent).filter_by(action=action)).scalar()


def test_register_guardian_encrypts_and_audits(build, coordinator):
    school = build.school()
    guardian = gs.register_guardian(coordinator, guardian_fields(build, name="박후견", languages=["베트남어", " "],
                                                                 conflict_school_ids=[school.id]))
    db.session.commit()
    assert guardian.status == "applicant" and guardian.office_code == coordinator.organisation.office_code
    assert guardian.name == "박후견" and "박후견" not in guardian.name_enc
    assert guardian.languages == ["베트남어"] and [c.school_id for c in guardian.conflicts] == [school.id]
    event = db.session.execute(select(AuditEvent).filter_by(action="guardian_registered")).scalar_one()
    assert "박후견" not in (event.details or "")


@pytest.mark.parametrize("fields, field, message", [
    ({"capacity": 0}, "capacity", "1~4"),
    ({"capacity": 5}, "capacity", "1~4"),
    ({"experience": ["learning", "astrology"]}, "experience", "알 수 없는 경험 영역"),
    ({"availability": ["mon_night"]}, "availability", "알 수 없는 활동 가능 시간"),
    ({"gu": "강남구"}, "gu_id", "관할 자치구"),
    ({"birth_date": dt.date(2999, 1, 1)}, "birth_date", "미래"),
    ({"name": "  "}, "name", "이름"),
    ({"gender": "other"}, "gender", "성별"),
])
def test_register_refuses_invalid_input(build, coordinator, fields, field, message):
    before = _audit_count("guardian_registered")
    with pytest.raises(DomainError) as error:
        gs.register_guardian(coordinator, guardian_fields(build, **fields))
    db.session.rollback()
    assert error.value.field == field and message in error.value.message
    assert db.session.execute(select(func.count()).select_from(Guardian)).scalar() == 0
    assert _audit_count("guardian_registered") == before


def test_register_refused_for_other_roles(build):
    school_lead = build.user("school_lead")
    with pytest.raises(NotPermitted):
        gs.register_guardian(school_lead, {})


def test_update_guardian_records_changed_fields(build, coordinator, make_guardian):
    guardian = make_guardian()
    changed = gs.update_guardian(coordinator, guardian, {"capacity": 3, "phone": "010-9999-0000"})
    db.session.commit()
    assert set(changed) == {"capacity", "phone"} and guardian.phone == "010-9999-0000"
    with pytest.raises(DomainError):
        gs.update_guardian(coordinator, guardian, {"capacity": 0})
    db.session.rollback()
    assert guardian.capacity == 3


def test_update_refused_for_foreign_coordinator(build, make_guardian):
    other = build.user("district_coordinator", organisation=build.organisation("district_office", "강남구"))
    with pytest.raises(NotPermitted):
        gs.update_guardian(other, make_guardian(), {"capacity": 3})


def test_lifecycle_steps(coordinator, make_guardian):
    guardian = make_guardian()
    with pytest.raises(DomainError, match="바꿀 수 없습니다"):
        gs.change_guardian_status(coordinator, guardian, "active")
    gs.change_guardian_status(coordinator, guardian, "screening")
    gs.change_guardian_status(coordinator, guardian, "trained")
    assert guardian.status == "trained"
    gs.change_guardian_status(coordinator, guardian, "retired", note="본인 사정")
    assert guardian.status == "retired" and guardian.status_note == "본인 사정"
    with pytest.raises(DomainError):
        gs.change_guardian_status(coordinator, guardian, "active")


def test_activating_without_checks_or_training_is_refused(coordinator, make_guardian):
    guardian = make_guardian(status="trained", training_hours=10)
    with pytest.raises(DomainError) as error:
        gs.change_guardian_status(coordinator, guardian, "active")
    message = error.value.message
    assert error.value.field == "status"
    assert "기본 교육 30시간 중 10시간" in message
    assert "성범죄 경력 조회" in message and "아동학대" in message and "조회 기록 없음" in message
    assert "활동 상태가 아닙니다" not in message
    assert guardian.status == "trained"


def test_activating_with_one_check_pending_is_refused(coordinator, make_guardian):
    guardian = make_guardian(status="trained")
    today = today_kst()
    first = gs.record_check_request(coordinator, guardian, "sex_offence", today, today)
    gs.record_check_result(coordinator, first, "clear", today, "R-1")
    gs.record_check_request(coordinator, guardian, "child_abuse", today, today)
    with pytest.raises(DomainError, match="결과 대기 중"):
        gs.change_guardian_status(coordinator, guardian, "active")


def test_suspend_and_reinstate(coordinator, eligible_guardian):
    guardian = eligible_guardian()
    gs.change_guardian_status(coordinator, guardian, "suspended", note="확인 필요")
    gs.change_guardian_status(coordinator, guardian, "active")
    assert guardian.status == "active" and guardian.status_note is None
    assert _audit_count("guardian_status_changed") >= 5


def test_reinstating_with_lapsed_check_is_refused(coordinator, eligible_guardian):
    with freeze_time("2024-06-01"):
        guardian = eligible_guardian(checked_on=dt.date(2024, 1, 10))
        gs.change_guardian_status(coordinator, guardian, "suspended")
    with freeze_time("2025-01-10"):
        gs.change_guardian_status(coordinator, guardian, "active")
        gs.change_guardian_status(coordinator, guardian, "suspended")
    with freeze_time("2025-01-11"):
        with pytest.raises(DomainError, match="유효기간 만료"):
            gs.change_guardian_status(coordinator, guardian, "active")


def test_create_guardian_login(coordinator, make_guardian):
    guardian = make_guardian()
    user = gs.create_guardian_login(coordinator, guardian, "guardian-park", "Correct-horse-42")
    db.session.commit()
    assert guardian.user_id == user.id and user.role == "guardian" and user.organisation_id is None
    assert user.password_temporary  # the coordinator chose it: the guardian must change it first
    from app.permissions import guardian_for_user
    assert guardian_for_user(user) == guardian
    with pytest.raises(DomainError, match="이미"):
        gs.create_guardian_login(coordinator, guardian, "guardian-park2", "Correct-horse-42")


def test_create_login_weak_password_saves_nothing(coordinator, make_guardian):
    guardian = make_guardian()
    with pytest.raises(DomainError):
        gs.create_guardian_login(coordinator, guardian, "guardian-x", "short")
    db.session.rollback()
    assert guardian.user_id is None


def test_capacity_cannot_go_below_places_taken(build, coordinator, eligible_guardian):
    """Issue 19: two places taken (one proposed, one active or suspended) -> capacity 1 is refused
    next to the field and changes nothing; 2 is allowed."""
    from app.guardians.assignments import propose_assignment
    guardian = eligible_guardian(capacity=3)
    case = build.case(build.school(), status="in_support")
    propose_assignment(case, guardian, coordinator)
    propose_assignment(build.case(case.school, status="in_support"), guardian, coordinator)
    db.session.commit()
    before = _audit_count("guardian_updated")
    with pytest.raises(DomainError, match="이미 2명을 맡고") as refused:
        gs.update_guardian(coordinator, guardian, {"capacity": 1})
    assert refused.value.field == "capacity"
    db.session.rollback()
    assert guardian.capacity == 3 and _audit_count("guardian_updated") == before
    assert gs.update_guardian(coordinator, guardian, {"capacity": 2}) == ["capacity"]
    db.session.commit()
    assert guardian.capacity == 2
