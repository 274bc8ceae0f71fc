"""The admin's 2FA reset (a lost phone): a grant change with the reason, every session of the
user ends (checked with requests outside the test's app context, as in production), the
recovery codes go, and a role that needs 2FA must enrol again at the next sign-in."""
import datetime as dt

import pytest
from freezegun import freeze_time
from sqlalchemy import select

from app.auth.grants import grant_history
from app.auth.models import GrantChange, RecoveryCode, User
from app.auth.totp import reset_totp
from app.config import Config
from app.domain import DomainError, NotPermitted
from app.extensions import db as _db

from .test_totp import PASSWORD, START, audit_text, code_now, enrolled, events, person


@pytest.fixture
def setup(make_app):
    """An app where leads need 2FA, an enrolled lead (its secret) and an admin, made in a short
    app context so that requests afterwards run outside one."""
    app = make_app(TOTP_REQUIRED_ROLES=Config.TOTP_REQUIRED_ROLES)
    with app.app_context(), freeze_time(START):
        lead = person("school_lead")
        secret = enrolled(_db, lead)
        admin = person("admin")
        ids = lead.id, lead.login, admin.id
    return app, secret, *ids


def sign_in(client, login, secret):
    assert client.post("/login", data={"login": login, "password": PASSWORD}).headers["Location"] == "/login/code"
    assert client.post("/login/code", data={"code": code_now(secret)}).status_code == 302


def test_an_admin_reset_ends_sessions_and_the_user_enrols_again(setup):
    app, secret, lead_id, login, admin_id = setup
    client = app.test_client()
    with freeze_time(START) as clock:
        clock.tick(dt.timedelta(seconds=30))
        sign_in(client, login, secret)
        assert client.get("/account").status_code == 200
        with app.app_context():
            lead, admin = _db.session.get(User, lead_id), _db.session.get(User, admin_id)
            reset_totp(lead, admin, reason="휴대전화 분실 신고 (2026. 3. 2. 전화)")
            _db.session.commit()
        # the open session ends on its next request, audited
        ended = client.get("/account")
        assert ended.status_code == 302 and ended.headers["Location"].startswith("/login")
        # the next sign-in needs the password only, then enrolment before anything else
        clock.tick(dt.timedelta(seconds=30))
        assert client.post("/login", data={"login": login, "password": PASSWORD}).headers["Location"] == "/"
        assert client.get("/").headers["Location"] == "/account/2fa/enrol"
        assert client.get("/account/2fa/enrol").status_code == 200
    with app.app_context():
        lead = _db.session.get(User, lead_id)
        assert lead.totp_enabled_at is None and lead.totp_last_step is None
        # the old key was dropped; the enrolment page just made a new one
        assert lead.totp_secret not in (None, secret)
        assert _db.session.execute(select(RecoveryCode).filter_by(user_id=lead_id)).first() is None
        [change] = _db.session.execute(grant_history(lead_id).where(GrantChange.kind == "totp_reset")).scalars()
        assert change.actor_id == admin_id and change.reason == "휴대전화 분실 신고 (2026. 3. 2. 전화)"
        assert change.before["totp"] is True and change.after["totp"] is False
        [reset] = events(_db, "totp_reset")
        assert reset.actor_id == admin_id
        assert [e.outcome for e in events(_db, "session_revoked")] == ["denied"]
        everything = audit_text(_db)
        assert secret not in everything and "휴대전화 분실" not in everything  # the reason stays in its encrypted column


def test_a_reset_needs_a_reason_and_an_admin(setup):
    app, _secret, lead_id, _login, admin_id = setup
    with app.app_context():
        lead, admin = _db.session.get(User, lead_id), _db.session.get(User, admin_id)
        with pytest.raises(DomainError) as refused:
            reset_totp(lead, admin, reason="  ")
        assert refused.value.message == "초기화 사유를 입력해 주세요." and refused.value.field == "reason"
        with pytest.raises(NotPermitted):
            reset_totp(lead, person("school_lead", organisation=lead.organisation), reason="분실")
        _db.session.rollback()
        assert _db.session.get(User, lead_id).totp_enabled_at is not None
        assert _db.session.execute(select(GrantChange).filter_by(kind="totp_reset")).first() is None


def test_a_reset_of_an_account_without_2fa_is_refused(setup):
    app, *_rest, admin_id = setup
    with app.app_context():
        staff = person("school_staff")
        with pytest.raises(DomainError) as refused:
            reset_totp(staff, _db.session.get(User, admin_id), reason="분실")
        assert "등록하지 않은 계정" in refused.value.message


def test_the_command_line_may_reset(setup):
    """actor None is the operator (a command-line tool), as for the other grant changes."""
    app, _secret, lead_id, *_rest = setup
    with app.app_context():
        reset_totp(_db.session.get(User, lead_id), None, reason="관리자 계정 복구")
        _db.session.commit()
        [change] = _db.session.execute(grant_history(lead_id).where(GrantChange.kind == "totp_reset")).scalars()
        assert change.actor_id is None


def test_operator_resets_a_second_factor_from_the_command_line(app, build, db):
    """A sole admin who lost their phone: `flask users totp-reset LOGIN --reason …` (a grant change)."""
    from app.auth.models import GrantChange
    user = build.user("admin", login="only-admin")
    user.totp_secret, user.totp_enabled_at = "JBSWY3DPEHPK3PXP", db.func.now()
    db.session.commit()
    runner = app.test_cli_runner()
    missing = runner.invoke(args=["users", "totp-reset", "only-admin"])
    assert missing.exit_code != 0  # the reason is required
    done = runner.invoke(args=["users", "totp-reset", "ONLY-ADMIN", "--reason", "휴대전화 분실"])
    assert done.exit_code == 0, done.output
    db.session.expire_all()
    assert user.totp_enabled_at is None and user.totp_secret is None
    [change] = db.session.execute(db.select(GrantChange).filter_by(kind="totp_reset")).scalars()
    assert change.actor_id is None and change.reason == "휴대전화 분실"
