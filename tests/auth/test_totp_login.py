"""Signing in with a second factor: the password alone starts no session; a right code does, a
wrong or reused one does not; the clock window (freezegun); recovery codes work once; wrong
codes count on the same lock as wrong passwords; the pending step lapses after 5 minutes; the
code step shares the login rate limit; no secret or code reaches the audit trail."""
import datetime as dt
import re

import pytest
from freezegun import freeze_time
from sqlalchemy import select

from app.auth.models import LoginThrottle, RecoveryCode, User
from app.auth.totp import confirm_enrolment, start_enrolment

from .test_totp import PASSWORD, START, audit_text, code_now, enrolled, events, page, person

LOCKED = "로그인이 잠겼습니다."
WRONG_CODE = "인증 코드가 올바르지 않습니다."


@pytest.fixture
def user(app, db):
    return person("school_staff")


def password_step(client, user, **extra):
    response = client.post("/login", data={"login": user.login, "password": PASSWORD, **extra})
    assert response.status_code == 302 and response.headers["Location"] == "/login/code"
    return response


def other_than(code: str) -> str:
    return str((int(code) + 1) % 1_000_000).zfill(6)


def signed_in(client) -> bool:
    return client.get("/account").status_code == 200


def test_the_password_alone_starts_no_session(client, user, db):
    with freeze_time(START) as clock:
        secret = enrolled(db, user)
        clock.tick(dt.timedelta(seconds=30))
        password_step(client, user)
        assert not signed_in(client)
        assert client.get("/cases/").headers["Location"].startswith("/login")
        step = client.get("/login/code")
        assert step.status_code == 200 and "2단계 인증" in page(step) and 'autocomplete="one-time-code"' in page(step)
        assert secret not in page(step)
    db.session.expire_all()
    assert db.session.get(User, user.id).last_login_at is None
    assert events(db, "login") == [] and len(events(db, "login_password_accepted")) == 1


def test_a_right_code_signs_in_and_goes_where_the_user_was_going(client, user, db):
    with freeze_time(START) as clock:
        secret = enrolled(db, user)
        clock.tick(dt.timedelta(seconds=30))
        password_step(client, user, next="/cases/")
        response = client.post("/login/code", data={"code": code_now(secret)})
        assert response.status_code == 302 and response.headers["Location"] == "/cases/"
        assert signed_in(client)
        assert client.get("/login/code").headers["Location"] == "/"  # nothing left pending
    [login] = events(db, "login")
    assert login.actor_id == user.id and '"second_factor":"totp"' in login.details.replace(" ", "")
    db.session.expire_all()
    assert db.session.get(User, user.id).last_login_at == START + dt.timedelta(seconds=30)


def test_a_wrong_code_is_refused_and_counted(client, user, db):
    with freeze_time(START) as clock:
        secret = enrolled(db, user)
        clock.tick(dt.timedelta(seconds=30))
        password_step(client, user)
        refused = client.post("/login/code", data={"code": other_than(code_now(secret))})
        assert refused.status_code == 400 and WRONG_CODE in page(refused)
        assert client.post("/login/code", data={"code": ""}).status_code == 400
        assert not signed_in(client)
    assert db.session.get(LoginThrottle, user.login_key).failures == 1
    [failed] = events(db, "login_failed")
    assert failed.outcome == "denied" and '"step":"code"' in failed.details.replace(" ", "")


def test_a_reused_code_is_refused(app, client, user, db):
    """A code seen over someone's shoulder, or replayed from a captured request, works once only."""
    with freeze_time(START) as clock:
        secret = enrolled(db, user)
        clock.tick(dt.timedelta(seconds=30))
        code = code_now(secret)
        password_step(client, user)
        assert client.post("/login/code", data={"code": code}).status_code == 302
        thief = app.test_client()
        password_step(thief, user)
        replayed = thief.post("/login/code", data={"code": code})
        assert replayed.status_code == 400 and WRONG_CODE in page(replayed)
        clock.tick(dt.timedelta(seconds=10))  # still the same 30-second step
        assert thief.post("/login/code", data={"code": code}).status_code == 400
        assert not signed_in(thief)
        clock.tick(dt.timedelta(seconds=30))  # the next step's code is new
        assert thief.post("/login/code", data={"code": code_now(secret)}).status_code == 302


def test_the_code_enrolment_confirmed_cannot_sign_in(client, user, db):
    with freeze_time(START):
        secret = enrolled(db, user)  # confirmed with this step's code
        password_step(client, user)
        assert client.post("/login/code", data={"code": code_now(secret)}).status_code == 400


