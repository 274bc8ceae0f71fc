"""Tampering by someone with database access but without the audit key, each on a copy of a seeded
database (demo seed plus two-year-old events): verify fails and names what happened.  Runs on
SQLite and PostgreSQL (IEUM_TEST_DATABASE_URL)."""
from __future__ import annotations

import datetime as dt
import hashlib
import json
import secrets

import pytest
import sqlalchemy as sa
from sqlalchemy import select, text

from app.words import particle
from app.audit.anchors import check_anchors, write_anchor
from app.audit.chain import verify_chain
from app.audit.models import AuditCheckpoint, AuditEvent
from app.audit.services import chain_hash, encode_canonical, keyring, record

from . import drop_append_only_triggers, event_ids, fill_chain

OLD = dt.datetime(2023, 1, 2)  # well past the two-year retention


@pytest.fixture
def seeded(app, db, tmp_path):
    """300 old keyed events, then the demo data (a few hundred events) and a few new ones."""
    app.config["AUDIT_ANCHOR_FILE"] = str(tmp_path / "anchors.jsonl")
    fill_chain(300, start=OLD)
    db.session.commit()
    result = app.test_cli_runner().invoke(args=["demo", "seed", "--password", "Demo-password-2026"])
    assert result.exit_code == 0, result.output
    for i in range(5):
        record("case_viewed", object_type="support_case", object_id=f"new-{i}")
    db.session.commit()
    assert verify_chain().ok
    return event_ids()


def rows(db, lo: int, hi: int | None = None) -> list[AuditEvent]:
    query = select(AuditEvent).where(AuditEvent.id >= lo).order_by(AuditEvent.id)
    if hi is not None:
        query = query.where(AuditEvent.id <= hi)
    return list(db.session.execute(query).scalars())


def values_of(event: AuditEvent) -> dict:
    return {f: getattr(event, f) for f in AuditEvent.HASHED_FIELDS}


def rewrite(db, events: list[AuditEvent], prev: str, seal) -> None:
    """Set every event's prev_hash and hash as ``seal(prev, values, event)`` says (an attacker's rehash)."""
    for event in events:
        digest, kid = seal(prev, values_of(event), event)
        db.session.execute(text("UPDATE audit_event SET prev_hash = :p, hash = :h, key_id = :k, action = :a "
                                "WHERE id = :id"),
                           {"p": prev, "h": digest, "k": kid, "a": event.action, "id": event.id})
        prev = digest
    db.session.commit()


def sha256_keeping_key_id(prev, values, event):
    return hashlib.sha256(encode_canonical([event.key_id, prev, *_ordered(values)]).encode()).hexdigest(), event.key_id


def wrong_key(prev, values, event, _key=secrets.token_bytes(32)):
    return chain_hash(prev, values, event.key_id, _key), event.key_id


def legacy_sha256(prev, values, event):
    return chain_hash(prev, values), None


def _ordered(values):
    return [values[f].strftime("%Y-%m-%d %H:%M:%S.%f") if f == "occurred_at" else values[f]
            for f in AuditEvent.HASHED_FIELDS]


@pytest.mark.parametrize("seal, expected", [
    (sha256_keeping_key_id, "해시 불일치"),
    (wrong_key, "해시 불일치"),
    (legacy_sha256, "감사 키로 봉인되지 않았습니다"),
])
def test_rewrite_and_rehash_without_the_key_is_named(seeded, db, seal, expected):
    target = seeded[-40]
    drop_append_only_triggers()
    tail = rows(db, target)
    tail[0].action = "nothing_to_see"
    db.session.expunge_all()
    rewrite(db, tail, tail[0].prev_hash, seal)
    result = verify_chain()
    assert not result.ok and expected in result.message
    assert str(target) in result.message
    assert "(는)" not in result.message and "(가)" not in result.message  # the particle follows the number
    if seal is legacy_sha256:
        assert f"#{target}{particle(str(target), '은/는')} 감사 키로" in result.message


def test_delete_and_relink_is_named(seeded, db, tmp_path):
    write_anchor()
    gone, after = seeded[-30], seeded[-29]
    drop_append_only_triggers()
    prev = rows(db, gone, gone)[0].prev_hash
    db.session.execute(text("DELETE FROM audit_event WHERE id = :id"), {"id": gone})
    tail = rows(db, after)
    db.session.expunge_all()
    rewrite(db, tail, prev, wrong_key)
    result = verify_chain()
    assert (result.ok, result.first_broken_id) == (False, after)
    # even relinked with the real key (an insider), the anchor still counts the deleted event
    rewrite(db, rows(db, after), prev, lambda p, v, e: (chain_hash(p, v, *keyring().audit_key()), e.key_id))
    assert verify_chain().ok
    check = check_anchors()
    assert not check.ok and "삭제" in check.message and "deleted events" in check.message


