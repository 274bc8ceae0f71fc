"""Two-factor enrolment and the account page's 2FA section: the QR code as inline SVG under the
CSP, the key typed by hand, confirmation with a code, 10 recovery codes shown once and stored
hashed, roles that must enrol and roles that may, new recovery codes, turning 2FA off."""
import datetime as dt
import html as htmllib
import re

import pytest
from freezegun import freeze_time
from sqlalchemy import select, text

from app.audit.models import AuditEvent
from app.auth.models import RecoveryCode, User
from app.auth.totp import code_for_step, confirm_enrolment, current_step, start_enrolment
from app.config import Config
from app.extensions import db as _db
from app.security import CSP
from tests.factories import Builder

PASSWORD = "Correct-horse-42"
START = dt.datetime(2026, 3, 2, 0, 0, 5)  # 09:00:05 KST, 5 s into a 30-second step


# -- helpers shared by the other test_totp*.py files -----------------------------------------
def page(response) -> str:
    return htmllib.unescape(response.get_data(as_text=True))


def code_now(secret: str, offset: int = 0) -> str:
    """The code an authenticator app shows now (``offset`` steps of 30 s away)."""
    return code_for_step(secret, current_step() + offset)


def enrolled(db, user: User) -> str:
    """Turn 2FA on for ``user`` through the services; returns the secret.  The code used here
    counts as used, so tests move the clock a step on before the next one."""
    start_enrolment(user)
    confirm_enrolment(user, code_now(user.totp_secret))
    db.session.commit()
    return user.totp_secret


def events(db, action: str) -> list[AuditEvent]:
    return list(db.session.execute(select(AuditEvent).where(AuditEvent.action == action)
                                   .order_by(AuditEvent.id)).scalars())


def audit_text(db) -> str:
    """Every stored column of every audit event, as one text, for 'no secret anywhere' checks."""
    rows = db.session.execute(text("SELECT * FROM audit_event")).all()
    return "\n".join(" ".join(str(value) for value in row) for row in rows)


def secret_on(html: str) -> str:
    """The key shown as the text fallback (groups of four), without the spaces."""
    match = re.search(r'data-testid="totp-secret"[^>]*>([A-Z2-7 ]+)<', html)
    assert match, "the enrolment page shows the key as text"
    return match.group(1).replace(" ", "")


def person(role: str, **fields) -> User:
    """A user of ``role``, cleared for personal data (the builder's default), in the current app."""
    return Builder().user(role, **fields)


@pytest.fixture
def required_app(make_app):
    """An app with the production default: leads, coordinators, auditors and admins need 2FA
    (ask for this fixture instead of ``app``/``db``/``client``, which make another app)."""
    app = make_app(TOTP_REQUIRED_ROLES=Config.TOTP_REQUIRED_ROLES)
    with app.app_context():
        yield app


# -- enrolment -------------------------------------------------------------------------------
def test_enrolment_page_shows_an_svg_qr_code_and_the_key_as_text(client, login, db):
    user = person("school_staff")
    login(user)
    response = client.get("/account/2fa/enrol")
    html = page(response)
    assert response.status_code == 200
    svg = re.search(r"<svg[^>]*>.*?</svg>", html, re.S).group(0)
    assert 'class="ieum-qr"' in svg and "<path" in svg
    # the CSP forbids inline style and script: the QR code uses plain SVG attributes only
    assert not re.search(r"\sstyle=", html) and "<style" not in html and "<script" not in svg
    assert "data:" not in html  # no data: image either: the QR code is markup
    assert "style-src 'self'" in CSP and response.headers["Content-Security-Policy"] == CSP
    db.session.expire_all()
    secret = db.session.get(User, user.id).totp_secret
    assert secret_on(html) == secret
    # the key appears only in the otpauth:// link and its grouped text form, nowhere else
    assert html.count(secret) == 1
    [uri] = re.findall(r'href="(otpauth://[^"]+)"', html)
    assert secret in uri and uri.startswith("otpauth://totp/") and "issuer=%EC%9D%B4%EC%9D%8C" in uri
    # stored encrypted: the column holds ciphertext, not the key
    stored = db.session.execute(text("SELECT totp_secret_enc FROM user_account WHERE id = :id"),
                                {"id": user.id}).scalar_one()
    assert stored and secret not in stored
    assert db.session.get(User, user.id).totp_enabled_at is None  # not in force until confirmed


def test_reloading_the_page_keeps_the_key_and_restart_makes_a_new_one(client, login):
    user = person("school_staff")
    login(user)
    first = secret_on(page(client.get("/account/2fa/enrol")))
    assert secret_on(page(client.get("/account/2fa/enrol"))) == first  # an app that scanned it still works
    restarted = client.post("/account/2fa/enrol/restart", follow_redirects=True)
    assert "새 QR 코드를 만들었습니다." in page(restarted) and secret_on(page(restarted)) != first


