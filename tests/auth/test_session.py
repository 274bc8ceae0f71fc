"""Sessions: 30-minute idle timeout (freezegun), cookie flags, deactivated users logged out."""
import datetime as dt

import pytest
from freezegun import freeze_time
from sqlalchemy import select

from app.audit.models import AuditEvent
from app.extensions import db as _db
from tests.factories import Builder

START = dt.datetime(2026, 3, 2, 1, 0, 0)


@pytest.fixture
def isolated(make_app):
    """An app whose requests each get their own app context, as in production.

    The ``app`` fixture keeps one app context pushed for the whole test, and Flask then reuses
    it (and its ``g``, where Flask-Login caches the user) for every request: an expired cookie
    would go unnoticed.  Here data is made in a short context and requests run outside one.
    """
    def _make(role="school_staff", **config):
        app = make_app(**config)
        with app.app_context():
            user = Builder().user(role)
            ids = (user.id, user.login)
        return app, *ids
    return _make


def log_in(client, login_name):
    response = client.post("/login", data={"login": login_name, "password": "Correct-horse-42"})
    assert response.status_code == 302


def test_activity_keeps_the_session_alive(isolated):
    app, _id, name = isolated()
    client = app.test_client()
    with freeze_time(START) as clock:
        log_in(client, name)
        for _ in range(4):  # an hour in all, never 30 minutes idle
            clock.tick(dt.timedelta(minutes=20))
            assert client.get("/home/school").status_code == 200


def test_idle_session_expires_after_thirty_minutes(isolated):
    app, _id, name = isolated()
    client = app.test_client()
    with freeze_time(START) as clock:
        log_in(client, name)
        clock.tick(dt.timedelta(minutes=29, seconds=59))
        assert client.get("/home/school").status_code == 200
        clock.tick(dt.timedelta(minutes=30, seconds=1))
        response = client.get("/home/school")
        assert response.status_code == 302 and response.headers["Location"].startswith("/login")
        # and it stays expired: the old cookie does not come back to life
        assert client.get("/home/school").status_code == 302


def test_a_replayed_old_cookie_is_refused(isolated):
    """The server decides, not the browser: a copied cookie is useless after 30 idle minutes."""
    app, _id, name = isolated("district_coordinator")
    client = app.test_client()
    with freeze_time(START) as clock:
        log_in(client, name)
        cookie = client.get_cookie("session").value
        clock.tick(dt.timedelta(minutes=31))
        thief = app.test_client()
        thief.set_cookie("session", cookie)
        assert thief.get("/home/district").status_code == 302


def test_idle_timeout_tells_the_user_and_is_audited(isolated):
    """With a cookie that outlives the idle limit, the server-side check names the reason."""
    app, user_id, name = isolated("school_lead", PERMANENT_SESSION_LIFETIME=dt.timedelta(hours=8),
                                  SESSION_IDLE_TIMEOUT=dt.timedelta(minutes=30))
    client = app.test_client()
    with freeze_time(START) as clock:
        log_in(client, name)
        clock.tick(dt.timedelta(minutes=31))
        response = client.get("/home/lead")
        assert response.headers["Location"] == "/login?next=/home/lead"
        page = client.get(response.headers["Location"]).get_data(as_text=True)
        assert "30분 동안 사용하지 않아 자동으로 로그아웃되었습니다." in page
        assert client.get("/home/lead").status_code == 302
    with app.app_context():
        [event] = _db.session.execute(select(AuditEvent).filter_by(action="session_expired")).scalars()
        assert event.actor_id == user_id


def test_session_cookie_flags(isolated):
    app, _id, name = isolated("auditor", SESSION_COOKIE_SECURE=True)
    with freeze_time(START):
        response = app.test_client().post("/login", data={"login": name, "password": "Correct-horse-42"})
    [cookie] = [h for h in response.headers.getlist("Set-Cookie") if h.startswith("session=")]
    flags = [part.strip() for part in cookie.split(";")]
    assert {"Secure", "HttpOnly", "SameSite=Lax", "Path=/"} <= set(flags)
    # the cookie outlives the 30-minute idle limit (12 h) so the server-side check ends the
    # session and can say why; see test_idle_timeout_tells_the_user_and_is_audited
    assert "Expires=Mon, 02 Mar 2026 13:00:00 GMT" in flags


def test_deactivated_user_is_logged_out_on_the_next_request(client, login, build, db):
    user = build.user("school_staff")
    login(user)
    assert client.get("/home/school").status_code == 200
    user.active = False
    db.session.commit()
    assert client.get("/home/school").status_code == 302
