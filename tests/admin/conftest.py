"""Fixtures for the admin screens: a signed-in admin, target accounts, audit look-ups."""
from __future__ import annotations

import json
import re

import pytest
from flask import g
from sqlalchemy import select

from app.audit.models import AuditEvent
from app.auth.models import GrantChange, User

from ..factories import DEFAULT_PASSWORD

NEW_PASSWORD = "Quiet-lantern-harbour-58"


def sign_in(app, user, password: str = DEFAULT_PASSWORD):
    """A new client signed in as ``user`` (drops the user Flask-Login cached in the shared ``g``)."""
    g.pop("_login_user", None)
    other = app.test_client()
    response = other.post("/login", data={"login": user.login, "password": password})
    assert response.status_code == 302, response.get_data(as_text=True)[:500]
    return other


@pytest.fixture
def admin(build, login):
    """A system administrator, signed in on ``client``."""
    user = build.user("admin", login="root-admin", display_name="관리자")
    assert login(user).status_code == 302
    return user


def events(db, action: str) -> list[AuditEvent]:
    return list(db.session.execute(select(AuditEvent).filter_by(action=action).order_by(AuditEvent.id)).scalars())


def grants(db, user: User, kind: str | None = None) -> list[GrantChange]:
    query = select(GrantChange).filter_by(user_id=user.id).order_by(GrantChange.id)
    if kind:
        query = query.filter_by(kind=kind)
    return list(db.session.execute(query).scalars())


def shown_password(html: str) -> str:
    """The temporary password on the show-once page."""
    match = re.search(r'data-testid="temporary-password">([^<]+)<', html)
    assert match, "no temporary password on the page"
    return match.group(1)


def all_audit_text(db) -> str:
    """Every audit event's reason and details, to prove secrets never reach them."""
    rows = db.session.execute(select(AuditEvent.reason, AuditEvent.details, AuditEvent.object_id)).all()
    return json.dumps([list(r) for r in rows], ensure_ascii=False)


def fresh(db, user: User) -> User:
    """The user as stored now (the request committed in its own way)."""
    db.session.expire_all()
    return db.session.get(User, user.id)
