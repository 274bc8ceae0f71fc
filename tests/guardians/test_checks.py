"""Record checks: request, result, validity under freezegun, and a not-clear result stopping work."""
from __future__ import annotations

import datetime as dt

import pytest
from freezegun import freeze_time
from sqlalchemy import func, select

from app.audit.models import AuditEvent
from app.cases.models import CaseEvent
from app.domain import DomainError
from app.db import today_kst
from app.extensions import db
from app.guardians import services as gs
from app.guardians.eligibility import eligible_condition, is_eligible, missing_requirements
from app.guardians.models import Assignment, Guardian
from app.notifications.models import Notification


def make_assignment(build, guardian, coordinator, school=None):
    """An active assignment of ``guardian`` to a new in-support case."""
    case = build.case(school=school or build.school(), status="in_support")
    assignment = Assignment(case_id=case.id, guardian_id=guardian.id, status="active", proposed_by_id=coordinator.id)
    db.session.add(assignment)
    db.session.commit()
    return assignment


def _eligible_in_sql(guardian, day) -> bool:
    return db.session.execute(select(Guardian.id).where(Guardian.id == guardian.id, eligible_condition(day))).first() is not None


def test_clear_result_sets_validity_and_encrypts_reference(app, coordinator, make_guardian):
    guardian = make_guardian()
    check = gs.record_check_request(coordinator, guardian, "sex_offence", dt.date(2024, 2, 27), dt.date(2024, 2, 28))
    gs.record_check_result(coordinator, check, "clear", dt.date(2024, 2, 29), "제2024-0001호")
    db.session.commit()
    assert check.valid_until == dt.date(2025, 2, 28)  # 12 months, clamped to the month's end
    assert check.verified_by_id == coordinator.id
    assert check.reference == "제2024-0001호" and "2024-0001" not in check.reference_enc
    event = db.session.execute(select(AuditEvent).filter_by(action="record_check_result")).scalar_one()
    assert "0001" not in event.details


def test_validity_months_is_a_setting(make_app, build):
    app = make_app(CHECK_VALIDITY_MONTHS=6)
    with app.app_context():
        coordinator = build.user("district_coordinator", organisation=build.organisation("district_office"))
        from tests.guardians.conftest import guardian_fields
        guardian = gs.register_guardian(coordinator, guardian_fields(build))
        check = gs.record_check_request(coordinator, guardian, "child_abuse", dt.date(2024, 1, 1), dt.date(2024, 1, 2))
        gs.record_check_result(coordinator, check, "clear", dt.date(2024, 1, 5), "R")
        assert check.valid_until == dt.date(2024, 7, 5)


@pytest.mark.parametrize("kind, consent_on, requested_on, field", [
    ("other", dt.date(2024, 1, 1), dt.date(2024, 1, 2), "kind"),
    ("sex_offence", dt.date(2024, 1, 3), dt.date(2024, 1, 2), "consent_on"),
    ("sex_offence", dt.date(2024, 1, 1), dt.date(2999, 1, 2), "requested_on"),
    ("sex_offence", None, dt.date(2024, 1, 2), "consent_on"),
])
def test_check_request_refuses_bad_input(coordinator, make_guardian, kind, consent_on, requested_on, field):
    guardian = make_guardian()
    with pytest.raises(DomainError) as error:
        gs.record_check_request(coordinator, guardian, kind, consent_on, requested_on)
    assert error.value.field == field
    db.session.rollback()
    assert guardian.checks == []


def test_check_result_refuses_bad_input_and_second_result(coordinator, make_guardian):
    guardian = make_guardian()
    check = gs.record_check_request(coordinator, guardian, "sex_offence", dt.date(2024, 1, 1), dt.date(2024, 1, 2))
    for result, checked_on, reference, field in [("pending", dt.date(2024, 1, 3), "R", "result"),
                                                 ("clear", dt.date(2023, 12, 1), "R", "checked_on"),
                                                 ("clear", dt.date(2024, 1, 3), " ", "reference")]:
        with pytest.raises(DomainError) as error:
            gs.record_check_result(coordinator, check, result, checked_on, reference)
        assert error.value.field == field
    assert check.result == "pending" and check.valid_until is None
    gs.record_check_result(coordinator, check, "clear", dt.date(2024, 1, 3), "R")
    with pytest.raises(DomainError, match="이미 결과"):
        gs.record_check_result(coordinator, check, "not_clear", dt.date(2024, 1, 3), "R")


def test_eligibility_across_the_expiry_date(coordinator, eligible_guardian):
    with freeze_time("2024-03-01"):
        guardian = eligible_guardian(checked_on=dt.date(2024, 2, 15))
    until = dt.date(2025, 2, 15)
    assert {c.valid_until for c in guardian.checks} == {until}
    with freeze_time("2025-02-15 14:00:00"):  # 23:00 KST, still the last valid day
        assert is_eligible(guardian) and _eligible_in_sql(guardian, until)
    with freeze_time("2025-02-15 15:30:00"):  # 00:30 KST on the 16th: lapsed
        assert not is_eligible(guardian)
        assert any("유효기간 만료" in m for m in missing_requirements(guardian))
        assert not _eligible_in_sql(guardian, dt.date(2025, 2, 16))


def test_not_clear_result_suspends_guardian_and_assignments(build, coordinator, eligible_guardian):
    guardian = eligible_guardian()
    school = build.school()
    staff = build.user("school_staff", organisation=school)
    assignment = make_assignment(build, guardian, coordinator, school=school)
    today = today_kst()
    check = gs.record_check_request(coordinator, guardian, "child_abuse", today, today)
    gs.record_check_result(coordinator, check, "not_clear", today, "R-9")
    db.session.commit()
    assert guardian.status == "suspended" and guardian.status_note == "범죄경력 조회 결격"
    assert assignment.status == "suspended" and assignment.suspended_reason == "check_not_clear"
    assert not is_eligible(guardian)
    events = db.session.execute(select(CaseEvent).filter_by(case_id=assignment.case_id, kind="assignment")).scalars().all()
    assert len(events) == 1 and "결격" in events[0].text
    notified = set(db.session.execute(select(Notification.user_id).filter_by(kind="assignment_suspended")).scalars())
    assert staff.id in notified and coordinator.id in notified
    actions = set(db.session.execute(select(AuditEvent.action)).scalars())
    assert {"assignment_suspended", "guardian_status_changed", "record_check_result"} <= actions


def test_suspend_assignments_notifies_each_user_once(build, coordinator, eligible_guardian):
    guardian = eligible_guardian()
    assignment = make_assignment(build, guardian, coordinator)
    gs.suspend_assignments_of(guardian, "check_lapsed")
    assignment.status = "active"
    gs.suspend_assignments_of(guardian, "check_lapsed")
    db.session.commit()
    users = db.session.execute(select(Notification.user_id).filter_by(kind="assignment_suspended")).scalars().all()
    assert len(users) == len(set(users)) and coordinator.id in users
    assert db.session.execute(select(func.count()).select_from(AuditEvent).filter_by(
        action="assignment_suspended")).scalar() == 2