def test_a_wrong_code_does_not_enrol(client, login, db):
    user = person("school_staff")
    with freeze_time(START):
        login(user)
        secret = secret_on(page(client.get("/account/2fa/enrol")))
        wrong = str((int(code_now(secret)) + 1) % 1_000_000).zfill(6)
        response = client.post("/account/2fa/enrol", data={"code": wrong})
        assert response.status_code == 400 and "인증 코드가 맞지 않습니다." in page(response)
        letters = client.post("/account/2fa/enrol", data={"code": "abcdef"})
        assert letters.status_code == 400
    db.session.expire_all()
    assert db.session.get(User, user.id).totp_enabled_at is None
    assert events(db, "totp_enabled") == []


def test_a_right_code_enrols_and_shows_ten_recovery_codes_once(client, login, db):
    user = person("school_staff")
    with freeze_time(START):
        login(user)
        secret = secret_on(page(client.get("/account/2fa/enrol")))
        response = client.post("/account/2fa/enrol", data={"code": code_now(secret)})
        html = page(response)
        assert response.status_code == 200 and "2단계 인증을 등록했습니다." in html
        codes = re.findall(r'data-testid="recovery-code">([A-Z2-9-]+)<', html)
        assert len(codes) == 10 == len(set(codes))
        assert all(re.fullmatch(r"[A-Z2-9]{5}-[A-Z2-9]{5}", c) for c in codes)
        # the account page never shows them again, only how many are left
        account = page(client.get("/account"))
        assert "사용 중" in account and not any(c in account for c in codes)
        assert re.search(r'data-testid="recovery-codes-left">10개<', account)
        again = page(client.get("/account/2fa/enrol", follow_redirects=True))
        assert secret not in account and secret not in again and "이미 2단계 인증을 쓰고 있습니다." in again
    db.session.expire_all()
    fresh = db.session.get(User, user.id)
    assert fresh.totp_enabled_at == START and fresh.totp_last_step == int(START.timestamp()) // 30
    stored = db.session.execute(select(RecoveryCode).filter_by(user_id=user.id)).scalars().all()
    assert len(stored) == 10 and all(r.used_at is None for r in stored)
    hashes = " ".join(r.code_hash for r in stored)
    assert all(c not in hashes and c.replace("-", "") not in hashes for c in codes)
    assert all(r.code_hash.startswith("scrypt:") for r in stored)
    [enabled] = events(db, "totp_enabled")
    assert enabled.actor_id == user.id
    everything = audit_text(db)
    assert secret not in everything and not any(c.replace("-", "") in everything.replace("-", "") for c in codes)


def test_enrolment_ends_other_sessions_but_keeps_this_one(app, client, login, db):
    user = person("school_staff")
    other = app.test_client()
    with freeze_time(START):
        login(user)
        other.post("/login", data={"login": user.login, "password": PASSWORD})
        assert other.get("/cases/").status_code == 200
        secret = secret_on(page(client.get("/account/2fa/enrol")))
        client.post("/account/2fa/enrol", data={"code": code_now(secret)})
        assert client.get("/cases/").status_code == 200
        assert other.get("/cases/").status_code == 302


# -- who must enrol --------------------------------------------------------------------------
@pytest.mark.parametrize("role", ["school_lead", "district_coordinator", "auditor", "admin"])
def test_roles_that_need_2fa_are_sent_to_enrolment(required_app, role):
    user = person(role)
    client = required_app.test_client()
    with freeze_time(START):
        assert client.post("/login", data={"login": user.login, "password": PASSWORD}).status_code == 302
        blocked = client.get("/")
        assert blocked.status_code == 302 and blocked.headers["Location"] == "/account/2fa/enrol"
        assert client.get("/cases/").headers["Location"] == "/account/2fa/enrol"
        enrol = client.get("/account/2fa/enrol")
        assert enrol.status_code == 200 and "2단계 인증이 꼭 필요합니다" in page(enrol)
        account = client.get("/account")  # the account page, language and logout stay open
        assert account.status_code == 200 and 'data-testid="totp-required"' in page(account)
        assert client.post("/lang/en", data={"back": "/account"}).status_code == 302
        client.post("/account/2fa/enrol", data={"code": code_now(secret_on(page(enrol)))})
        home = client.get("/", follow_redirects=True)
        assert home.status_code == 200 and home.request.path.startswith("/home/")
        assert client.post("/logout").status_code == 302


