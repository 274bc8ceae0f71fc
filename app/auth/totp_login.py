"""The second step of signing in: after the password, a code from the app (or a recovery code).

Between the two steps the session holds only a pending marker (the user's uid, the session
version and the time), never a signed-in user; it lapses after 5 minutes.  Wrong codes count on
the same per-account lock as wrong passwords (authenticate's LoginThrottle row, keyed by the
user's login_key), and a locked account is refused here too.
"""
from __future__ import annotations

import datetime as dt

from flask import current_app, session
from flask_babel import gettext
from sqlalchemy import select

from ..audit.services import record
from ..db import utcnow
from ..extensions import db
from .models import User
from .services import LoginRefused, _locked, _new_throttle, _refuse_if_locked, _throttle_for_update
from .session import reset_session
from .totp import use_recovery_code, verify_totp

PENDING_KEY = "totp_pending"
#: how long the code step waits after a right password
PENDING_LIFETIME = dt.timedelta(minutes=5)


def begin_second_step(user: User, next_path: str | None) -> None:
    """Remember, for 5 minutes, that ``user`` gave the right password (no session starts yet)."""
    reset_session()  # a fresh session: nothing from before the password travels on
    session[PENDING_KEY] = {"uid": user.uid, "sv": user.session_version, "at": utcnow().isoformat(),
                            "next": next_path or ""}


def pending_user() -> tuple[User | None, str]:
    """The user waiting for the code step and where they were going, or (None, why) when there is
    none or it lapsed ("missing" / "expired")."""
    marker = session.get(PENDING_KEY)
    if not isinstance(marker, dict) or "uid" not in marker:
        return None, "missing"
    try:
        issued = dt.datetime.fromisoformat(marker["at"])
    except (KeyError, TypeError, ValueError):
        return None, "missing"
    if utcnow() - issued > PENDING_LIFETIME:
        return None, "expired"
    user = db.session.execute(select(User).filter_by(uid=marker["uid"])).scalar_one_or_none()
    # a deactivation, password reset or 2FA reset since the password step ends the marker too
    if user is None or not user.active or user.session_version != marker.get("sv") or user.totp_enabled_at is None:
        return None, "missing"
    return user, marker.get("next") or ""


def forget_pending() -> None:
    """Drop the pending marker (lapsed, or replaced by a real session)."""
    session.pop(PENDING_KEY, None)


def check_second_step(user: User, code: str) -> str:
    """Accept a current TOTP code or an unused recovery code, finishing the sign-in (the lock
    clears, the sign-in is recorded); returns which one was used.  Raise LoginRefused otherwise,
    counting a failure on the account's lock."""
    cfg = current_app.config
    key, now = user.login_key, utcnow()
    throttle = _throttle_for_update(key)
    _refuse_if_locked(throttle, key, now)
    # the user row is locked too, so two requests cannot both use the same step or code
    user = db.session.get(User, user.id, with_for_update=True, populate_existing=True)
    used = "totp" if verify_totp(user, code) else "recovery_code" if use_recovery_code(user, code) else None
    if used:
        if throttle:
            db.session.delete(throttle)
        user.last_login_at = now
        record("login", actor=user, object_type="user", object_id=user.uid, details={"second_factor": used})
        return used
    # the same counting as a wrong password in authenticate(), on the same row
    if throttle is None:
        throttle = _new_throttle(key)
        _refuse_if_locked(throttle, key, now)
    if throttle.locked_until and throttle.locked_until <= now:
        throttle.failures, throttle.locked_until = 0, None
    throttle.failures += 1
    locked = throttle.failures >= cfg["LOGIN_MAX_FAILURES"]
    if locked:
        throttle.locked_until = now + dt.timedelta(minutes=cfg["LOGIN_LOCK_MINUTES"])
    record("login_failed", outcome="denied", object_type="login", object_id=key,
           details={"failures": throttle.failures, "locked": locked, "step": "code"})
    if locked:
        raise _locked(throttle.locked_until, now)
    raise LoginRefused(gettext("인증 코드가 올바르지 않습니다. 앱에 지금 표시된 6자리 숫자나 복구 코드를 입력해 주세요."))
