"""Flask-Login wiring, the start of a session, and how sessions end: the 30-minute idle limit,
the 12-hour absolute lifetime, and the per-user session version (logout, password change,
deactivation, role change and 2FA reset bump it, so every copy of an older cookie stops working)."""
from __future__ import annotations

import datetime as dt

from flask import current_app, flash, g, redirect, request, session, url_for
from flask_babel import gettext
from flask_login import current_user, login_user, logout_user

from ..db import utcnow
from ..extensions import db, login_manager
from ..i18n import N_
from .models import User

#: session keys that outlive a login or logout (the visitor's choice, not the user's data)
KEPT_KEYS = ("lang",)


@login_manager.user_loader
def load_user(uid: str):
    return db.session.execute(db.select(User).filter_by(uid=uid)).scalar_one_or_none()


def idle_limit() -> dt.timedelta:
    """How long a session may sit unused (SESSION_IDLE_TIMEOUT, else the cookie's lifetime)."""
    return current_app.config.get("SESSION_IDLE_TIMEOUT") or current_app.config["PERMANENT_SESSION_LIFETIME"]


def reset_session() -> None:
    """Empty the session (a fresh one for each login stops session fixation), keeping the language."""
    kept = {key: session[key] for key in KEPT_KEYS if key in session}
    session.clear()
    session.update(kept)
    # Flask-WTF caches this request's token in g; it was made for the session just cleared
    g.pop(current_app.config.get("WTF_CSRF_FIELD_NAME", "csrf_token"), None)


def absolute_limit() -> dt.timedelta:
    """How long a session may last at most, however busy (SESSION_ABSOLUTE_LIFETIME, 12 h)."""
    return current_app.config.get("SESSION_ABSOLUTE_LIFETIME") or current_app.config["PERMANENT_SESSION_LIFETIME"]


def start_session(user: User) -> None:
    """Log ``user`` in on a fresh session whose idle and absolute clocks start now."""
    reset_session()
    login_user(user)
    session.permanent = True
    now = utcnow().isoformat()
    session["last_seen"] = session["signed_in_at"] = now
    session["sv"] = user.session_version


def end_all_sessions(user: User) -> None:
    """Every session of ``user`` ends on its next request (callers commit)."""
    user.session_version = (user.session_version or 1) + 1


def end_session() -> None:
    """Log out and forget everything but the language."""
    logout_user()
    reset_session()


def init_app(app) -> None:
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message = N_("로그인이 필요합니다.")
    login_manager.login_message_category = "info"
    login_manager.localize_callback = gettext
    login_manager.session_protection = "strong"

    @app.before_request
    def check_session():
        if request.endpoint == "static" or not current_user.is_authenticated:
            return None
        now = utcnow()
        if session.get("sv") != current_user.session_version:
            # a cookie from before a logout, password change, deactivation or role change
            return _end(current_user, "session_revoked", gettext(
                "다른 곳에서 로그아웃했거나 계정 정보가 바뀌어 이 접속이 끝났습니다. 다시 로그인해 주세요."),
                outcome="denied")
        signed_in = session.get("signed_in_at")
        if not signed_in or now - dt.datetime.fromisoformat(signed_in) > absolute_limit():
            hours = int(absolute_limit().total_seconds() // 3600)
            return _end(current_user, "session_expired", gettext(
                "로그인한 지 %(hours)d시간이 지나 자동으로 로그아웃되었습니다. 다시 로그인해 주세요.", hours=hours),
                details={"limit": "absolute"})
        last_seen = session.get("last_seen")
        if last_seen and now - dt.datetime.fromisoformat(last_seen) > idle_limit():
            minutes = int(idle_limit().total_seconds() // 60)
            return _end(current_user, "session_expired", gettext(
                "%(minutes)d분 동안 사용하지 않아 자동으로 로그아웃되었습니다. 다시 로그인해 주세요.", minutes=minutes),
                details={"limit": "idle"})
        session["last_seen"] = now.isoformat()
        return None


def _end(user, action: str, message: str, outcome: str = "allowed", details: dict | None = None):
    """End this session, audited, and send the visitor to the login page with why."""
    from ..audit.services import record
    record(action, actor=user, object_type="user", object_id=user.uid, outcome=outcome, details=details)
    db.session.commit()
    end_session()
    flash(message, "info")
    return redirect(url_for("auth.login", next=request.path))
