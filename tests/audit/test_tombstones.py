"""Retention tombstones: a deleted student's audit events lose their subject reference, the chain
still verifies, and nothing else about an event can change (SQLite and PostgreSQL)."""
from __future__ import annotations

import sqlite3

import pytest
import sqlalchemy as sa
from sqlalchemy import select, text

from app.audit.chain import verify_chain
from app.audit.export import write_export
from app.audit.models import AuditEvent
from app.audit.services import keyring, mac_fields, record
from app.audit.tombstones import tombstone_subject, unsealed_events
from app.db import today_kst

from . import is_postgres

GONE, KEPT = "student-gone-uid", "student-kept-uid"
TOMB = "retained:tomb-1"


@pytest.fixture
def trail(app, db):
    for i in range(3):
        record("student_viewed", object_type="student", object_id=f"s{i}", subject=GONE)
        record("case_viewed", object_type="support_case", object_id=f"c{i}", subject=KEPT)
    record("login", object_type="user", object_id="u1")
    db.session.commit()


def refs(db) -> list:
    return list(db.session.execute(select(AuditEvent.subject_ref).order_by(AuditEvent.id)).scalars())


def force(db, statement: str, **params) -> None:
    """What someone with database access (triggers dropped) could do."""
    if is_postgres():
        db.session.execute(text("ALTER TABLE audit_event DISABLE TRIGGER USER"))
        db.session.execute(text(statement), params)
        db.session.execute(text("ALTER TABLE audit_event ENABLE TRIGGER USER"))
    else:
        ddl = db.session.execute(text("SELECT sql FROM sqlite_master WHERE name = 'audit_event_no_update'")).scalar()
        db.session.execute(text("DROP TRIGGER audit_event_no_update"))
        db.session.execute(text(statement), params)
        db.session.execute(text(ddl))
    db.session.commit()


def test_new_events_carry_the_seal_of_their_subject(trail, db):
    kid, key = keyring().audit_key()
    events = db.session.execute(select(AuditEvent).order_by(AuditEvent.id)).scalars().all()
    assert [e.subject_seal for e in events if e.subject_ref is None] == [None]
    assert all(e.subject_seal == mac_fields(key, "subject", e.subject_ref)[:32] for e in events if e.subject_ref)


def test_a_tombstone_replaces_the_reference_and_the_chain_still_verifies(trail, db):
    assert tombstone_subject(GONE, TOMB) == 3
    db.session.commit()
    assert refs(db).count(TOMB) == 3 and GONE not in refs(db) and refs(db).count(KEPT) == 3
    assert unsealed_events(GONE) == 0
    result = verify_chain()
    assert result.ok, result.message
    assert tombstone_subject(GONE, TOMB) == 0  # again: nothing left to replace


def test_a_tombstoned_trail_exports_and_verifies_offline(trail, db, tmp_path):
    import datetime as dt
    import hashlib
    import hmac
    from app.audit.services import encode_canonical
    tombstone_subject(GONE, TOMB)
    db.session.commit()
    path = tmp_path / "out.sqlite"
    today = today_kst()
    write_export("sqlite", today - dt.timedelta(days=1), today + dt.timedelta(days=1), path, "점검")
    out = sqlite3.connect(path)
    kid, key = keyring().audit_key()
    fields = ["prev_hash", *("COALESCE(subject_seal, subject_ref)" if f == "subject_ref" else f
                             for f in AuditEvent.HASHED_FIELDS)]
    rows = out.execute(f"SELECT {', '.join(fields)}, hash, subject_ref FROM events").fetchall()
    assert sum(1 for r in rows if r[-1] == TOMB) == 3
    for row in rows:
        assert hmac.new(key, encode_canonical([kid, *row[:-2]]).encode(), hashlib.sha256).hexdigest() == row[-2]


@pytest.mark.parametrize("statement", [
    # a tombstone that also changes another column
    "UPDATE audit_event SET subject_ref = 'retained:x', action = 'nothing' WHERE subject_ref = :s",
    # a reference moved to another student, not a tombstone
    "UPDATE audit_event SET subject_ref = 'someone-else' WHERE subject_ref = :s",
    # the seal removed with the tombstone (its hash would then cover the tombstone)
    "UPDATE audit_event SET subject_ref = 'retained:x', subject_seal = NULL WHERE subject_ref = :s",
])
def test_the_database_refuses_every_other_change(trail, db, statement):
    with pytest.raises(sa.exc.DBAPIError) as info:
        db.session.execute(text(statement), {"s": GONE})
        db.session.flush()
    db.session.rollback()
    assert "append-only" in str(info.value.orig)
    assert refs(db).count(GONE) == 3


def test_a_tombstone_is_never_replaced(trail, db):
    tombstone_subject(GONE, TOMB)
    db.session.commit()
    with pytest.raises(sa.exc.DBAPIError):
        db.session.execute(text("UPDATE audit_event SET subject_ref = 'retained:other' WHERE subject_ref = :t"),
                           {"t": TOMB})
        db.session.flush()
    db.session.rollback()
    with pytest.raises(ValueError):
        tombstone_subject(TOMB, "retained:other")
    with pytest.raises(ValueError):
        tombstone_subject(GONE, "not-a-tombstone")


def test_verify_names_a_reference_moved_to_another_subject(trail, db):
    first_gone = db.session.execute(select(AuditEvent.id).filter_by(subject_ref=GONE).order_by(AuditEvent.id)).scalar()
    force(db, "UPDATE audit_event SET subject_ref = :k WHERE id = :id", k=KEPT, id=first_gone)
    result = verify_chain()
    assert not result.ok and result.first_broken_id == first_gone
    assert f"#{first_gone}" in result.message


def test_verify_catches_a_changed_seal(trail, db):
    first_gone = db.session.execute(select(AuditEvent.id).filter_by(subject_ref=GONE).order_by(AuditEvent.id)).scalar()
    kid, key = keyring().audit_key()
    # a seal recomputed for another subject still breaks the hash, which covers the seal
    force(db, "UPDATE audit_event SET subject_ref = :k, subject_seal = :seal WHERE id = :id",
          k=KEPT, seal=mac_fields(key, "subject", KEPT)[:32], id=first_gone)
    result = verify_chain()
    assert not result.ok and result.first_broken_id == first_gone


def test_events_sealed_before_the_subject_seal_keep_their_reference(trail, db):
    """An event written before 0018 (no seal) hashes its reference: tombstoning leaves it."""
    force(db, "UPDATE audit_event SET subject_seal = NULL WHERE id = (SELECT MIN(id) FROM audit_event)")
    # that event's hash covered the seal, so it is now broken: this only shows the counting
    assert unsealed_events(GONE) == 3
    assert tombstone_subject(GONE, TOMB) == 2
    db.session.commit()
    assert unsealed_events(GONE) == 1
