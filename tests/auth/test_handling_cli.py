"""`flask users training-reminders` (30 days before a training lapses: the account and every
active admin, once), and the operator's commands: approve, withdraw-approval, record-training,
and the first admin approved by `flask users create`."""
from __future__ import annotations

import datetime as dt

import pytest
from freezegun import freeze_time
from sqlalchemy import select

from app.audit.models import AuditEvent
from app.auth.handling import record_training
from app.auth.models import GrantChange, User
from app.extensions import db as _db
from app.notifications.models import Notification
from app.db import today_kst

TRAINED = dt.date(2026, 3, 2)
UNTIL = dt.date(2027, 3, 2)            # the last valid day (365 days)
WARN_DAY = UNTIL - dt.timedelta(days=30)


def run(app, day: dt.date, *args):
    with freeze_time(dt.datetime.combine(day, dt.time(1))):  # 10:00 in Seoul
        result = app.test_cli_runner().invoke(args=["users", "training-reminders", *args])
    assert result.exit_code == 0, result.output
    return result


def alerts(kind: str = "training_expiring") -> list[Notification]:
    return list(_db.session.execute(select(Notification).filter_by(kind=kind).order_by(Notification.id)).scalars())


@pytest.fixture
def staff(build):
    city = build.organisation("city_office")
    admins = [build.user("admin", organisation=city, training_on=TRAINED + dt.timedelta(days=100)) for _ in range(2)]
    retired = build.user("admin", organisation=city)
    retired.active = False
    user = build.user("school_lead", training_on=TRAINED, display_name="박교감")
    fresh = build.user("school_staff", training_on=TRAINED + dt.timedelta(days=40))
    untrained = build.user("school_staff", cleared=False)
    _db.session.commit()
    return user, admins, retired, fresh, untrained


def test_thirty_days_before_the_user_and_every_admin_are_told_once(app, staff):
    user, admins, retired, fresh, untrained = staff
    assert "새 알림 0건" in run(app, WARN_DAY - dt.timedelta(days=1)).output
    assert alerts() == []
    result = run(app, WARN_DAY)
    assert "교육 만료 예정 1명, 새 알림 3건" in result.output
    sent = alerts()
    assert {n.user_id for n in sent} == {user.id, *(a.id for a in admins)}  # not the inactive admin
    mine = next(n for n in sent if n.user_id == user.id)
    assert "3월 2일 (화)에 끝납니다(30일 남음)" in mine.text and "시스템 관리자에게" in mine.text
    assert mine.link == "/account/clearance"
    theirs = next(n for n in sent if n.user_id == admins[0].id)
    assert f"박교감({user.login})" in theirs.text and "3월 2일 (화)에 끝납니다" in theirs.text
    assert theirs.link == f"/handling/{user.uid}" and "2027-03-02" not in theirs.text
    # daily and idempotent: the same day again, and the days after, add nothing
    assert "새 알림 0건" in run(app, WARN_DAY).output
    assert "새 알림 0건" in run(app, WARN_DAY + dt.timedelta(days=10)).output
    assert len(alerts()) == 3
    events = list(_db.session.execute(select(AuditEvent).filter_by(action="training_expiry_warned")).scalars())
    assert len(events) == 1 and events[0].object_id == user.uid


def test_a_missed_day_is_caught_up_and_a_lapsed_training_is_not_reminded(app, staff):
    user, admins, *_ = staff
    run(app, WARN_DAY + dt.timedelta(days=29))  # the command did not run for a month
    assert len(alerts()) == 3 and "(1일 남음)" in next(n for n in alerts() if n.user_id == user.id).text
    _db.session.query(Notification).delete()
    _db.session.commit()
    run(app, UNTIL + dt.timedelta(days=1))
    assert [n for n in alerts() if n.user_id == user.id] == []


def test_an_admin_whose_training_lapses_is_told_once(app, build):
    city = build.organisation("city_office")
    only = build.user("admin", organisation=city, training_on=TRAINED)
    run(app, WARN_DAY)
    [note] = alerts()
    assert note.user_id == only.id and "시스템 관리자에게" in note.text


def test_recording_the_new_training_resolves_the_reminders(app, staff):
    user, admins, *_ = staff
    run(app, WARN_DAY)
    with freeze_time(dt.datetime.combine(WARN_DAY + dt.timedelta(days=2), dt.time(1))):
        record_training(user, admins[0], WARN_DAY + dt.timedelta(days=1))
        _db.session.commit()
    assert all(n.resolved_at is not None for n in alerts())
    run(app, WARN_DAY + dt.timedelta(days=3))
    assert len(alerts()) == 3  # the new date lapses a year later: nothing to say now


