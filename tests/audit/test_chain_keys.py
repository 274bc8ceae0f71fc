"""The keyed chain: HMAC under the ring's audit key, audit-key rotation without rewriting history,
and the one-time re-seal of a legacy SHA-256 chain by migration 0008 (SQLite and PostgreSQL)."""
from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import os

import pytest
import sqlalchemy as sa
from flask_migrate import upgrade
from sqlalchemy import select, text

from app.audit.chain import verify_chain
from app.audit.models import GENESIS_HASH, AuditEvent
from app.audit.seal import RESEAL_ACTION
from app.audit.services import chain_hash, encode_canonical, keyring, record
from app.crypto import KeyRing
from app.crypto_cli import keys
from click.testing import CliRunner
from app.extensions import db as _db
from tests.test_migrations import empty_app, empty_database_url  # noqa: F401  (fixtures)

from . import drop_append_only_triggers, fill_chain


def test_new_events_are_hmac_sealed_with_the_active_audit_key(app, db):
    event = record("case_viewed", object_type="support_case", object_id="c1")
    db.session.commit()
    kid, key = keyring().audit_key()
    assert event.key_id == kid == "a1"
    values = {f: getattr(event, f) for f in AuditEvent.HASHED_FIELDS}
    message = encode_canonical([kid, event.prev_hash, event.occurred_at.strftime("%Y-%m-%d %H:%M:%S.%f"),
                                *[values[f] for f in AuditEvent.HASHED_FIELDS[1:]]])
    assert event.hash == hmac.new(key, message.encode(), hashlib.sha256).hexdigest()
    assert event.hash != chain_hash(event.prev_hash, values)  # not the unkeyed SHA-256


def test_verify_needs_the_key_that_sealed_the_events(make_app, keys_json):
    app = make_app()
    with app.app_context():
        fill_chain(50)
        _db.session.commit()
        assert verify_chain().ok
        # the same database verified with another ring's audit key: every event fails
        app.extensions["ieum_keyring"].audit_keys["a1"] = KeyRing.generate().audit_keys["a1"]
        result = verify_chain()
        assert not result.ok and result.first_broken_id == 1 and "해시 불일치" in result.message


def test_rotating_the_audit_key_keeps_old_events_verifiable(app, db):
    old = [record("case_viewed", object_type="support_case", object_id=f"o{i}") for i in range(3)]
    db.session.commit()
    ring = keyring()
    assert ring.add_audit_key() == "a2"
    new = [record("case_viewed", object_type="support_case", object_id=f"n{i}") for i in range(3)]
    db.session.commit()
    assert {e.key_id for e in old} == {"a1"} and {e.key_id for e in new} == {"a2"}
    result = verify_chain()
    assert result.ok and result.count == 6
    # history needs the old key: without it the first old event no longer verifies
    ring.audit_keys.pop("a1")
    assert verify_chain().first_broken_id == old[0].id


def test_keys_rotate_audit_adds_a_key_and_audits_it(make_app, keys_json, tmp_path):
    path = tmp_path / "keys.json"
    path.write_text(keys_json)
    os.chmod(path, 0o600)
    app = make_app(IEUM_KEYS=None, IEUM_KEYS_FILE=str(path))
    with app.app_context():
        record("case_viewed", object_type="support_case", object_id="before")
        _db.session.commit()
        result = app.test_cli_runner().invoke(keys, ["rotate", "--audit"])
        assert result.exit_code == 0, result.output
        assert "new audit key a2 is active" in result.output
        saved = json.loads(path.read_text())
        assert saved["audit_active"] == "a2" and set(saved["audit_keys"]) == {"a1", "a2"}
        assert saved["keys"] == json.loads(keys_json)["keys"]  # data keys untouched, nothing re-encrypted
        added = _db.session.execute(select(AuditEvent).filter_by(action="key_added")).scalar_one()
        assert (added.object_id, added.key_id) == ("a2", "a2")
        assert verify_chain().ok
        status = app.test_cli_runner().invoke(keys, ["status"])
        assert "active audit key: a2" in status.output


def test_keys_init_creates_an_audit_key(tmp_path):
    path = tmp_path / "keys.json"
    assert CliRunner().invoke(keys, ["init", "--path", str(path)]).exit_code == 0
    ring = KeyRing.load_file(path)
    assert ring.audit_active == "a1" and ring.audit_key()[0] == "a1"


def test_an_old_ring_without_an_audit_key_still_loads_and_says_what_to_run(keys_json):
    data = json.loads(keys_json)
    del data["audit_active"], data["audit_keys"]
    ring = KeyRing.from_json(json.dumps(data))
    with pytest.raises(Exception, match="flask keys rotate --audit"):
        ring.audit_key()


# -- the re-seal of a legacy chain (migration 0008) ----------------------------------------------

LEGACY = sa.table("audit_event", *(sa.column(c, sa.DateTime if c == "occurred_at" else None)
                                   for c in (*AuditEvent.HASHED_FIELDS, "prev_hash", "hash")))
SECRET_REASON = "아버지의 폭행으로 얼굴에 멍, 집에 보내면 위험"


