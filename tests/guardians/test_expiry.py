"""`flask guardians check-expiry`: warnings 30 and 7 days ahead, suspension on lapse, idempotent."""
from __future__ import annotations

import datetime as dt

from freezegun import freeze_time
from sqlalchemy import func, select

from app.audit.models import AuditEvent
from app.cases.models import CaseEvent
from app.extensions import db
from app.guardians import services as gs
from app.notifications.models import Notification

from .test_checks import make_assignment

CHECKED = dt.date(2024, 3, 10)
UNTIL = dt.date(2025, 3, 10)


def run(app, day: dt.date):
    with freeze_time(f"{day:%Y-%m-%d} 01:00:00"):  # 10:00 KST
        result = app.test_cli_runner().invoke(args=["guardians", "check-expiry"])
    assert result.exit_code == 0, result.output
    db.session.expire_all()
    return result.output


def _count(model, **filters) -> int:
    return db.session.execute(select(func.count()).select_from(model).filter_by(**filters)).scalar()


def _setup(build, coordinator, eligible_guardian):
    with freeze_time("2024-04-01"):
        guardian = eligible_guardian(checked_on=CHECKED)
    school = build.school()
    staff = build.user("school_staff", organisation=school)
    assignment = make_assignment(build, guardian, coordinator, school=school)
    return guardian, assignment, staff


def test_warns_at_30_and_7_days_once_each(app, build, coordinator, eligible_guardian):
    guardian, assignment, _staff = _setup(build, coordinator, eligible_guardian)
    run(app, UNTIL - dt.timedelta(days=31))
    assert _count(Notification, kind="check_expiring") == 0
    for _ in range(2):
        output = run(app, UNTIL - dt.timedelta(days=30))
    # two checks (both kinds) lapse together: one warning each, not repeated on the second run
    assert _count(Notification, kind="check_expiring", user_id=coordinator.id) == 2
    assert "30일 전 알림 0건" in output
    run(app, UNTIL - dt.timedelta(days=29))
    assert _count(Notification, kind="check_expiring") == 2
    run(app, UNTIL - dt.timedelta(days=7))
    run(app, UNTIL - dt.timedelta(days=7))
    assert _count(Notification, kind="check_expiring") == 4
    keys = set(db.session.execute(select(Notification.dedupe_key)).scalars())
    assert any(k.startswith("check-expiry-7:") for k in keys) and any(k.startswith("check-expiry-30:") for k in keys)
    assert _count(AuditEvent, action="record_check_expiry_warned") == 4
    assert guardian.status == "active" and assignment.status == "active"


def test_valid_on_last_day_suspended_the_day_after(app, build, coordinator, eligible_guardian):
    guardian, assignment, staff = _setup(build, coordinator, eligible_guardian)
    run(app, UNTIL)
    assert guardian.status == "active" and assignment.status == "active"
    for _ in range(2):
        output = run(app, UNTIL + dt.timedelta(days=1))
    assert guardian.status == "suspended" and guardian.status_note == "범죄경력 조회 만료"
    assert assignment.status == "suspended" and assignment.suspended_reason == "check_lapsed"
    assert _count(CaseEvent, case_id=assignment.case_id, kind="assignment") == 1
    assert _count(Notification, kind="assignment_suspended", user_id=staff.id) == 1
    assert _count(Notification, kind="assignment_suspended", user_id=coordinator.id) == 1
    assert _count(AuditEvent, action="assignment_suspended") == 1
    event = db.session.execute(select(AuditEvent).filter_by(action="guardian_status_changed")
                               .order_by(AuditEvent.id.desc())).scalars().first()
    assert event.actor_id is None and '"to":"suspended"' in event.details
    assert "활동 중지 0명" in output  # the second run found nothing left to do


def test_renewed_check_is_not_warned_or_suspended(app, build, coordinator, eligible_guardian):
    guardian, assignment, _staff = _setup(build, coordinator, eligible_guardian)
    with freeze_time("2025-02-01"):
        for kind in ("sex_offence", "child_abuse"):
            check = gs.record_check_request(coordinator, guardian, kind, dt.date(2025, 1, 30), dt.date(2025, 1, 31))
            gs.record_check_result(coordinator, check, "clear", dt.date(2025, 2, 1), "NEW")
        db.session.commit()
    run(app, UNTIL - dt.timedelta(days=7))
    run(app, UNTIL + dt.timedelta(days=1))
    assert _count(Notification, kind="check_expiring") == 0
    assert guardian.status == "active" and assignment.status == "active"


def test_not_clear_result_is_caught_by_the_daily_command(app, build, coordinator, eligible_guardian):
    guardian, assignment, _staff = _setup(build, coordinator, eligible_guardian)
    # a not-clear result slipped in without the service (e.g. imported): the command still stops it
    guardian.checks[0].result = "not_clear"
    db.session.commit()
    run(app, dt.date(2024, 5, 1))
    assert guardian.status == "suspended" and assignment.suspended_reason == "check_not_clear"
