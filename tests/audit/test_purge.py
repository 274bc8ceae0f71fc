"""Retention purge: only events older than the retention period, only through a checkpoint."""
from __future__ import annotations

import datetime as dt
import json
from types import SimpleNamespace

import pytest
import sqlalchemy as sa
from freezegun import freeze_time
from sqlalchemy import select, text

from app.audit.chain import purge_events, retention_cutoff, verify_chain
from app.audit.models import AuditCheckpoint, AuditEvent
from app.audit.services import record
from app.domain import DomainError

from . import drop_append_only_triggers, event_ids, fill_chain

NOW = "2026-11-25 03:00:00"  # 12:00 KST


def at(when: str, n: int = 1, action: str = "case_viewed") -> list[SimpleNamespace]:
    """Events recorded at ``when``, as plain (id, hash) records that outlive a purge."""
    with freeze_time(when):
        events = [record(action, object_type="support_case", object_id=f"{when}-{i}") for i in range(n)]
    return [SimpleNamespace(id=e.id, hash=e.hash) for e in events]


@pytest.fixture
def trail(app, db):
    """Three events in 2023, two in 2024-11 (either side of the cutoff in KST), two recent."""
    events = at("2023-05-01 00:00:00", 3) + at("2024-11-24 14:59:59") + at("2024-11-24 15:00:00")
    events += at("2026-11-01 00:00:00", 2)
    db.session.commit()
    return events


def checkpoints(db) -> list[AuditCheckpoint]:
    return list(db.session.execute(select(AuditCheckpoint)).scalars())


@freeze_time(NOW)
def test_retention_cutoff_uses_the_app_clock_and_config(app):
    assert retention_cutoff() == dt.date(2024, 11, 25)
    app.config["AUDIT_RETENTION_YEARS"] = 5
    assert retention_cutoff() == dt.date(2021, 11, 25)


@freeze_time("2028-02-29 03:00:00")
def test_retention_cutoff_on_29_february(app):
    assert retention_cutoff() == dt.date(2026, 2, 28)


def test_purge_removes_old_events_through_a_checkpoint(trail, db):
    with freeze_time(NOW):
        checkpoint = purge_events(dt.date(2024, 11, 25), actor=None)
        db.session.commit()
    # 2024-11-24 15:00:00 UTC is 2024-11-25 00:00 KST: it stays
    assert (checkpoint.last_event_id, checkpoint.events_removed) == (trail[3].id, 4)
    assert checkpoint.last_event_hash == trail[3].hash
    assert checkpoint.purged_before == dt.datetime(2024, 11, 24, 15, 0)
    remaining = event_ids()
    assert remaining[:3] == [e.id for e in trail[4:]]
    purged = db.session.get(AuditEvent, remaining[-1])
    # recorded before its checkpoint (the trigger requires it), so it names the checkpoint by content
    assert purged.action == "audit_purged" and purged.object_type == "audit_checkpoint"
    assert json.loads(purged.details) == {"before": "2024-11-25", "events_removed": 4,
                                          "last_event_hash": trail[3].hash, "last_event_id": trail[3].id}
    result = verify_chain()
    assert (result.ok, result.count) == (True, 4)
    # the chain goes on from the head as before
    at("2026-11-25 04:00:00")
    db.session.commit()
    assert verify_chain().ok


def test_purge_records_who_did_it(trail, db, build):
    admin = build.user("admin")
    with freeze_time(NOW):
        checkpoint = purge_events(dt.date(2024, 1, 1), actor=admin)
        db.session.commit()
    assert checkpoint.actor_login == admin.login
    event = db.session.execute(select(AuditEvent).filter_by(action="audit_purged")).scalar_one()
    assert (event.actor_id, event.actor_login) == (admin.id, admin.login)


@pytest.mark.parametrize("before", [dt.date(2024, 11, 26), dt.date(2026, 11, 25)])
def test_anything_younger_than_the_retention_period_is_refused(trail, db, before):
    with freeze_time(NOW), pytest.raises(DomainError) as info:
        purge_events(before)
    assert info.value.field == "before" and "2년" in info.value.message and "2024. 11. 25." in info.value.message
    db.session.rollback()
    assert len(event_ids()) == len(trail) and checkpoints(db) == []


