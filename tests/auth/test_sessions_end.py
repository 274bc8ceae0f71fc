"""Sessions that end: a cookie copied before logout, a password change or deactivation opens
nothing afterwards (refusal audited); a session ends 12 hours after sign-in however busy."""
import datetime as dt
import json

import pytest
from freezegun import freeze_time
from sqlalchemy import select

from app.audit.models import AuditEvent
from app.auth.models import User
from app.auth.services import deactivate_user, set_password
from app.extensions import db as _db

from .test_session import isolated, log_in  # noqa: F401,F811  (the fixture and helper of the idle tests)

START = dt.datetime(2026, 3, 2, 1, 0, 0)


def replay(app, cookie: str):
    """A second browser presenting a copy of the first one's session cookie."""
    thief = app.test_client()
    thief.set_cookie("session", cookie)
    return thief.get("/cases/")


def revoked(app) -> list[AuditEvent]:
    with app.app_context():
        return list(_db.session.execute(select(AuditEvent).where(AuditEvent.action == "session_revoked")).scalars())


def _change(app, user_id: int, change) -> None:
    with app.app_context():
        change(_db.session.get(User, user_id))
        _db.session.commit()


@pytest.mark.parametrize("how", ["logout", "password", "deactivation"])
def test_a_copied_cookie_stops_working(isolated, how):  # noqa: F811
    app, user_id, name = isolated()
    client = app.test_client()
    log_in(client, name)
    assert client.get("/cases/").status_code == 200
    cookie = client.get_cookie("session").value
    assert replay(app, cookie).status_code == 200  # the copy works while the session lives
    if how == "logout":
        client.post("/logout")
    elif how == "password":
        _change(app, user_id, lambda user: set_password(user, "Another-river-stone-77"))
    else:
        _change(app, user_id, lambda user: deactivate_user(user))
    response = replay(app, cookie)
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    if how != "deactivation":  # a deactivated account is logged out by Flask-Login before the check
        [event] = revoked(app)
        assert (event.actor_id, event.outcome) == (user_id, "denied")


def test_logout_ends_only_by_moving_the_version_on(isolated):  # noqa: F811
    app, user_id, name = isolated()
    client = app.test_client()
    log_in(client, name)
    with app.app_context():
        before = _db.session.get(User, user_id).session_version
    client.post("/logout")
    with app.app_context():
        assert _db.session.get(User, user_id).session_version == before + 1
    log_in(client, name)  # a fresh sign-in works at once
    assert client.get("/cases/").status_code == 200


def test_a_busy_session_still_ends_after_12_hours(isolated):  # noqa: F811
    app, user_id, name = isolated()
    client = app.test_client()
    with freeze_time(START) as clock:
        log_in(client, name)
        for _ in range(47):  # a request every 15 minutes keeps the idle clock young
            clock.tick(dt.timedelta(minutes=15))
            assert client.get("/cases/").status_code == 200
        clock.tick(dt.timedelta(minutes=16))
        response = client.get("/cases/")
        assert response.status_code == 302 and "/login" in response.headers["Location"]
        page = client.get(response.headers["Location"]).get_data(as_text=True)
        assert "로그인한 지 12시간이 지나 자동으로 로그아웃되었습니다." in page
    with app.app_context():
        details = [e.details for e in _db.session.execute(
            select(AuditEvent).where(AuditEvent.action == "session_expired")).scalars()]
    assert [json.loads(d) for d in details] == [{"limit": "absolute"}]