def test_tail_cut_is_caught_through_the_anchor(seeded, db, app):
    anchor = write_anchor()
    assert anchor["last_id"] == seeded[-1]
    drop_append_only_triggers()
    db.session.execute(text("DELETE FROM audit_event WHERE id > :id"), {"id": seeded[-4]})
    db.session.commit()
    assert verify_chain().ok  # the chain alone cannot see a cut tail
    check = check_anchors()
    assert not check.ok and f"events after id {seeded[-4]} are missing" in check.message
    result = app.test_cli_runner().invoke(args=["audit", "verify"])
    assert result.exit_code == 1 and f"이벤트 #{seeded[-4]} 이후의 이벤트가 없습니다" in result.output


def _insert_forged_purge_event(db, last: AuditEvent, removed: int) -> None:
    """What an attacker without the key writes: an audit_purged event hashed with SHA-256."""
    head = db.session.execute(select(AuditEvent).order_by(AuditEvent.id.desc()).limit(1)).scalar_one()
    values = {"occurred_at": dt.datetime.now(dt.timezone.utc).replace(tzinfo=None), "action": "audit_purged",
              "object_type": "audit_checkpoint", "outcome": "allowed",
              "details": json.dumps({"before": "2023-06-01", "events_removed": removed,
                                     "last_event_hash": last.hash, "last_event_id": last.id},
                                    sort_keys=True, separators=(",", ":"))}
    db.session.execute(AuditEvent.__table__.insert(),
                       {**values, "prev_hash": head.hash, "hash": chain_hash(head.hash, values), "key_id": "a1"})


def test_forged_checkpoint_with_triggers_intact_is_named(seeded, db):
    # the attack: INSERT a checkpoint at the 200th old event and its audit_purged event,
    # then DELETE what it covers.  The triggers let it through for old events only...
    last = rows(db, seeded[199], seeded[199])[0]
    assert last.occurred_at < dt.datetime(2024, 1, 1)
    first_id = seeded[0]
    _insert_forged_purge_event(db, last, 200)
    db.session.add(AuditCheckpoint(created_at=dt.datetime(2026, 11, 30), purged_before=dt.datetime(2023, 6, 1),
                                   last_event_id=last.id, last_event_hash=last.hash, events_removed=200,
                                   key_id="a1", signature="0" * 64))
    last_id = last.id
    db.session.commit()
    removed = db.session.execute(text("DELETE FROM audit_event WHERE id <= :id"), {"id": last_id}).rowcount
    db.session.commit()
    assert removed == last_id - first_id + 1
    # ...but verify names the forged checkpoint
    result = verify_chain()
    assert not result.ok and "서명이 맞지 않습니다" in result.message and f"#{last_id}" in result.message


def test_recent_events_stay_out_of_reach_of_any_checkpoint(seeded, db):
    # a checkpoint may only name an old date, and DELETE reaches only events before it
    last = rows(db, seeded[-2], seeded[-2])[0]
    _insert_forged_purge_event(db, last, 1)
    db.session.add(AuditCheckpoint(created_at=dt.datetime(2026, 11, 30), purged_before=dt.datetime(2023, 6, 1),
                                   last_event_id=last.id, last_event_hash=last.hash, events_removed=1))
    db.session.commit()
    with pytest.raises(sa.exc.DBAPIError, match="append-only"):
        db.session.execute(text("DELETE FROM audit_event WHERE id = :id"), {"id": seeded[-2]})
    db.session.rollback()


def test_checkpoint_younger_than_retention_is_refused_by_the_trigger(seeded, db):
    last = rows(db, seeded[-3], seeded[-3])[0]
    # even with a genuine, keyed audit_purged event right before it
    record("audit_purged", object_type="audit_checkpoint",
           details={"last_event_id": last.id, "last_event_hash": last.hash, "events_removed": 10})
    db.session.add(AuditCheckpoint(created_at=dt.datetime(2026, 11, 30), purged_before=dt.datetime.now() -
                                   dt.timedelta(days=30), last_event_id=last.id, last_event_hash=last.hash,
                                   events_removed=10))
    with pytest.raises(sa.exc.DBAPIError, match="retention"):
        db.session.flush()
    db.session.rollback()
    assert verify_chain().ok


def test_checkpoint_without_its_purge_event_in_the_transaction_is_refused(seeded, db):
    last = rows(db, seeded[199], seeded[199])[0]
    db.session.add(AuditCheckpoint(created_at=dt.datetime(2026, 11, 30), purged_before=dt.datetime(2023, 6, 1),
                                   last_event_id=last.id, last_event_hash=last.hash, events_removed=200))
    with pytest.raises(sa.exc.DBAPIError, match="audit_purged"):
        db.session.flush()
    db.session.rollback()


def test_a_real_purge_still_works_and_verifies(seeded, db):
    from app.audit.chain import purge_events
    checkpoint = purge_events(dt.date(2023, 6, 1))
    db.session.commit()
    assert checkpoint.events_removed == 300 and checkpoint.key_id == "a1" and len(checkpoint.signature) == 64
    assert verify_chain().ok
