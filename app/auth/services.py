"""Account lifecycle and authentication, each change audited in the caller's transaction."""
from __future__ import annotations

import datetime as dt
import math
import unicodedata

from flask import current_app
from flask_babel import gettext
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from werkzeug.security import check_password_hash, generate_password_hash
from zxcvbn import zxcvbn

from ..audit.services import record
from ..crypto import normalise
from ..db import utcnow
from ..domain import DomainError
from ..extensions import db
from ..permissions import ROLES, role_fits_organisation
from .grants import grant_state, record_grant
from .models import LoginThrottle, Organisation, User

MIN_PASSWORD_LENGTH = 10
#: the least zxcvbn score (0–4) a password must reach: 3 = "safely unguessable" for online attacks
MIN_PASSWORD_SCORE = 3
# checked against when the login is unknown, so both paths cost the same time
_DUMMY_HASHES: dict[str, str] = {}


def hash_password(password: str) -> str:
    """scrypt with the configured cost (tests use a cheaper one; production the default)."""
    return generate_password_hash(password, method=current_app.config["PASSWORD_HASH_METHOD"])


def _dummy_hash() -> str:
    """A hash of the configured cost, checked when the login is unknown."""
    method = current_app.config["PASSWORD_HASH_METHOD"]
    if method not in _DUMMY_HASHES:
        _DUMMY_HASHES[method] = generate_password_hash("ieum-timing-equaliser", method=method)
    return _DUMMY_HASHES[method]


def check_password_policy(password: str, login: str, display_name: str) -> None:
    """At least 10 characters, not built from the user's own login or name, and not guessable:
    zxcvbn (common-password lists, keyboard patterns, repeats, sequences, dates) must rate it
    at least MIN_PASSWORD_SCORE of 4."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise DomainError(gettext("비밀번호는 %(n)d자 이상이어야 합니다.", n=MIN_PASSWORD_LENGTH), "password")
    folded = normalise(password).replace(" ", "")
    for own in (login, display_name):
        own = normalise(own or "").replace(" ", "")
        if len(own) >= 3 and own in folded:
            raise DomainError(gettext("비밀번호에 아이디나 이름을 넣을 수 없습니다."), "password")
    # zxcvbn is meant for short inputs; the first 100 characters decide any real password
    if zxcvbn(password[:100], user_inputs=[login or "", display_name or ""])["score"] < MIN_PASSWORD_SCORE:
        raise DomainError(gettext("쉽게 짐작할 수 있는 비밀번호입니다(흔히 쓰는 비밀번호, 같은 글자 반복, 1234·qwerty 같은 "
                          "연속 배열 등). 서로 관계없는 단어 서너 개에 숫자나 기호를 섞어 더 길게 만들어 주세요."),
                          "password")


def login_key(login: str) -> str:
    """The form logins are compared in: NFKC, case-folded, white space trimmed and collapsed, so
    DEMO-ADMIN and full-width ｄｅｍｏ-ａｄｍｉｎ are the same login as demo-admin."""
    return normalise(login or "")[:64]


def check_login(login: str) -> str:
    """A login of 1–64 visible characters, no control or format characters; returns it trimmed."""
    login = (login or "").strip()
    if not login or len(login) > 64:
        raise DomainError(gettext("아이디를 1~64자로 입력해 주세요."), "login")
    if any(unicodedata.category(ch) in ("Cc", "Cf", "Zl", "Zp") for ch in login):
        raise DomainError(gettext("아이디에 보이지 않는 문자(제어·서식 문자)를 쓸 수 없습니다."), "login")
    return login


def create_user(*, login: str, display_name: str, role: str, organisation: Organisation | None,
                password: str, actor: User | None = None, temporary: bool = False) -> User:
    """Create an account after checking role, organisation and password rules; ``temporary``
    marks a password someone else chose, to be changed at the first sign-in."""
    login = check_login(login)
    if role not in ROLES:
        raise DomainError(gettext("알 수 없는 역할입니다: %(role)s", role=role), "role")
    if not role_fits_organisation(role, organisation):
        raise DomainError(gettext("역할과 소속 기관의 종류가 맞지 않습니다."), "organisation")
    if db.session.execute(select(User.id).filter_by(login_key=login_key(login))).first():
        raise DomainError(gettext("이미 사용 중인 아이디입니다 (대소문자·전각 문자만 다른 아이디도 같은 아이디입니다)."), "login")
    check_password_policy(password, login, display_name)
    user = User(login=login, login_key=login_key(login), display_name=display_name.strip() or login, role=role,
                organisation=organisation, password_hash=hash_password(password),
                password_temporary=bool(temporary), password_changed_at=utcnow())
    db.session.add(user)
    db.session.flush()
    record("user_created", obj=user, actor=actor, details={"role": role, "organisation_id": user.organisation_id})
    record_grant(user, "created", actor, before={})
    return user


def set_password(user: User, password: str, actor: User | None = None) -> None:
    """Change a password after the same policy checks as at creation."""
    check_password_policy(password, user.login, user.display_name)
    user.password_hash = hash_password(password)
    user.password_changed_at, user.password_temporary = utcnow(), False
    user.session_version = (user.session_version or 1) + 1  # every other session ends
    record("password_changed", obj=user, actor=actor)


def deactivate_user(user: User, actor: User | None = None, reason: str | None = None) -> None:
    """Deactivated users are logged out on their next request and cannot log in."""
    if not user.active:
        raise DomainError(gettext("이미 비활성화된 계정입니다."), "login")
    before = grant_state(user)
    user.active = False
    user.session_version = (user.session_version or 1) + 1
    record("user_deactivated", obj=user, actor=actor)
    record_grant(user, "deactivated", actor, before=before, reason=reason)


class LoginRefused(Exception):
    """The login was refused; ``message`` is safe to show (it never says whether the login exists)."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def _locked(until: dt.datetime, now: dt.datetime) -> LoginRefused:
    # the same words for every login name, real or not, with the minutes actually left
    minutes = max(1, math.ceil((until - now).total_seconds() / 60))
    return LoginRefused(gettext(
        "비밀번호를 여러 번 잘못 입력하여 로그인이 잠겼습니다. %(minutes)d분 후에 다시 시도해 주세요.",
        minutes=minutes))