def test_a_longer_retention_in_config_is_honoured(trail, db, app):
    app.config["AUDIT_RETENTION_YEARS"] = 5
    with freeze_time(NOW), pytest.raises(DomainError, match="5년"):
        purge_events(dt.date(2023, 6, 1))


def test_nothing_old_enough_is_no_checkpoint(trail, db):
    with freeze_time(NOW):
        assert purge_events(dt.date(2022, 1, 1)) is None
    assert checkpoints(db) == [] and len(event_ids()) == len(trail)


def test_only_a_prefix_of_the_chain_goes(app, db):
    # an event stamped earlier by another host's clock, after a newer one, stays, and so
    # does every event after the first one too young to go
    events = at("2023-01-01 00:00:00", 2) + at("2026-01-01 00:00:00") + at("2023-01-02 00:00:00")
    db.session.commit()
    with freeze_time(NOW):
        checkpoint = purge_events(dt.date(2024, 1, 1))
        db.session.commit()
    assert checkpoint.last_event_id == events[1].id
    assert event_ids()[:2] == [events[2].id, events[3].id]
    assert verify_chain().ok


def test_a_purge_of_every_event_keeps_ids_above_the_checkpoint(app, db):
    at("2023-01-01 00:00:00", 3)
    db.session.commit()
    with freeze_time(NOW):
        checkpoint = purge_events(dt.date(2024, 1, 1))
        db.session.commit()
        later = at(NOW)[0]
        db.session.commit()
    assert later.id > checkpoint.last_event_id  # so the delete trigger can never reach it
    result = verify_chain()
    assert (result.ok, result.count) == (True, 2)


def test_purges_can_follow_each_other(app, db):
    at("2022-01-01 00:00:00", 2) + at("2023-01-01 00:00:00", 2) + at("2026-01-01 00:00:00")
    db.session.commit()
    with freeze_time(NOW):
        first = purge_events(dt.date(2022, 6, 1))
        db.session.commit()
        second = purge_events(dt.date(2023, 6, 1))
        db.session.commit()
    assert (first.events_removed, second.events_removed) == (2, 2)
    assert second.last_event_id > first.last_event_id
    result = verify_chain()
    assert result.ok and result.count == 3  # one recent event and two audit_purged


def test_a_broken_chain_is_not_purged(trail, db):
    drop_append_only_triggers()
    db.session.execute(text("UPDATE audit_event SET reason = 'x' WHERE id = :id"), {"id": trail[1].id})
    db.session.commit()
    with freeze_time(NOW), pytest.raises(DomainError, match=f"#{trail[1].id}"):
        purge_events(dt.date(2024, 11, 25))
    db.session.rollback()
    assert len(event_ids()) == len(trail) and checkpoints(db) == []


def test_a_checkpoint_without_its_purge_event_is_refused(trail, db):
    # an attacker who may insert adds a checkpoint to open old events to DELETE: the trigger
    # refuses it (the signed-checkpoint and INSERT+DELETE cases are in test_tamper.py)
    db.session.add(AuditCheckpoint(created_at=dt.datetime(2026, 1, 1), purged_before=dt.datetime(2024, 1, 1),
                                   last_event_id=trail[4].id, last_event_hash=trail[4].hash, events_removed=5))
    with pytest.raises(sa.exc.DBAPIError, match="audit_purged"):
        db.session.commit()
    db.session.rollback()
    assert verify_chain().ok


def test_purge_is_all_or_nothing(trail, db, monkeypatch):
    from app.audit import chain

    def fail(*args, **kwargs):
        raise RuntimeError("disk full")
    monkeypatch.setattr(chain, "record", fail)
    with freeze_time(NOW), pytest.raises(RuntimeError):
        purge_events(dt.date(2024, 11, 25))
    db.session.rollback()
    assert checkpoints(db) == [] and len(event_ids()) == len(trail)


def test_purge_after_bulk_data_verifies(app, db):
    fill_chain(2_000, start=dt.datetime(2023, 1, 1), step=dt.timedelta(minutes=10))
    db.session.commit()
    with freeze_time(NOW):
        checkpoint = purge_events(dt.date(2023, 1, 8))
        db.session.commit()
    assert checkpoint.events_removed == 7 * 24 * 6 - 9 * 6  # from 2023-01-01 00:00 UTC to 01-07 15:00 UTC
    assert db.session.scalar(select(sa.func.count()).select_from(AuditEvent)) == 2_000 - checkpoint.events_removed + 1
    assert verify_chain().ok