@pytest.mark.parametrize("role", ["school_staff", "agency_coordinator", "guardian"])
def test_other_roles_may_enrol_but_need_not(required_app, role):
    user = person(role)
    client = required_app.test_client()
    client.post("/login", data={"login": user.login, "password": PASSWORD})
    home = client.get("/", follow_redirects=True)
    assert home.status_code == 200 and home.request.path.startswith("/home/")
    account = page(client.get("/account"))
    assert "사용 안 함" in account and 'data-testid="totp-enrol-link"' in account
    assert 'data-testid="totp-required"' not in account


def test_a_temporary_password_is_changed_before_enrolment(required_app):
    user = person("school_lead")
    user.password_temporary = True
    _db.session.commit()
    client = required_app.test_client()
    client.post("/login", data={"login": user.login, "password": PASSWORD})
    for path in ("/", "/account/2fa/enrol"):
        first = client.get(path)
        assert first.headers["Location"].startswith("/account")
        assert "/2fa/" not in first.headers["Location"]
    assert 'data-testid="totp-enrol-link"' not in page(client.get("/account"))
    client.post("/account/password", data={"current": PASSWORD, "new": "Another-river-stone-77",
                                           "confirm": "Another-river-stone-77"})
    assert client.get("/").headers["Location"] == "/account/2fa/enrol"


# -- recovery codes, turning it off ----------------------------------------------------------
def test_new_recovery_codes_need_a_current_code_and_replace_the_old(client, login, db):
    user = person("school_staff")
    with freeze_time(START) as clock:
        secret = enrolled(db, user)
        clock.tick(dt.timedelta(seconds=30))
        login(user)
        client.post("/login/code", data={"code": code_now(secret)})
        old = {r.code_hash for r in db.session.execute(select(RecoveryCode).filter_by(user_id=user.id)).scalars()}
        assert client.get("/account/2fa/recovery-codes").status_code == 200
        clock.tick(dt.timedelta(seconds=30))
        refused = client.post("/account/2fa/recovery-codes", data={"code": "000000"})
        assert refused.status_code == 400 and "인증 코드가 맞지 않습니다." in page(refused)
        done = client.post("/account/2fa/recovery-codes", data={"code": code_now(secret)})
    assert "새 복구 코드를 만들었습니다." in page(done)
    assert len(re.findall(r'data-testid="recovery-code"', page(done))) == 10
    db.session.expire_all()
    new = {r.code_hash for r in db.session.execute(select(RecoveryCode).filter_by(user_id=user.id)).scalars()}
    assert len(new) == 10 and not new & old
    assert len(events(db, "totp_recovery_codes_renewed")) == 1


def test_an_optional_role_turns_2fa_off_with_a_current_code(client, login, db):
    user = person("school_staff")
    with freeze_time(START) as clock:
        secret = enrolled(db, user)
        clock.tick(dt.timedelta(seconds=30))
        login(user)
        client.post("/login/code", data={"code": code_now(secret)})
        assert 'href="/account/2fa/disable"' in page(client.get("/account"))
        clock.tick(dt.timedelta(seconds=30))
        wrong = client.post("/account/2fa/disable", data={"code": "123456" if code_now(secret) != "123456" else "654321"})
        assert wrong.status_code == 400
        db.session.expire_all()
        assert db.session.get(User, user.id).totp_enabled_at is not None
        done = client.post("/account/2fa/disable", data={"code": code_now(secret)}, follow_redirects=True)
    assert "2단계 인증을 껐습니다." in page(done)
    db.session.expire_all()
    fresh = db.session.get(User, user.id)
    assert fresh.totp_enabled_at is None and fresh.totp_secret is None and fresh.totp_secret_enc is None
    assert db.session.execute(select(RecoveryCode).filter_by(user_id=user.id)).first() is None
    assert len(events(db, "totp_disabled")) == 1
    client.post("/logout")
    assert login(user).headers["Location"] == "/"  # the password alone signs in again


def test_a_role_that_needs_2fa_cannot_turn_it_off(required_app):
    user = person("school_lead")
    client = required_app.test_client()
    with freeze_time(START) as clock:
        secret = enrolled(_db, user)
        clock.tick(dt.timedelta(seconds=30))
        client.post("/login", data={"login": user.login, "password": PASSWORD})
        client.post("/login/code", data={"code": code_now(secret)})
        assert 'href="/account/2fa/disable"' not in page(client.get("/account"))
        assert client.get("/account/2fa/disable").status_code == 403
        clock.tick(dt.timedelta(seconds=30))
        assert client.post("/account/2fa/disable", data={"code": code_now(secret)}).status_code == 403
    _db.session.expire_all()
    assert _db.session.get(User, user.id).totp_enabled_at is not None