def _legacy_events(n: int = 12) -> list[dict]:
    """A SHA-256 chain as releases before 0008 wrote it, one emergency override with its text."""
    prev, out = GENESIS_HASH, []
    for i in range(n):
        values = {"occurred_at": dt.datetime(2026, 3, 1, 9, 0, i), "actor_id": 3, "actor_login": "lead",
                  "role": "school_lead", "organisation_id": 5, "ip": "10.0.0.1",
                  "action": "referral_sent" if i == 4 else "case_viewed", "object_type": "referral",
                  "object_id": f"r-{i}", "subject_ref": "s-1", "outcome": "allowed",
                  "reason": SECRET_REASON if i == 4 else None, "request_id": None,
                  "details": '{"from":"draft","override":true,"to":"sent"}' if i == 4 else None}
        values["prev_hash"] = prev
        prev = values["hash"] = chain_hash(prev, values)
        out.append(values)
    return out


def _legacy_walk() -> tuple[int, str]:
    """Walk the events without a key id the pre-0008 way; returns (count, head)."""
    prev, count = GENESIS_HASH, 0
    for event in _db.session.execute(select(AuditEvent).where(AuditEvent.key_id.is_(None))
                                     .order_by(AuditEvent.id)).scalars():
        assert event.prev_hash == prev
        assert chain_hash(prev, {f: getattr(event, f) for f in AuditEvent.HASHED_FIELDS}) == event.hash
        prev, count = event.hash, count + 1
    return count, prev


def test_reseal_keys_the_chain_and_keeps_the_legacy_chain_verifiable(empty_app):
    upgrade(revision="0007")
    legacy = _legacy_events()
    with _db.engine.begin() as conn:
        conn.execute(LEGACY.insert(), legacy)
    upgrade()
    # the plaintext reason is gone from every column of the trail
    with _db.engine.connect() as conn:
        dump = " ".join(str(v) for row in conn.execute(text("SELECT * FROM audit_event")) for v in row)
    assert SECRET_REASON not in dump and "폭행" not in dump
    redacted = _db.session.execute(select(AuditEvent).filter_by(action="referral_sent")).scalar_one()
    assert redacted.reason == "기타" and json.loads(redacted.details)["override_category"] == "other"
    # the legacy prefix still verifies with SHA-256 up to the switch, where the keyed event follows
    count, head = _legacy_walk()
    assert count == len(legacy)
    seal = _db.session.execute(select(AuditEvent).filter_by(action=RESEAL_ACTION)).scalar_one()
    details = json.loads(seal.details)
    assert (seal.key_id, seal.prev_hash, seal.actor_login) == ("a1", head, "migration:0008")
    assert details["legacy_events"] == 12 and details["redacted_override_reasons"] == 1
    assert details["legacy_head_before"] == legacy[-1]["hash"] and details["legacy_head"] == head
    assert details["redacted_ids"] == [redacted.id]
    assert verify_chain().ok
    record("case_viewed", object_type="support_case", object_id="after")
    _db.session.commit()
    result = verify_chain()
    assert result.ok and result.count == 14


def test_a_rehashed_legacy_prefix_breaks_at_the_reseal_event(empty_app):
    upgrade(revision="0007")
    with _db.engine.begin() as conn:
        conn.execute(LEGACY.insert(), _legacy_events())
    upgrade()
    seal = _db.session.execute(select(AuditEvent).filter_by(action=RESEAL_ACTION)).scalar_one()
    seal_id = seal.id
    # an attacker rewrites the legacy prefix and recomputes its SHA-256 chain: no key needed there,
    # but the keyed re-seal event still names the old head
    drop_append_only_triggers(_db.session)
    prev = GENESIS_HASH
    for event in _db.session.execute(select(AuditEvent).where(AuditEvent.key_id.is_(None))
                                     .order_by(AuditEvent.id)).scalars().all():
        values = {f: getattr(event, f) for f in AuditEvent.HASHED_FIELDS} | {"actor_login": "someone-else"}
        digest = chain_hash(prev, values)
        _db.session.execute(text("UPDATE audit_event SET actor_login = 'someone-else', prev_hash = :p, hash = :h "
                                 "WHERE id = :id"), {"p": prev, "h": digest, "id": event.id})
        prev = digest
    _db.session.commit()
    result = verify_chain()
    assert (result.ok, result.first_broken_id) == (False, seal_id) and "이어지지 않습니다" in result.message


def test_a_new_database_needs_no_reseal_event(empty_app):
    upgrade()
    assert _db.session.execute(select(sa.func.count()).select_from(AuditEvent)).scalar() == 0


def _pg() -> bool:
    return _db.engine.dialect.name == "postgresql"


def test_migration_0008_asks_for_an_audit_key_first(empty_database_url, keys_json):  # noqa: F811
    from app import create_app
    from app.crypto import KeyRingError
    from tests.conftest import base_config
    data = json.loads(keys_json)
    del data["audit_active"], data["audit_keys"]
    app = create_app(base_config(SQLALCHEMY_DATABASE_URI=empty_database_url, IEUM_KEYS=json.dumps(data)))
    with app.app_context():
        try:
            upgrade(revision="0007")
            with pytest.raises(SystemExit):  # flask-migrate logs the KeyRingError and exits 1
                upgrade()
            assert "key_id" not in {c["name"] for c in sa.inspect(_db.engine).get_columns("audit_event")}
            with pytest.raises(KeyRingError, match="flask keys rotate --audit"):
                app.extensions["ieum_keyring"].audit_key()
            app.extensions["ieum_keyring"].add_audit_key()  # what 'flask keys rotate --audit' saves
            upgrade()
            assert {c["name"] for c in sa.inspect(_db.engine).get_columns("audit_event")} >= {"key_id"}
        finally:
            _db.session.remove()
            _db.engine.dispose()
