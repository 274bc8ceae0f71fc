"""The hash chain: its canonical form, verification, and tampering that verification catches."""
from __future__ import annotations

import datetime as dt
import hashlib
import json
import multiprocessing
import time

from freezegun import freeze_time
from sqlalchemy import select, text

from app.audit import chain
from app.audit.chain import RangeResult, check_batch, verify_chain
from app.audit.models import GENESIS_HASH, AuditEvent
from app.audit.services import canonical, chain_hash, record

from . import drop_append_only_triggers, event_ids, fill_chain


def record_some(db, n: int = 5, **kw) -> list[AuditEvent]:
    events = [record("case_viewed", object_type="support_case", object_id=f"case-{i}", **kw) for i in range(n)]
    db.session.commit()
    return events


def test_canonical_form_is_a_compact_json_array_in_field_order(app):
    values = {"occurred_at": dt.datetime(2026, 11, 25, 1, 2, 3), "actor_id": 7, "action": "login",
              "outcome": "allowed", "details": '{"a":1}', "reason": "점검 \"사유\""}
    text_ = canonical("ab" * 32, values)
    assert text_ == ('["' + "ab" * 32 + '","2026-11-25 01:02:03.000000",7,null,null,null,null,"login",'
                     'null,null,null,"allowed","점검 \\"사유\\"",null,"{\\"a\\":1}"]')
    assert json.loads(text_)[1:] == [values.get(f) if f != "occurred_at" else "2026-11-25 01:02:03.000000"
                                     for f in AuditEvent.HASHED_FIELDS]
    assert chain_hash("ab" * 32, values) == hashlib.sha256(text_.encode("utf-8")).hexdigest()


def test_canonical_form_is_unambiguous(app):
    base = {"occurred_at": dt.datetime(2026, 1, 1), "action": "x", "outcome": "allowed"}
    variants = [dict(base, reason="a", request_id=None), dict(base, reason=None, request_id="a"),
                dict(base, reason="a,b"), dict(base, reason="a", request_id="b"), dict(base, actor_id=1),
                dict(base, actor_login="1"), dict(base, reason=""), dict(base, reason="null")]
    assert len({chain_hash(GENESIS_HASH, v) for v in variants}) == len(variants)


def test_recorded_events_form_a_chain_that_verifies(app, db):
    events = record_some(db, 5, details={"page": 2, "메모": "없음"}, subject=12345)
    assert events[0].prev_hash == GENESIS_HASH
    assert [e.prev_hash for e in events[1:]] == [e.hash for e in events[:-1]]
    assert events[0].subject_ref == "12345"  # stored as the text it was hashed as
    result = verify_chain()
    assert (result.ok, result.count, result.head, result.first_broken_id) == (True, 5, events[-1].hash, None)
    assert result.last_id == events[-1].id and "5건" in result.message
    assert verify_chain(session=db.session).ok  # inside the caller's transaction as well


def test_a_rolled_back_event_leaves_the_session_and_the_chain(app, db):
    record("kept")
    db.session.commit()
    gone = record("rolled_back")
    db.session.rollback()
    assert gone not in db.session
    again = record("next")  # on SQLite it gets the rolled-back event's id
    db.session.commit()
    assert again.action == "next" and verify_chain().count == 2


def test_events_follow_savepoints(app, db):
    outer = record("outer")
    savepoint = db.session.begin_nested()
    inner = record("inner")
    savepoint.rollback()
    assert outer in db.session and inner not in db.session
    with db.session.begin_nested():
        kept = record("kept")
    record("after")
    db.session.commit()
    actions = db.session.execute(select(AuditEvent.action).order_by(AuditEvent.id)).scalars().all()
    assert actions == ["outer", "kept", "after"] and kept.action == "kept"
    assert verify_chain().ok


def test_an_empty_trail_verifies(app):
    result = verify_chain()
    assert (result.ok, result.count, result.head, result.first_broken_id) == (True, 0, None, None)


def test_occurred_at_is_read_under_the_lock_and_grows_with_id(app, db):
    with freeze_time("2026-11-25 03:00:00", tick=True):
        events = record_some(db, 4)
    times = [e.occurred_at for e in events]
    assert times == sorted(times)


def test_changed_content_names_the_changed_event(app, db):
    events = record_some(db, 6)
    drop_append_only_triggers()
    db.session.execute(text("UPDATE audit_event SET object_id = 'case-99' WHERE id = :id"), {"id": events[3].id})
    db.session.commit()
    result = verify_chain()
    assert (result.ok, result.first_broken_id, result.count) == (False, events[3].id, 3)
    assert "해시 불일치" in result.message and str(events[3].id) in result.message


def test_a_change_rehashed_without_the_audit_key_is_named(app, db):
    events = record_some(db, 6)
    target = events[2]
    forged = {f: getattr(target, f) for f in AuditEvent.HASHED_FIELDS} | {"action": "nothing_to_see"}
    drop_append_only_triggers()
    db.session.execute(text("UPDATE audit_event SET action = 'nothing_to_see', hash = :h WHERE id = :id"),
                       {"h": chain_hash(target.prev_hash, forged), "id": target.id})
    db.session.commit()
    result = verify_chain()
    # keyed chain: a SHA-256 rehash (no key) no longer matches the event itself
    assert (result.ok, result.first_broken_id) == (False, events[2].id)
    assert "해시 불일치" in result.message


def test_a_deleted_middle_event_names_the_one_after_it(app, db):
    events = record_some(db, 6)
    drop_append_only_triggers()
    db.session.execute(text("DELETE FROM audit_event WHERE id = :id"), {"id": events[2].id})
    db.session.commit()
    assert verify_chain().first_broken_id == events[3].id


