"""Handling approval and training services: who may decide, what is refused, the grant history
with reasons, clearance day by day, and withdrawal ending the account's sessions."""
from __future__ import annotations

import datetime as dt
import json

import pytest
from freezegun import freeze_time
from sqlalchemy import select

from app.audit.models import AuditEvent
from app.auth.grants import grant_history
from app.auth.handling import (approve_handling, clearance, clearance_state, may_approve, record_training,
                               withdraw_handling)
from app.auth.models import GrantChange, User
from app.db import today_kst
from app.domain import DomainError, NotPermitted
from app.extensions import db as _db
from app.guardians import services as gs
from tests.factories import Builder
from tests.guardians.conftest import guardian_fields

from .test_session import isolated, log_in  # noqa: F401  (the fixture and helper of the session tests)

DAY = dt.date(2026, 3, 2)


@pytest.fixture
def admin(build):
    return build.user("admin", organisation=build.organisation("city_office"))


def changes(user, *kinds) -> list[GrantChange]:
    history = grant_history(user.id)
    if kinds:
        history = history.where(GrantChange.kind.in_(kinds))
    return list(reversed(_db.session.execute(history).scalars().all()))


def test_admin_approves_and_records_training_with_reasons(db, build, admin):
    user = build.user("school_staff", cleared=False)
    assert clearance(user) == "개인정보 취급승인을 받지 않았습니다."
    approve_handling(user, admin, "보안 서약서 확인")
    db.session.commit()
    assert user.handling_approved_at is not None and user.handling_approved_by_id == admin.id
    assert clearance(user) == "개인정보 보호 교육 이수 기록이 없습니다."
    record_training(user, admin, today_kst() - dt.timedelta(days=3), reason="2026년 온라인 교육")
    db.session.commit()
    assert clearance(user) is None and clearance_state(user).approved_by == admin
    approval, training = changes(user, "approval_given", "training_recorded")
    assert (approval.actor_id, approval.reason, approval.before["approved"], approval.after["approved"]) == (
        admin.id, "보안 서약서 확인", False, True)
    assert (training.kind, training.reason, training.before["training_on"], training.after["training_on"]) == (
        "training_recorded", "2026년 온라인 교육", None, (today_kst() - dt.timedelta(days=3)).isoformat())
    # audited without the reason (it is encrypted in the grant change only)
    events = db.session.execute(select(AuditEvent).filter_by(action="grant_changed", object_id=user.uid)).scalars()
    kinds = [json.loads(e.details)["kind"] for e in events]
    assert kinds[-2:] == ["approval_given", "training_recorded"]
    assert not db.session.execute(select(AuditEvent).where(AuditEvent.details.contains("보안 서약서"))).first()


def test_withdrawal_needs_a_reason_and_is_recorded(db, build, admin):
    user = build.user("school_lead")
    version = user.session_version
    for reason in ("", "   "):
        with pytest.raises(DomainError, match="철회 사유"):
            withdraw_handling(user, admin, reason)
    assert user.handling_approved_at is not None and user.session_version == version
    withdraw_handling(user, admin, "퇴직 예정")
    db.session.commit()
    assert user.handling_approved_at is None and user.handling_approved_by_id is None
    assert user.session_version == version + 1 and user.training_on is not None  # the training stays on record
    [change] = changes(user, "approval_withdrawn")
    assert (change.actor_id, change.reason, change.before["approved"], change.after["approved"]) == (
        admin.id, "퇴직 예정", True, False)
    assert clearance(user) == "개인정보 취급승인을 받지 않았습니다."
    with pytest.raises(DomainError, match="취급승인되지 않은"):
        withdraw_handling(user, admin, "다시")


def test_refusals_change_nothing(db, build, admin):
    user = build.user("school_staff")
    with pytest.raises(DomainError, match="이미 취급승인"):
        approve_handling(user, admin)
    gone = build.user("school_staff", cleared=False)
    gone.active = False
    with pytest.raises(DomainError, match="비활성화"):
        approve_handling(gone, admin)
    with pytest.raises(DomainError, match="교육 이수일을 입력"):
        record_training(user, admin, None)
    assert changes(user, "approval_given", "training_recorded") == []


def test_training_date_rules(db, build, admin):
    user = build.user("school_staff", cleared=False)
    with freeze_time("2026-03-02 14:59:00"):  # 23:59 in Seoul
        with pytest.raises(DomainError, match="교육 이수일은 오늘이나 그 전이어야 합니다.") as err:
            record_training(user, admin, DAY + dt.timedelta(days=1))
        assert err.value.field == "trained_on"
        with pytest.raises(DomainError, match="유효기간\\(365일\\)이 이미 지났습니다"):
            record_training(user, admin, DAY - dt.timedelta(days=366))
        record_training(user, admin, DAY - dt.timedelta(days=365))  # its last valid day is today
        assert user.training_on == DAY - dt.timedelta(days=365)
    with freeze_time("2026-03-02 15:00:00"):  # midnight in Seoul: the 3rd, so tomorrow's date is allowed
        record_training(user, admin, DAY + dt.timedelta(days=1))
    db.session.commit()
    assert [c.after["training_on"] for c in changes(user, "training_recorded")] == ["2025-03-02", "2026-03-03"]


