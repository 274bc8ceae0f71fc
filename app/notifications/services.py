"""Creating and reading notifications; callers commit."""
from __future__ import annotations

from sqlalchemy import select

from ..db import utcnow
from ..extensions import db
from .models import Notification


def notify(user_id: int, kind: str, text: str, *, link: str | None = None, case_id: int | None = None,
           guardian_id: int | None = None, dedupe_key: str | None = None) -> Notification | None:
    """Queue one alert; with ``dedupe_key`` a second call with the same key does nothing."""
    if dedupe_key and db.session.execute(select(Notification.id).filter_by(dedupe_key=dedupe_key)).first():
        return None
    note = Notification(user_id=user_id, kind=kind, link=link, case_id=case_id, guardian_id=guardian_id,
                        dedupe_key=dedupe_key)
    note.text = text
    db.session.add(note)
    return note


def unread_for(user, limit: int = 20) -> list[Notification]:
    """The user's unread alerts, newest first."""
    return list(db.session.execute(
        select(Notification).where(Notification.user_id == user.id, Notification.read_at.is_(None))
        .order_by(Notification.created_at.desc(), Notification.id.desc()).limit(limit)).scalars())


def mark_read(note: Notification, user) -> None:
    """Dismiss one of the user's own alerts."""
    if note.user_id != user.id:
        raise PermissionError("not your notification")
    note.read_at = utcnow()
