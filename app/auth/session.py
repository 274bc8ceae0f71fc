"""Flask-Login wiring, the start of a session, and the 30-minute idle timeout."""
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


def start_session(user: User) -> None:
    """Log ``user`` in on a fresh session whose idle clock starts now."""
    reset_session()
    login_user(user)
    session.permanent = True
    session["last_seen"] = utcnow().isoformat()


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
    def expire_idle_session():
        if request.endpoint == "static" or not current_user.is_authenticated:
            return None
        now = utcnow()
        last_seen = session.get("last_seen")
        if last_seen and now - dt.datetime.fromisoformat(last_seen) > idle_limit():
            from ..audit.services import record
            record("session_expired", actor=current_user, object_type="user", object_id=current_user.uid)
            db.session.commit()
            end_session()
            minutes = int(idle_limit().total_seconds() // 60)
            flash(gettext("%(minutes)d분 동안 사용하지 않아 자동으로 로그아웃되었습니다. 다시 로그인해 주세요.",
                          minutes=minutes), "info")
            return redirect(url_for("auth.login", next=request.path))
        session["last_seen"] = now.isoformat()
        return None