def test_the_first_admin_is_approved_by_the_command(app, build):
    runner = app.test_cli_runner()
    password = "Correct-horse-42\nCorrect-horse-42\n"
    result = runner.invoke(args=["users", "create", "--role", "admin", "--org", "SEN", "--login", "first-admin"],
                           input=password)
    assert result.exit_code == 0, result.output
    assert "flask users record-training first-admin" in result.output
    first = _db.session.execute(select(User).filter_by(login="first-admin")).scalar_one()
    assert first.handling_approved_at is not None and first.handling_approved_by_id is None
    assert first.training_on is None  # a fact only the operator can state
    result = runner.invoke(args=["users", "create", "--role", "admin", "--org", "SEN", "--login", "second-admin"],
                           input=password)
    second = _db.session.execute(select(User).filter_by(login="second-admin")).scalar_one()
    assert second.handling_approved_at is None and "취급승인" not in result.output
    result = runner.invoke(args=["users", "create", "--role", "auditor", "--org", "SEN", "--login", "audit-1"],
                           input=password)
    assert _db.session.execute(select(User).filter_by(login="audit-1")).scalar_one().handling_approved_at is None


def test_operator_commands(app, build):
    user = build.user("school_staff", cleared=False, login="Kim-Teacher")
    runner = app.test_cli_runner()
    result = runner.invoke(args=["users", "approve", "kim-teacher"])
    assert result.exit_code != 0 and "--reason" in result.output
    result = runner.invoke(args=["users", "approve", "ＫＩＭ-teacher", "--reason", "서약서 확인"])
    assert result.exit_code == 0 and "취급승인했습니다: Kim-Teacher" in result.output
    result = runner.invoke(args=["users", "approve", "kim-teacher", "--reason", "다시"])
    assert result.exit_code == 1 and "이미 취급승인된 계정입니다" in result.output
    result = runner.invoke(args=["users", "record-training", "kim-teacher", "--on", "2999-01-01"])
    assert result.exit_code == 1 and "교육 이수일은 오늘이나 그 전이어야 합니다." in result.output
    day = today_kst() - dt.timedelta(days=2)
    result = runner.invoke(args=["users", "record-training", "kim-teacher", "--on", day.isoformat()])
    assert result.exit_code == 0 and "유효기간" in result.output
    result = runner.invoke(args=["users", "withdraw-approval", "kim-teacher", "--reason", "전출"])
    assert result.exit_code == 0
    result = runner.invoke(args=["users", "approve", "nobody", "--reason", "x"])
    assert result.exit_code == 1 and "계정을 찾을 수 없습니다" in result.output
    _db.session.expire_all()
    kinds = [(c.kind, c.actor_id, c.reason) for c in _db.session.execute(
        select(GrantChange).filter_by(user_id=user.id).order_by(GrantChange.id)).scalars()]
    assert kinds == [("created", None, None), ("approval_given", None, "서약서 확인"),
                     ("training_recorded", None, None), ("approval_withdrawn", None, "전출")]
    assert user.session_version == 2


def test_the_demo_accounts_are_approved_and_trained(app):
    result = app.test_cli_runner().invoke(args=["demo", "seed", "--password", "Demo-password-2026"])
    assert result.exit_code == 0, result.output
    from app.auth.handling import clearance
    from app.guardians.models import Guardian
    users = list(_db.session.execute(select(User).where(User.active.is_(True))).scalars())
    assert users and all(clearance(user) is None for user in users)
    by_login = {user.login: user for user in users}
    admin, coordinator = by_login["demo-admin"], by_login["demo-coordinator"]
    assert admin.handling_approved_by_id is None  # the operator, as for a first admin
    assert by_login["demo-lead"].handling_approved_by_id == admin.id
    guardian_ids = set(_db.session.execute(select(Guardian.user_id).where(Guardian.user_id.is_not(None))).scalars())
    assert by_login["demo-guardian"].id in guardian_ids and len(guardian_ids) >= 4
    assert {by_login[u].handling_approved_by_id for u in by_login if by_login[u].id in guardian_ids} == {coordinator.id}
    result = app.test_cli_runner().invoke(args=["users", "training-reminders"])
    assert result.exit_code == 0 and "교육 만료 예정 1명" in result.output
    assert by_login["demo-school2"].id in {n.user_id for n in alerts()}
