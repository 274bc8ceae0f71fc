"""Flask-Login wiring and the 30-minute idle timeout."""
from __future__ import annotations

import datetime as dt

from flask import flash, redirect, request, session, url_for
from flask_login import current_user, logout_user

from ..db import utcnow
from ..extensions import db, login_manager
from .models import User


@login_manager.user_loader
def load_user(uid: str):
    return db.session.execute(db.select(User).filter_by(uid=uid)).scalar_one_or_none()


def init_app(app) -> None:
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message = "로그인이 필요합니다."
    login_manager.session_protection = "strong"

    @app.before_request
    def expire_idle_session():
        if request.endpoint == "static" or not current_user.is_authenticated:
            return None
        now = utcnow()
        last_seen = session.get("last_seen")
        limit = app.config["PERMANENT_SESSION_LIFETIME"]
        if last_seen and now - dt.datetime.fromisoformat(last_seen) > limit:
            from ..audit.services import record
            record("session_expired", actor=current_user, object_type="user", object_id=current_user.uid)
            db.session.commit()
            logout_user()
            session.clear()
            flash("30분 동안 사용하지 않아 자동으로 로그아웃되었습니다. 다시 로그인해 주세요.", "info")
            return redirect(url_for("auth.login", next=request.path))
        session["last_seen"] = now.isoformat()
        return None