@pytest.mark.parametrize("offset, accepted", [(-2, False), (-1, True), (0, True), (1, True), (2, False)])
def test_clock_window_is_one_step_either_side(client, user, db, offset, accepted):
    """A phone clock up to 30 s off (or a code typed as it changes) still works; more does not."""
    with freeze_time(START) as clock:
        secret = enrolled(db, user)
        clock.tick(dt.timedelta(minutes=5))  # well past the step used at enrolment
        password_step(client, user)
        response = client.post("/login/code", data={"code": code_now(secret, offset)})
        assert (response.status_code == 302) is accepted


def test_an_older_code_after_a_newer_one_is_refused(app, user, db):
    """Once the next step's code was used, the current step's code is as good as used."""
    with freeze_time(START) as clock:
        secret = enrolled(db, user)
        clock.tick(dt.timedelta(minutes=5))
        first, second = app.test_client(), app.test_client()
        password_step(first, user)
        assert first.post("/login/code", data={"code": code_now(secret, +1)}).status_code == 302
        password_step(second, user)
        assert second.post("/login/code", data={"code": code_now(secret)}).status_code == 400


def test_codes_with_spaces_are_read(client, user, db):
    with freeze_time(START) as clock:
        secret = enrolled(db, user)
        clock.tick(dt.timedelta(seconds=30))
        password_step(client, user)
        code = code_now(secret)
        assert client.post("/login/code", data={"code": f" {code[:3]} {code[3:]} "}).status_code == 302


# -- recovery codes --------------------------------------------------------------------------
def recovery_codes(db, user) -> list[str]:
    """Enrol through the services and keep the recovery codes they hand back."""
    start_enrolment(user)
    codes = confirm_enrolment(user, code_now(user.totp_secret))
    db.session.commit()
    return codes


def test_a_recovery_code_works_once(app, user, db):
    with freeze_time(START):
        codes = recovery_codes(db, user)
        client = app.test_client()
        password_step(client, user)
        used = client.post("/login/code", data={"code": codes[3].lower()}, follow_redirects=True)
        assert used.status_code == 200 and "남은 복구 코드는 9개입니다." in page(used)
        client.post("/logout")
        password_step(client, user)
        again = client.post("/login/code", data={"code": codes[3]})
        assert again.status_code == 400 and WRONG_CODE in page(again)
        assert client.post("/login/code", data={"code": codes[4].replace("-", "")}).status_code == 302
    stored = db.session.execute(select(RecoveryCode).filter_by(user_id=user.id)).scalars().all()
    assert sorted(r.used_at is not None for r in stored) == [False] * 8 + [True] * 2
    assert [e.details for e in events(db, "recovery_code_used")] == ['{"left":9}', '{"left":8}']
    everything = audit_text(db)
    assert not any(c.replace("-", "") in everything.replace("-", "") for c in codes)


# -- lockout ---------------------------------------------------------------------------------
def test_wrong_codes_lock_the_account_like_wrong_passwords(client, user, db):
    with freeze_time(START) as clock:
        secret = enrolled(db, user)
        clock.tick(dt.timedelta(seconds=30))
        password_step(client, user)
        answers = [client.post("/login/code", data={"code": other_than(code_now(secret))}) for _ in range(5)]
        assert [r.status_code for r in answers] == [400] * 5
        assert LOCKED in page(answers[-1]) and "15분 후에" in page(answers[-1])
        # the right code is refused while the lock lasts, at the code step and at the password step
        clock.tick(dt.timedelta(seconds=30))
        right = client.post("/login/code", data={"code": code_now(secret)})
        assert right.status_code == 400 and LOCKED in page(right) and not signed_in(client)
        again = client.post("/login", data={"login": user.login, "password": PASSWORD})
        assert again.status_code == 400 and LOCKED in page(again)
        clock.tick(dt.timedelta(minutes=15))
        password_step(client, user)
        assert client.post("/login/code", data={"code": code_now(secret)}).status_code == 302
    assert db.session.get(LoginThrottle, user.login_key) is None  # a full sign-in clears the count
    assert [e.action for e in events(db, "login_locked")] == ["login_locked"] * 2


def test_a_right_password_does_not_reset_the_count_of_wrong_codes(client, user, db):
    """Otherwise the password could be typed again after every four guesses, for ever."""
    with freeze_time(START) as clock:
        secret = enrolled(db, user)
        clock.tick(dt.timedelta(seconds=30))
        for guesses in (4, 1):
            password_step(client, user)
            for _ in range(guesses):
                last = client.post("/login/code", data={"code": other_than(code_now(secret))})
        assert LOCKED in page(last)
    assert db.session.get(LoginThrottle, user.login_key).failures == 5


