"""Notification screens: dismissing one of the user's own alerts from a home page."""
from __future__ import annotations

from flask import redirect, url_for
from flask_login import current_user, login_required
from sqlalchemy import select

from ..cases.loaders import UID_MAX, deny_not_found
from ..extensions import db
from . import bp
from .models import Notification
from .services import mark_read as mark_note_read


@bp.post("/<uid>/read")
@login_required
def mark_read(uid: str):
    """확인: mark one of the user's own alerts read; someone else's is an audited 404."""
    note = None
    if uid and len(uid) <= UID_MAX:
        note = db.session.execute(select(Notification).where(Notification.uid == uid)).scalar_one_or_none()
    if note is None or note.user_id != current_user.id:
        deny_not_found(Notification.__tablename__, uid)
    mark_note_read(note, current_user)
    db.session.commit()
    return redirect(url_for("home.index"))