def _throttle_for_update(key: str) -> LoginThrottle | None:
    # FOR UPDATE (PostgreSQL; SQLite already holds the write lock) so parallel guesses are
    # counted one after the other instead of overwriting each other's count
    return db.session.get(LoginThrottle, key, with_for_update=True, populate_existing=True)


def _new_throttle(key: str) -> LoginThrottle:
    try:
        with db.session.begin_nested():
            throttle = LoginThrottle(login=key, failures=0)
            db.session.add(throttle)
        return throttle
    except IntegrityError:  # a parallel failure created it first: count on that row
        return _throttle_for_update(key)


def _refuse_if_locked(throttle: LoginThrottle | None, key: str, now: dt.datetime) -> None:
    if throttle is not None and throttle.locked_until and throttle.locked_until > now:
        record("login_locked", outcome="denied", object_type="login", object_id=key)
        raise _locked(throttle.locked_until, now)


def authenticate(login: str, password: str) -> User:
    """Return the user or raise LoginRefused; failures count per login name, known or not."""
    cfg = current_app.config
    # one key per account: every spelling of a login (case, width, spaces) counts on the same lock
    key = login_key(login)
    now = utcnow()
    throttle = _throttle_for_update(key)
    _refuse_if_locked(throttle, key, now)
    user = db.session.execute(select(User).filter_by(login_key=key)).scalar_one_or_none()
    ok = check_password_hash(user.password_hash if user else _dummy_hash(), password) and user is not None
    if ok and user.active:
        if user.totp_enabled_at is not None:
            # the password alone signs nobody in: the failure count and the sign-in record wait
            # for the code (app/auth/totp_login.py), or a right password would reset the lock
            # that wrong codes build up
            record("login_password_accepted", actor=user, object_type="user", object_id=user.uid)
            return user
        if throttle:
            db.session.delete(throttle)
        user.last_login_at = now
        record("login", actor=user, object_type="user", object_id=user.uid)
        return user
    if throttle is None:
        throttle = _new_throttle(key)
        _refuse_if_locked(throttle, key, now)  # parallel guesses may have locked it meanwhile
    if throttle.locked_until and throttle.locked_until <= now:
        throttle.failures, throttle.locked_until = 0, None  # the previous lock has expired
    throttle.failures += 1
    locked = throttle.failures >= cfg["LOGIN_MAX_FAILURES"]
    if locked:
        throttle.locked_until = now + dt.timedelta(minutes=cfg["LOGIN_LOCK_MINUTES"])
    record("login_failed", outcome="denied", object_type="login", object_id=key,
           details={"failures": throttle.failures, "locked": locked,
                    "inactive": bool(user is not None and ok and not user.active)})
    if locked:
        raise _locked(throttle.locked_until, now)
    raise LoginRefused(gettext("아이디 또는 비밀번호가 올바르지 않습니다."))


def find_organisation(code: str) -> Organisation | None:
    """The organisation with this code, or None."""
    return db.session.execute(select(Organisation).filter_by(code=code)).scalar_one_or_none()
