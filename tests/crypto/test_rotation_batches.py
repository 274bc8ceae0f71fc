"""Rotation of values written in bulk (not through the models), over several batches: correct and
complete.  Small data: the rate of a rotation is measured by the benchmark, never asserted in a
test that must pass on a loaded machine."""
from __future__ import annotations

import uuid

from sqlalchemy import insert, select

from app.auth.models import User
from app.crypto_rotation import key_status, rotate_keys
from app.db import utcnow

VALUES = 250
BATCH = 60  # five batches, the last one short


def test_rotation_of_bulk_written_values_over_several_batches(db, ring):
    now = utcnow()
    rows = []
    for n in range(VALUES):
        uid = str(uuid.uuid4())
        rows.append({"uid": uid, "login": f"bulk-{n}", "login_key": f"bulk-{n}", "role": "guardian", "password_hash": "x",
                     "active": True, "created_at": now, "updated_at": now,
                     "display_name_enc": ring.encrypt(f"교육후견인 {n}번", "user_account", "display_name_enc", uid)})
    db.session.execute(insert(User.__table__), rows)
    db.session.commit()
    assert key_status().totals("data") == {"k1": VALUES}

    result = rotate_keys(batch_size=BATCH)
    assert (result.added, result.values, result.batches, result.remaining) == (["k2"], VALUES, 5, 0)
    assert key_status().totals("data") == {"k1": 0, "k2": VALUES}
    db.session.expire_all()
    users = db.session.execute(select(User).where(User.login.like("bulk-%"))).scalars().all()
    assert sorted((u.login, u.display_name) for u in users) == sorted(
        (f"bulk-{n}", f"교육후견인 {n}번") for n in range(VALUES))
