"""The request id is the server's; a client's X-Request-ID is kept only as a cleaned audit detail."""
from __future__ import annotations

import json
import re

from sqlalchemy import select

from app.audit.models import AuditEvent
from app.security import client_request_id

HEX32 = re.compile(r"[0-9a-f]{32}")


def _last_event(db) -> AuditEvent:
    db.session.expire_all()
    return db.session.execute(select(AuditEvent).order_by(AuditEvent.id.desc()).limit(1)).scalar_one()


def _failed_login(client, header: str | None):
    headers = {"X-Request-ID": header} if header is not None else {}
    return client.post("/login", data={"login": "nobody", "password": "wrong-password-1"}, headers=headers)


def test_every_request_gets_a_fresh_server_id(client):
    ids = {client.get("/login").headers["X-Request-ID"] for _ in range(3)}
    assert len(ids) == 3 and all(HEX32.fullmatch(i) for i in ids)


def test_a_clients_id_is_never_the_request_id(client, db):
    response = _failed_login(client, "proxy-123")
    event = _last_event(db)
    assert event.action == "login_failed"
    assert HEX32.fullmatch(event.request_id) and event.request_id == response.headers["X-Request-ID"]
    assert event.request_id != "proxy-123"
    assert json.loads(event.details)["client_request_id"] == "proxy-123"


def test_a_long_hostile_client_id_is_cleaned_and_cut(client, db):
    sent = "\x01=HYPERLINK(\"x\")\x1b[31m" + "a" * 200
    _failed_login(client, sent)
    kept = json.loads(_last_event(db).details)["client_request_id"]
    assert len(kept) == 64
    assert not any(not ch.isprintable() for ch in kept)
    assert kept.startswith('=HYPERLINK("x")[31maaa')


def test_without_a_client_id_no_detail_is_added(client, db):
    _failed_login(client, None)
    details = json.loads(_last_event(db).details or "{}")
    assert "client_request_id" not in details


def test_a_client_id_of_only_control_characters_is_dropped(client, db):
    _failed_login(client, "\x00\x1b\x7f")
    assert "client_request_id" not in json.loads(_last_event(db).details or "{}")


def test_client_request_id_cleaning():
    assert client_request_id(None) is None
    assert client_request_id("") is None
    assert client_request_id("a\u202eb\tc") == "abc"  # bidi override and tab are not printable
    assert client_request_id("x" * 65) == "x" * 64
