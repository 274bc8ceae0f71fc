"""Issue 19: the app refuses to start on a key ring that does not belong to its database, naming the
key, and a ring that fits (also after rotate and retire) starts as before (real rings, real database)."""
from __future__ import annotations

from app import crypto_rotation

from freezegun import freeze_time

import datetime as dt

import pytest
from sqlalchemy import select

from app import create_app
from app.config import ConfigError
from app.crypto import KeyRing
from app.crypto_rotation import retire_key, rotate_keys
from app.db import encrypted_tables
from app.extensions import db as _db
from app.key_check import KeyCheck, mismatches

from ..conftest import base_config


def _start(app, ring_file):
    """Another process starting on the same database (make_app would clone a new one)."""
    other = create_app(base_config(SQLALCHEMY_DATABASE_URI=app.config["SQLALCHEMY_DATABASE_URI"], IEUM_KEYS=None,
                                   IEUM_KEYS_FILE=str(ring_file)))
    with other.app_context():
        _db.engine.dispose()  # no connection kept open: PostgreSQL drops the test database afterwards
    other.started_here = True
    return other


def _kids(app) -> dict[str, str]:
    with app.app_context():
        kids = dict(_db.session.execute(select(KeyCheck.kid, KeyCheck.kind)).all())
        if getattr(app, "started_here", False):
            _db.session.remove()
            _db.engine.dispose()
        return kids


def test_first_start_records_every_key_and_the_same_ring_starts_again(app, make_app, ring_path):
    assert _kids(app) == {"k1": "data", "i1": "index", "a1": "audit"}
    again = _start(app, ring_path)
    assert _kids(again) == _kids(app)


def test_a_new_ring_with_the_same_key_ids_is_refused_naming_each_key(app, make_app, tmp_path):
    """scripts/run on a machine that lost keys.json would make exactly this ring."""
    stranger = KeyRing.generate(tmp_path / "other.json")
    stranger.save()
    with pytest.raises(ConfigError) as refused:
        _start(app, stranger.path)
    message = str(refused.value.message)
    for kid in ("data key k1", "index key i1", "audit key a1"):
        assert f"{kid} in the key ring is not the key this database was written with" in message
    assert "Restore the key ring" in message


def test_a_ring_without_a_key_the_data_needs_is_refused(app, make_app, ring_path, tmp_path):
    ring = KeyRing.load_file(ring_path)
    rotate_keys(tables=encrypted_tables())  # k2 active; k1 still in the ring, recorded at the next start
    restarted = _start(app, ring_path)
    assert set(_kids(restarted)) == {"k1", "k2", "i1", "a1"}
    # the operator restores an older ring that never had k2
    old = tmp_path / "old.json"
    old.write_text(ring.to_json())
    old.chmod(0o600)
    with pytest.raises(ConfigError, match="data key k2 is missing from the key ring"):
        _start(app, old)


def test_a_retired_key_is_forgotten_so_the_ring_without_it_starts(app, make_app, ring_path):
    rotate_keys(tables=encrypted_tables())
    _db.session.remove()
    _start(app, ring_path)
    with freeze_time(dt.datetime.now(dt.timezone.utc).replace(tzinfo=None) + crypto_rotation.RETIRE_GRACE):
        retire_key("k1")
    assert "k1" not in _kids(app)
    again = _start(app, ring_path)
    assert set(_kids(again)) == {"k2", "i1", "a1"}
    with again.app_context():
        assert mismatches(again.extensions["ieum_keyring"]) == []
        _db.session.remove()
        _db.engine.dispose()


def _key_added(app) -> list[tuple[str, str | None]]:
    from app.audit.models import AuditEvent
    with app.app_context():
        rows = _db.session.execute(select(AuditEvent.object_id, AuditEvent.details)
                                   .where(AuditEvent.action == "key_added").order_by(AuditEvent.id)).all()
        _db.session.remove()
        return [tuple(r) for r in rows]


def test_a_key_saved_by_a_rotation_that_stopped_before_its_event_is_announced_at_the_next_start(
        app, make_app, ring_path):
    """rotate saves the ring before it commits ``key_added``: a crash in between left a key nobody
    was told of.  The next start records its check row and writes the event, once."""
    ring = KeyRing.load_file(ring_path)
    ring.add_audit_key()  # what the rotation had saved when the process died
    ring.save()
    assert _key_added(app) == []
    _start(app, ring_path)
    (event,) = _key_added(app)
    assert event[0] == "a2" and '"noticed_at_start":true' in event[1]
    _start(app, ring_path)
    assert len(_key_added(app)) == 1  # known now: not announced twice


def test_a_rotation_that_was_audited_is_not_announced_again(app, make_app, ring_path):
    rotate_keys(tables=encrypted_tables())
    _db.session.remove()
    _start(app, ring_path)
    assert [kid for kid, _details in _key_added(app)] == ["k2"]


def test_the_first_start_of_a_database_announces_nothing(app):
    assert _key_added(app) == []  # its keys are the ring the database was made with
