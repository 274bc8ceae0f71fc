"""An admin's change ends the user's open sessions: the user's browser, signed in before the
change, is sent to the login page on its next request and the refusal is audited.

Requests run outside the test's app context (as in production), as in tests/auth/test_session.py:
the ``app`` fixture keeps one context open, and Flask-Login would reuse the user cached in it."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from app.audit.models import AuditEvent
from app.auth.models import GrantChange, User
from app.extensions import db as _db
from tests.factories import DEFAULT_PASSWORD, Builder

from .conftest import shown_password


@pytest.fixture
def two_browsers(make_app):
    """An app with an admin and a school staff member, each signed in on their own client."""
    app = make_app()
    with app.app_context():
        build = Builder()
        build.user("admin", login="boss")
        staff = build.user("school_staff", login="teacher")
        uid, staff_id = staff.uid, staff.id
    browsers = {}
    for name in ("boss", "teacher"):
        browsers[name] = app.test_client()
        assert browsers[name].post("/login", data={"login": name, "password": DEFAULT_PASSWORD}).status_code == 302
    assert browsers["teacher"].get("/cases/").status_code == 200
    return app, browsers["boss"], browsers["teacher"], uid, staff_id


def _revoked(app, user_id: int) -> list[AuditEvent]:
    with app.app_context():
        return list(_db.session.execute(select(AuditEvent).where(
            AuditEvent.action == "session_revoked", AuditEvent.actor_id == user_id)).scalars())


def _ended(response) -> bool:
    return response.status_code == 302 and response.headers["Location"].startswith("/login")


def test_a_role_change_ends_the_users_open_session(two_browsers):
    app, boss, teacher, uid, staff_id = two_browsers
    cookie = teacher.get_cookie("session").value
    response = boss.post(f"/admin/users/{uid}/grant", data={
        "grant-role": "school_lead", "grant-organisation": _org_code(app, staff_id), "grant-reason": "교감 발령"})
    assert response.status_code == 302
    assert _ended(teacher.get("/cases/"))
    [event] = _revoked(app, staff_id)
    assert event.outcome == "denied"
    copy = app.test_client()  # a copy of the old cookie is refused too
    copy.set_cookie("session", cookie)
    assert _ended(copy.get("/cases/"))
    with app.app_context():
        [change] = _db.session.execute(select(GrantChange).filter_by(user_id=staff_id, kind="role_changed")).scalars()
        assert (change.before["role"], change.after["role"], change.reason) == ("school_staff", "school_lead", "교감 발령")
    # the boss's own session goes on
    assert boss.get("/admin/users").status_code == 200


def test_an_organisation_change_ends_the_users_open_session(two_browsers):
    app, boss, teacher, uid, staff_id = two_browsers
    with app.app_context():
        other = Builder().school(name="전입학교")
        _db.session.commit()
        code = other.code
    response = boss.post(f"/admin/users/{uid}/grant", data={
        "grant-role": "school_staff", "grant-organisation": code, "grant-reason": "전보"})
    assert response.status_code == 302
    assert _ended(teacher.get("/cases/"))


def test_a_password_reset_ends_the_users_sessions_and_the_old_password(two_browsers):
    app, boss, teacher, uid, staff_id = two_browsers
    response = boss.post(f"/admin/users/{uid}/password", data={"reset-reason": "분실 신고"})
    assert response.status_code == 200
    password = shown_password(response.get_data(as_text=True))
    assert _ended(teacher.get("/cases/"))
    assert len(_revoked(app, staff_id)) == 1
    again = app.test_client()
    refused = again.post("/login", data={"login": "teacher", "password": DEFAULT_PASSWORD})
    assert refused.status_code != 302
    assert again.post("/login", data={"login": "teacher", "password": password}).status_code == 302
    assert again.get("/cases/").headers["Location"].startswith("/account")  # must change it first


def test_deactivation_ends_the_users_session(two_browsers):
    app, boss, teacher, uid, staff_id = two_browsers
    assert boss.post(f"/admin/users/{uid}/deactivate", data={"deactivate-reason": "퇴직"}).status_code == 302
    assert _ended(teacher.get("/cases/"))
    with app.app_context():
        user = _db.session.get(User, staff_id)
        assert user.active is False


def _org_code(app, user_id: int) -> str:
    with app.app_context():
        return _db.session.get(User, user_id).organisation.code
