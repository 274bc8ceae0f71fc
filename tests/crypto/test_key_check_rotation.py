"""Issue 19: start-up refuses a ring that lacks a key the data needs, naming each key, also when no
process restarted since the rotation that made the key (the rotation records its check value)."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from app.config import ConfigError
from app.crypto import KeyRing
from app.crypto_rotation import rotate_audit_key, rotate_keys
from app.key_check import KeyCheck

from .conftest import start_app_with_ring



def test_rotation_records_its_keys_so_the_ring_from_before_is_refused_naming_them(app, db, ring_path, tmp_path):
    before = tmp_path / "before.json"
    before.write_text(KeyRing.load_file(ring_path).to_json())
    before.chmod(0o600)
    rotate_keys(index=True)
    kid, audited = rotate_audit_key()
    assert (kid, audited) == ("a2", True)
    kinds = dict(db.session.execute(select(KeyCheck.kid, KeyCheck.kind)).all())
    db.session.rollback()
    assert kinds == {"k1": "data", "k2": "data", "i1": "index", "i2": "index", "a1": "audit", "a2": "audit"}
    with pytest.raises(ConfigError) as refused:
        start_app_with_ring(app, before)
    message = str(refused.value.message)
    for missing in ("data key k2", "index key i2", "audit key a2"):
        assert f"{missing} is missing from the key ring" in message
    start_app_with_ring(app, ring_path)


def test_a_rotation_records_no_key_twice_and_announces_it_once(app, db, ring_path):
    from app.audit.models import AuditEvent
    rotate_keys()
    rotate_keys()  # finished before: adds k3
    start_app_with_ring(app, ring_path)
    assert sorted(db.session.execute(select(KeyCheck.kid).where(KeyCheck.kind == "data")).scalars()) == \
        ["k1", "k2", "k3"]
    added = db.session.execute(select(AuditEvent.object_id).where(AuditEvent.action == "key_added")).scalars()
    assert sorted(added) == ["k2", "k3"]
    db.session.rollback()