def test_wrong_passwords_and_wrong_codes_add_up(client, user, db):
    with freeze_time(START) as clock:
        secret = enrolled(db, user)
        clock.tick(dt.timedelta(seconds=30))
        for _ in range(3):
            client.post("/login", data={"login": user.login, "password": "wrong-password-1"})
        password_step(client, user)
        client.post("/login/code", data={"code": other_than(code_now(secret))})
        last = client.post("/login/code", data={"code": other_than(code_now(secret))})
        assert LOCKED in page(last)


# -- the pending step ------------------------------------------------------------------------
def test_the_code_step_lapses_after_five_minutes(client, user, db):
    with freeze_time(START) as clock:
        secret = enrolled(db, user)
        clock.tick(dt.timedelta(seconds=30))
        password_step(client, user)
        clock.tick(dt.timedelta(minutes=4, seconds=59))
        assert client.get("/login/code").status_code == 200
        clock.tick(dt.timedelta(seconds=2))
        late = client.post("/login/code", data={"code": code_now(secret)})
        assert late.status_code == 302 and late.headers["Location"] == "/login"
        assert "5분이 지나 로그인을 처음부터 다시 해야 합니다." in page(client.get("/login"))
        assert not signed_in(client)
        # the marker is gone: the code alone never signs in, and a late code counted nothing
        assert client.post("/login/code", data={"code": code_now(secret)}).headers["Location"] == "/login"
    assert db.session.get(LoginThrottle, user.login_key) is None


def test_the_code_step_needs_the_password_step_first(client, user, db):
    with freeze_time(START) as clock:
        secret = enrolled(db, user)
        clock.tick(dt.timedelta(seconds=30))
        response = client.post("/login/code", data={"code": code_now(secret)})
        assert response.status_code == 302 and response.headers["Location"] == "/login"
        assert not signed_in(client)


def test_a_password_reset_between_the_steps_ends_the_pending_step(client, user, db):
    from app.auth.services import set_password
    with freeze_time(START) as clock:
        secret = enrolled(db, user)
        clock.tick(dt.timedelta(seconds=30))
        password_step(client, user)
        set_password(db.session.get(User, user.id), "Another-river-stone-77")
        db.session.commit()
        assert client.post("/login/code", data={"code": code_now(secret)}).headers["Location"] == "/login"


def test_users_without_2fa_sign_in_with_the_password(client, user):
    response = client.post("/login", data={"login": user.login, "password": PASSWORD})
    assert response.headers["Location"] == "/" and signed_in(client)


# -- rate limit ------------------------------------------------------------------------------
def test_the_code_step_shares_the_login_rate_limit(make_app):
    """Password and code posts draw on one per-IP budget, so the second step adds no guesses."""
    app = make_app(RATELIMIT_ENABLED=True, LOGIN_RATE_LIMIT="3 per minute")
    with app.app_context():
        from app.extensions import db as _db
        user = person("school_staff")
        client = app.test_client()
        enrolled(_db, user)  # no freezegun here: the limiter's in-memory windows keep real time
        password_step(client, user)
        answers = [client.post("/login/code", data={"code": "000000"}).status_code for _ in range(3)]
        assert answers == [400, 400, 429]
        assert "요청이 너무 많습니다" in page(client.post("/login/code", data={"code": "000000"}))
        assert client.get("/login/code").status_code == 200  # only posts are limited
        assert client.post("/login", data={"login": user.login, "password": PASSWORD}).status_code == 429


# -- nothing secret in the audit trail -------------------------------------------------------
def test_no_secret_or_code_reaches_the_audit_trail(client, user, db):
    with freeze_time(START) as clock:
        client.post("/login", data={"login": user.login, "password": PASSWORD})
        enrol = page(client.get("/account/2fa/enrol"))
        secret = re.search(r'data-testid="totp-secret"[^>]*>([A-Z2-7 ]+)<', enrol).group(1).replace(" ", "")
        typed = [code_now(secret)]
        shown = page(client.post("/account/2fa/enrol", data={"code": typed[0]}))
        codes = re.findall(r'data-testid="recovery-code">([A-Z2-9-]+)<', shown)
        client.post("/logout")
        clock.tick(dt.timedelta(seconds=30))
        password_step(client, user)
        typed.append(other_than(code_now(secret)))
        client.post("/login/code", data={"code": typed[-1]})
        typed.append(code_now(secret))
        client.post("/login/code", data={"code": typed[-1]})
        client.post("/logout")
        password_step(client, user)
        client.post("/login/code", data={"code": codes[0]})
    everything = audit_text(db).replace("-", "")
    assert secret not in everything
    assert not any(c.replace("-", "") in everything for c in codes)
    assert not any(f'"{code}"' in everything or f":{code}" in everything for code in typed)
    for action in ("totp_enrolment_started", "totp_enabled", "login_password_accepted", "login_failed", "login",
                   "recovery_code_used"):
        assert events(db, action), action  # the events exist, and carry none of it
