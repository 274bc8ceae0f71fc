"""Rotation of many values: correct and complete (the rate is printed; speed is measured by the
benchmark, never asserted in a test that must pass on a loaded machine)."""
from __future__ import annotations

import time
import uuid

import pytest
from sqlalchemy import insert

from app.auth.models import User
from app.crypto_rotation import key_status, rotate_keys
from app.db import utcnow

VALUES = 20_000


@pytest.mark.slow
def test_rotation_rate(db, ring):
    now = utcnow()
    rows = []
    for n in range(VALUES):
        uid = str(uuid.uuid4())
        rows.append({"uid": uid, "login": f"bench-{n}", "login_key": f"bench-{n}", "role": "guardian", "password_hash": "x",
                     "active": True, "created_at": now, "updated_at": now,
                     "display_name_enc": ring.encrypt(f"교육후견인 {n}번", "user_account", "display_name_enc", uid)})
    db.session.execute(insert(User.__table__), rows)
    db.session.commit()

    started = time.perf_counter()
    result = rotate_keys()
    elapsed = time.perf_counter() - started
    rate = result.values / elapsed
    print(f"\nrotated {result.values} values in {elapsed:.2f} s: {rate:,.0f} values/s "
          f"({db.engine.dialect.name}, {result.batches} batches)")
    assert result.values == VALUES
    assert key_status().totals("data") == {"k1": 0, "k2": VALUES}