def test_swapped_rows_name_the_first_swapped_position(app, db):
    events = record_some(db, 6)
    a, b = events[1], events[4]
    cols = ("occurred_at", *AuditEvent.HASHED_FIELDS[1:], "prev_hash", "hash")
    values = {e.id: {c: getattr(e, c) for c in cols} for e in (a, b)}
    drop_append_only_triggers()
    assignments = ", ".join(f"{c} = :{c}" for c in cols)
    for target, source in ((a, b), (b, a)):
        db.session.execute(text(f"UPDATE audit_event SET {assignments} WHERE id = :id"),
                           {**values[source.id], "id": target.id})
    db.session.commit()
    assert verify_chain().first_broken_id == a.id


def test_a_deleted_last_event_goes_unnoticed_by_the_chain_but_changes_the_head(app, db):
    # what the head is for: compare it with one kept elsewhere (exports record it)
    events = record_some(db, 3)
    head = verify_chain().head
    drop_append_only_triggers()
    db.session.execute(text("DELETE FROM audit_event WHERE id = :id"), {"id": events[-1].id})
    db.session.commit()
    result = verify_chain()
    assert result.ok and result.head != head and result.head == events[-2].hash


def test_verify_reports_progress(app, db):
    record_some(db, 7)
    seen = []
    assert verify_chain(progress=lambda done, total: seen.append((done, total))).ok
    assert seen and seen[-1][0] == 7 and all(total >= 7 for _, total in seen)


def test_a_database_encoding_difference_is_rechecked_in_python(app):
    # the database builds the canonical text only to go faster; Python's form decides
    rows = [(1, "h1", GENESIS_HASH, b"not what python makes"), (2, "h2", "h1", b"nor this")]
    res = RangeResult()
    check_batch(rows, GENESIS_HASH, res, recheck={1: "h1", 2: "h2"}.get)
    assert (res.broken_id, res.count, res.last_hash) == (None, 2, "h2")
    res = RangeResult()
    check_batch(rows, GENESIS_HASH, res, recheck={1: "h1", 2: "other"}.get)
    assert (res.broken_id, res.problem, res.count) == (2, "hash", 1)


def test_sql_canonical_text_matches_python_for_awkward_values(app, db):
    awkward = "줄\n바꿈\t탭 \"따옴표\" \\역슬래시 \x01\x1f 😀 \u2028"
    event = record("x", reason=awkward, details={"k": awkward}, object_id="=1+2")
    db.session.commit()
    conn = db.session.connection().connection.dbapi_connection
    dialect = db.engine.dialect.name
    row = chain.fetch_one(conn, dialect, f"SELECT {chain.canonical_sql(dialect)} FROM audit_event WHERE id = ?",
                          (event.id,))
    assert bytes(row[0]) == canonical(event.prev_hash, {f: getattr(event, f) for f in AuditEvent.HASHED_FIELDS},
                                      event.key_id).encode()
    assert verify_chain().ok


def test_two_processes_share_a_verify_and_agree(make_app, monkeypatch):
    app = make_app(AUDIT_VERIFY_PARALLEL_MIN=1)
    with app.app_context():
        from app.extensions import db
        fill_chain(3000)
        db.session.commit()
        monkeypatch.setattr(chain, "CHUNK", 100)
        helped = []
        receive, take = chain._receive, chain._take
        monkeypatch.setattr(chain, "_receive", lambda *a: (helped.append(1), receive(*a))[1])
        taken = {"counter": None, "mine": 0}  # the parent's takes from the current verify's counter

        def take_after_the_helper(counter):
            """The parent's turn: after its first chunk it waits until the spawned helper has
            taken one (the shared counter is past the parent's own takes), however long the
            helper takes to start on a loaded machine; no fixed pause decides who works."""
            if taken["counter"] is not counter:
                taken.update(counter=counter, mine=0)
            deadline = time.monotonic() + 600  # only a helper that never starts waits this long
            while (taken["mine"] and counter.value <= taken["mine"] and multiprocessing.active_children()
                   and time.monotonic() < deadline):
                time.sleep(0.01)
            taken["mine"] += 1
            return take(counter)
        monkeypatch.setattr(chain, "_take", take_after_the_helper)
        result = verify_chain()
        assert taken["mine"] <= 30  # the helper took one of the 30 chunks at least (31: the take past the end)
        assert (result.ok, result.count) == (True, 3000) and helped
        ids = event_ids()
        drop_append_only_triggers()
        db.session.execute(text("UPDATE audit_event SET reason = 'x' WHERE id = :id"), {"id": ids[2950]})
        db.session.execute(text("DELETE FROM audit_event WHERE id = :id"), {"id": ids[1234]})
        db.session.commit()
        result = verify_chain()
        assert (result.ok, result.first_broken_id, result.count) == (False, ids[1235], 1234)
        db.session.remove()


def test_a_chain_of_several_walk_chunks_reports_its_head_and_last_id(app, db, monkeypatch):
    """The serial verify over many chunks (small data; its speed is measured by scripts/bench,
    never asserted here): every event counted once, the head is the one the chain was filled to,
    and a change in a late chunk is named."""
    from app.audit import walk
    monkeypatch.setattr(walk, "CHUNK_IDS", 64)
    head = fill_chain(64 * 4 + 9)
    db.session.commit()
    ids = event_ids()
    result = verify_chain()
    assert (result.ok, result.count, result.head, result.last_id) == (True, 265, head, ids[-1])
    drop_append_only_triggers()
    db.session.execute(text("UPDATE audit_event SET reason = 'x' WHERE id = :id"), {"id": ids[200]})
    db.session.commit()
    result = verify_chain()
    assert (result.ok, result.first_broken_id, result.count) == (False, ids[200], 200)
