"""A form is acted on once: a double click, a POST resent after a timeout or a second tab does
not write the note, the record or the request twice.

Every form that protects a change (CSRF on) carries a one-time ``submission`` token, made when
the form is shown (``form_fields.BaseForm``).  ``form_actions.save_or_show`` claims the
submission in the change's own transaction: the first inserts a row keyed by a digest of who
sent it, where to, the token and every field; a later identical one finds the row, changes
nothing and is sent where the first was sent, with "이미 처리된 요청입니다".  The fields are part
of the key because one form may be drawn on a page for several rows (one token, a different row
id or text each): only the very same request is a repeat.  A refused submission rolls its claim back with everything else, so the
corrected form can be sent again.  On PostgreSQL two simultaneous submissions meet on the primary
key (the second waits for the first's commit, then finds its row); on SQLite the write lock
serialises them.

A form whose success shows a page instead of redirecting (a password or recovery codes shown
once) sets ``once = False``: a replay would hide what only the first answer shows.  A missing or
malformed token (an old page, a script) is not refused: the token guards against repeats, not
against anyone.  Tokens are kept a day; each new one sweeps the expired.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import re
import secrets
import time
from urllib.parse import urlsplit

from flask import Flask, abort, flash, g, has_request_context, redirect, request, url_for
from flask_babel import gettext
from flask_login import current_user
from sqlalchemy import DateTime, ForeignKey, String, delete, select, update
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlalchemy.orm import Mapped, mapped_column

from .db import utcnow
from .extensions import db

log = logging.getLogger(__name__)

FIELD = "submission"
KEPT_FOR = dt.timedelta(days=1)
_TOKEN = re.compile(r"[A-Za-z0-9_-]{32}")
_CLAIMED_KEY = "ieum_submission"
NOTING_POLLS, NOTING_PAUSE = 40, 0.05  # a repeat waits at most 2 s for the first's redirect


class FormSubmission(db.Model):
    """One form submission that changed something, and where its answer sent the browser."""

    __tablename__ = "form_submission"
    digest: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), nullable=False)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, nullable=False, default=utcnow, index=True)
    location: Mapped[str | None] = mapped_column(String(500))


def new_token() -> str:
    return secrets.token_urlsafe(24)  # 32 characters


def _digest(form) -> str | None:
    """The key of this submission of ``form``, if the form takes part and sent a token."""
    if not has_request_context() or not getattr(form, "once", False) or FIELD not in form:
        return None
    if not _TOKEN.fullmatch(request.form.get(form[FIELD].name, "")):
        return None
    fields = sorted(request.form.items(multi=True))
    sent = json.dumps([current_user.id, request.path, fields], ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(sent.encode()).hexdigest()


def once(form) -> None:
    """Before a form's change, in its transaction: a repeat of a submission that already changed
    something answers at once (a redirect where the first went); a first one claims its token."""
    earlier = claim(form)
    if earlier is not None:
        replay(earlier)


def claim(form) -> FormSubmission | None:
    """Claim the form's token inside the current transaction: None when this is its first
    submission (or it carries none); the earlier submission's row when it was sent before."""
    if not current_user.is_authenticated or (digest := _digest(form)) is None:
        return None
    earlier = db.session.get(FormSubmission, digest, populate_existing=True)
    if earlier is not None:
        return earlier
    now = utcnow()
    try:
        with db.session.begin_nested():
            db.session.execute(delete(FormSubmission).where(FormSubmission.created_at < now - KEPT_FOR))
            db.session.add(FormSubmission(digest=digest, user_id=current_user.id, created_at=now))
    except IntegrityError:  # a simultaneous identical submission committed first
        return db.session.get(FormSubmission, digest, populate_existing=True) or FormSubmission(digest=digest)
    g.setdefault(_CLAIMED_KEY, digest)
    return None


def replay(earlier: FormSubmission):
    """Answer a repeated submission: nothing changed, go where the first answer went."""
    from .transactions import abandon_request
    location, digest = earlier.location, earlier.digest
    db.session.rollback()
    abandon_request()  # read on without the write lock: the first may still be noting where it went
    location = location or _location_when_noted(digest)
    flash(gettext("이미 처리된 요청입니다. 같은 내용을 두 번 저장하지 않았습니다."), "info")
    abort(redirect(location or _referrer() or url_for("home.index"), 303))


def _location_when_noted(digest: str) -> str | None:
    """A repeat sent at the same moment as the first meets its row just after its commit and just
    before its redirect is noted (a few milliseconds): wait for it, briefly."""
    for _ in range(NOTING_POLLS):
        location = db.session.scalar(select(FormSubmission.location).where(FormSubmission.digest == digest))
        db.session.rollback()  # the next look takes a new snapshot
        if location:
            return location
        time.sleep(NOTING_PAUSE)
    return None  # the first answered with a page, not a redirect: back to the form's page


def _local(location: str | None) -> str | None:
    """A path on this site, or None: never send anyone elsewhere."""
    if not location:
        return None
    parts = urlsplit(location)
    if parts.netloc and parts.netloc != request.host:
        return None
    path = parts.path + (f"?{parts.query}" if parts.query else "")
    return path if path.startswith("/") and not path.startswith("//") and len(path) <= 500 else None


def _referrer() -> str | None:
    return _local(request.referrer)


def _remember_location(response):
    """after_request: where the first submission's redirect went, for its replays."""
    digest = g.pop(_CLAIMED_KEY, None)
    location = _local(response.location) if digest and response.status_code in (301, 302, 303) else None
    if location is None:
        return response
    try:
        db.session.execute(update(FormSubmission).where(FormSubmission.digest == digest).values(location=location))
        db.session.commit()
    except SQLAlchemyError as exc:  # the change itself is committed; a replay then goes back a page
        db.session.rollback()
        log.warning("where submission went was not kept: %s", type(exc).__name__)
    return response


def init_app(app: Flask) -> None:
    app.after_request(_remember_location)
