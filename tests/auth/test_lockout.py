"""Five wrong passwords lock a login name for 15 minutes, told plainly and the same for every name."""
import datetime as dt

import pytest
from freezegun import freeze_time
from sqlalchemy import select

from app.audit.models import AuditEvent

START = dt.datetime(2026, 3, 2, 0, 0, 0)  # 09:00 KST on a Monday
WRONG = "wrong-password-1"
LOCKED = "비밀번호를 여러 번 잘못 입력하여 로그인이 잠겼습니다."


def body(response) -> str:
    return response.get_data(as_text=True)


@pytest.fixture
def user(build):
    return build.user("school_staff")


def fail(login, name, times):
    return [login(name, WRONG) for _ in range(times)]


def test_four_failures_do_not_lock_and_a_success_resets_the_count(login, user, client):
    with freeze_time(START):
        fail(login, user, 4)
        assert login(user).status_code == 302
        client.post("/logout")
        fail(login, user, 4)
        assert login(user).status_code == 302  # the earlier four were forgotten


def test_fifth_failure_locks_and_the_right_password_is_refused(login, user, client, db):
    with freeze_time(START) as clock:
        *_, fifth = fail(login, user, 5)
        assert LOCKED in body(fifth) and "15분 후에 다시 시도해 주세요." in body(fifth)
        clock.tick(dt.timedelta(minutes=5))
        refused = login(user)
        assert refused.status_code == 400
        assert LOCKED in body(refused) and "10분 후에" in body(refused)
        assert client.get("/home/school").status_code == 302  # not logged in
    denied = db.session.execute(select(AuditEvent.action).filter_by(outcome="denied")).scalars().all()
    assert denied == ["login_failed"] * 5 + ["login_locked"]


def test_an_unknown_login_locks_the_same_way(login, user):
    """The lock reveals nothing: an invented name locks after five tries with the same words."""
    with freeze_time(START):
        known = fail(login, user, 5)[-1]
        unknown = fail(login, "invented-name", 5)[-1]
        assert body(known).replace(user.login, "X") == body(unknown).replace("invented-name", "X")


def test_lock_is_per_login_name(login, user, build):
    other = build.user("school_staff")
    with freeze_time(START):
        fail(login, user, 5)
        assert login(other).status_code == 302


def test_lock_matches_the_name_however_it_is_typed(login, user):
    with freeze_time(START):
        fail(login, user.login.upper(), 5)
        assert LOCKED in body(login(f"  {user.login} "))


def test_lock_expires_after_fifteen_minutes(login, user):
    with freeze_time(START) as clock:
        fail(login, user, 5)
        clock.tick(dt.timedelta(minutes=14, seconds=59))
        last_minute = login(user)
        assert LOCKED in body(last_minute) and "1분 후에" in body(last_minute)
        clock.tick(dt.timedelta(seconds=2))
        assert login(user).status_code == 302


def test_after_a_lock_expires_the_count_starts_again(login, user):
    with freeze_time(START) as clock:
        fail(login, user, 5)
        clock.tick(dt.timedelta(minutes=16))
        *_, fourth = fail(login, user, 4)
        assert LOCKED not in body(fourth)
        assert "아이디 또는 비밀번호가 올바르지 않습니다." in body(fourth)
        assert LOCKED in body(fail(login, user, 1)[0])


def test_lock_settings_come_from_config(make_app, build):
    app = make_app(LOGIN_MAX_FAILURES=2, LOGIN_LOCK_MINUTES=3)
    client = app.test_client()
    with app.app_context(), freeze_time(START):
        user = build.user("guardian")
        client.post("/login", data={"login": user.login, "password": WRONG})
        second = client.post("/login", data={"login": user.login, "password": WRONG})
        assert LOCKED in body(second) and "3분 후에" in body(second)


def test_parallel_guesses_are_all_counted(make_app):
    """Eight guesses at once: exactly five count as failures and lock, the rest meet the lock."""
    import threading

    from app.extensions import db
    from tests.factories import Builder
    app = make_app()
    with app.app_context():
        name = Builder().user("school_staff").login
    barrier = threading.Barrier(8)
    statuses = []

    def guess():
        client = app.test_client()
        barrier.wait()
        statuses.append(client.post("/login", data={"login": name, "password": WRONG}).status_code)
    threads = [threading.Thread(target=guess) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert statuses == [400] * 8
    with app.app_context():
        actions = db.session.execute(select(AuditEvent.action).filter(
            AuditEvent.action.in_(["login_failed", "login_locked"]))).scalars().all()
        assert sorted(actions) == ["login_failed"] * 5 + ["login_locked"] * 3
        db.session.remove()
    assert LOCKED in body(app.test_client().post("/login", data={"login": name, "password": "Correct-horse-42"}))
