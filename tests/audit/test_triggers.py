"""The database itself refuses to change or remove audit events (SQLite and PostgreSQL)."""
from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa
from freezegun import freeze_time
from sqlalchemy import text

from app.audit.chain import verify_chain
from app.audit.models import AuditCheckpoint, AuditEvent
from app.audit.services import record

from . import event_ids, is_postgres


@pytest.fixture
def events(app, db):
    # old enough to be purged: the delete trigger lets a checkpoint open only events before its date
    with freeze_time("2023-05-01"):
        made = [record("case_viewed", object_type="support_case", object_id=f"c{i}") for i in range(4)]
    db.session.commit()
    return made


def refused(db, statement: str, **params) -> str:
    with pytest.raises(sa.exc.DBAPIError) as info:
        db.session.execute(text(statement), params)
        db.session.flush()
    db.session.rollback()
    return str(info.value.orig)


@pytest.mark.parametrize("statement", [
    "UPDATE audit_event SET action = 'harmless' WHERE id = :id",
    "UPDATE audit_event SET hash = prev_hash WHERE id = :id",
    "UPDATE audit_event SET occurred_at = occurred_at WHERE id = :id",  # even a no-op
])
def test_update_is_refused(events, db, statement):
    assert "append-only" in refused(db, statement, id=events[1].id)
    assert verify_chain().ok


def test_update_through_the_orm_is_refused(events, db):
    events[0].reason = "고침"
    with pytest.raises(sa.exc.DBAPIError):
        db.session.flush()
    db.session.rollback()
    assert db.session.get(AuditEvent, events[0].id).reason is None


@pytest.mark.parametrize("where", ["id = :id", "1 = 1"])
def test_delete_is_refused(events, db, where):
    assert "append-only" in refused(db, f"DELETE FROM audit_event WHERE {where}", id=events[2].id)
    assert event_ids() == [e.id for e in events]


def test_delete_through_the_orm_is_refused(events, db):
    db.session.delete(events[3])
    with pytest.raises(sa.exc.DBAPIError):
        db.session.flush()
    db.session.rollback()
    assert len(event_ids()) == 4


def test_truncate_is_refused_on_postgresql(events, db):
    if not is_postgres():
        pytest.skip("SQLite has no TRUNCATE; DELETE without WHERE is covered above")
    assert "append-only" in refused(db, "TRUNCATE audit_event")


def _checkpoint(db, last: AuditEvent) -> AuditCheckpoint:
    # as purge_events does: its audit_purged event first (the checkpoint trigger requires it)
    record("audit_purged", object_type="audit_checkpoint",
           details={"last_event_id": last.id, "last_event_hash": last.hash, "events_removed": 1})
    checkpoint = AuditCheckpoint(created_at=dt.datetime(2026, 1, 1), purged_before=dt.datetime(2024, 1, 1),
                                 last_event_id=last.id, last_event_hash=last.hash, events_removed=1)
    db.session.add(checkpoint)
    db.session.commit()
    return checkpoint


def test_delete_reaches_only_events_a_checkpoint_covers(events, db):
    _checkpoint(db, events[1])
    assert "append-only" in refused(db, "DELETE FROM audit_event WHERE id = :id", id=events[2].id)
    db.session.execute(text("DELETE FROM audit_event WHERE id <= :id"), {"id": events[1].id})
    db.session.commit()
    assert event_ids()[:2] == [events[2].id, events[3].id]
    # and updates stay refused even for covered events
    assert "append-only" in refused(db, "UPDATE audit_event SET action = 'x' WHERE id = :id", id=events[2].id)


@pytest.mark.parametrize("statement", [
    "UPDATE audit_checkpoint SET last_event_id = 999999",
    "DELETE FROM audit_checkpoint",
])
def test_checkpoints_are_append_only(events, db, statement):
    _checkpoint(db, events[0])
    assert "append-only" in refused(db, statement)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(AuditCheckpoint)) == 1