def test_clearance_day_by_day(app, build):
    user = build.user("school_staff", training_on=DAY)
    assert clearance(user, DAY) is None
    assert clearance(user, DAY + dt.timedelta(days=365)) is None
    assert clearance(user, DAY + dt.timedelta(days=366)) == "개인정보 보호 교육의 유효기간이 2027. 3. 2.에 끝났습니다."
    state = clearance_state(user, DAY + dt.timedelta(days=340))
    assert state.cleared and state.expiring and state.days_left == 25
    assert not clearance_state(user, DAY + dt.timedelta(days=300)).expiring


def test_the_validity_is_a_setting(make_app):
    app = make_app(HANDLING_TRAINING_VALID_DAYS=180)
    with app.app_context():
        user = Builder().user("school_staff", training_on=DAY)
        assert clearance(user, DAY + dt.timedelta(days=180)) is None
        assert clearance(user, DAY + dt.timedelta(days=181)) == "개인정보 보호 교육의 유효기간이 2026. 8. 29.에 끝났습니다."


@pytest.fixture
def guardian_login(build):
    """A guardian of 서부 (마포구) with a login its coordinator made, not yet approved."""
    coordinator = build.user("district_coordinator", organisation=build.organisation("district_office", "마포구"))
    guardian = gs.register_guardian(coordinator, guardian_fields(build))
    user = gs.create_guardian_login(coordinator, guardian, "guardian-new", "Correct-horse-42")
    _db.session.commit()
    return coordinator, guardian, user


def test_a_coordinator_made_login_starts_unapproved(guardian_login):
    _coordinator, _guardian, user = guardian_login
    assert user.handling_approved_at is None and user.training_on is None
    assert clearance(user) == "개인정보 취급승인을 받지 않았습니다."


def test_the_guardians_own_coordinator_approves(db, guardian_login):
    coordinator, guardian, user = guardian_login
    assert may_approve(coordinator, user, guardian)
    approve_handling(user, coordinator, "서약서 확인", guardian=guardian)
    record_training(user, coordinator, today_kst(), guardian=guardian)
    db.session.commit()
    assert clearance(user) is None and user.handling_approved_by_id == coordinator.id
    assert {c.actor_id for c in changes(user, "approval_given", "training_recorded")} == {coordinator.id}


def test_who_may_decide(db, build, admin, guardian_login):
    coordinator, guardian, guardian_user = guardian_login
    foreign = build.user("district_coordinator", organisation=build.organisation("district_office", "강남구"))
    staff = build.user("school_staff", cleared=False)
    lead = build.user("school_lead")
    uncleared_admin = build.user("admin", organisation=build.organisation("city_office"), cleared=False)
    other_guardian = gs.register_guardian(coordinator, guardian_fields(build))
    db.session.commit()
    assert may_approve(admin, staff) and may_approve(admin, guardian_user)
    assert not may_approve(admin, admin)                              # nobody approves themselves
    assert not may_approve(uncleared_admin, staff)                    # an approver must be cleared
    assert not may_approve(foreign, guardian_user, guardian)          # another office's guardian
    assert not may_approve(coordinator, guardian_user)                # no guardian row: not shown to be theirs
    assert not may_approve(coordinator, guardian_user, other_guardian)  # a row that is not this login's
    assert not may_approve(coordinator, staff)                        # only guardian logins
    assert not may_approve(lead, staff)
    for actor, target, kwargs in ((foreign, guardian_user, {"guardian": guardian}), (coordinator, staff, {}),
                                  (lead, staff, {}), (admin, admin, {})):
        with pytest.raises(NotPermitted):
            approve_handling(target, actor, **kwargs)
        with pytest.raises(NotPermitted):
            record_training(target, actor, today_kst(), **kwargs)
    with pytest.raises(NotPermitted):
        withdraw_handling(lead, foreign, "이유")
    assert guardian_user.handling_approved_at is None and staff.handling_approved_at is None


def test_withdrawal_ends_the_accounts_sessions(isolated):  # noqa: F811
    app, user_id, name = isolated("school_lead")
    client = app.test_client()
    log_in(client, name)
    assert client.get("/cases/").status_code == 200
    with app.app_context():
        admin = Builder().user("admin", organisation=Builder().organisation("city_office"))
        withdraw_handling(_db.session.get(User, user_id), admin, "업무 변경")
        _db.session.commit()
    response = client.get("/cases/")
    assert response.status_code == 302 and response.headers["Location"].startswith("/login")
    log_in(client, name)  # signing in again works; the notice says why nothing opens
    assert client.get("/cases/").headers["Location"] == "/account/clearance"
    with app.app_context():
        actions = [e.action for e in _db.session.execute(select(AuditEvent).where(
            AuditEvent.actor_id == user_id).order_by(AuditEvent.id)).scalars()]
    assert "session_revoked" in actions and actions[-1] == "clearance_blocked"
