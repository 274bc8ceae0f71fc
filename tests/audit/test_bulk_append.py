"""Appending many events at once (an import's students): the same rows and chain as one
``record`` per subject, in one INSERT, inside the caller's transaction and savepoints."""
from __future__ import annotations

from flask import g
from sqlalchemy import select

from app.audit.chain import verify_chain
from app.audit.models import AuditEvent
from app.audit.bulk_append import append_rows, record_each, sealed_rows
from app.audit.services import PENDING_KEY, SAME_AS_SUBJECT, keyring, record, subject_seal
from tests.querycount import counting, is_audit_append

#: the columns that say what happened (the chain columns differ by position, by design)
WHAT = ("actor_id", "actor_login", "role", "organisation_id", "action", "object_type", "object_id",
        "subject_ref", "outcome", "reason", "details")


def rows(db, action: str) -> list[AuditEvent]:
    return db.session.execute(select(AuditEvent).filter_by(action=action).order_by(AuditEvent.id)).scalars().all()


def test_each_subject_gets_the_event_record_would_write(db, build):
    school = build.school()
    actor = build.user("school_staff", organisation=school)
    students = [build.student(school, actor=actor) for _ in range(3)]
    db.session.commit()
    for student in students:
        record("one_by_one", obj=student, subject=student, actor=actor, details={"duplicate_confirmed": True})
    assert record_each("all_at_once", students, actor=actor, details={"duplicate_confirmed": True}) == 3
    db.session.commit()
    single, bulk = rows(db, "one_by_one"), rows(db, "all_at_once")
    assert [[getattr(e, c) for c in WHAT if c != "action"] for e in single] == \
           [[getattr(e, c) for c in WHAT if c != "action"] for e in bulk]
    assert {e.object_id for e in bulk} == {SAME_AS_SUBJECT}
    assert [e.subject_ref for e in bulk] == [s.uid for s in students]
    assert all(e.subject_seal and e.key_id for e in bulk)
    assert verify_chain().ok


def test_the_events_extend_the_chain_in_order_and_what_follows_joins_it(db, build):
    school = build.school()
    students = [build.student(school) for _ in range(4)]
    before = record("before")
    record_each("bulk", students)
    after = record("after")  # same transaction: chains onto the last bulk event, not the old head
    db.session.commit()
    bulk = rows(db, "bulk")
    assert [e.id for e in bulk] == sorted(e.id for e in bulk) and before.id < bulk[0].id < after.id
    assert bulk[0].prev_hash == before.hash
    assert [e.prev_hash for e in bulk[1:]] == [e.hash for e in bulk[:-1]]
    assert after.prev_hash == bulk[-1].hash
    assert [e.occurred_at for e in bulk] == sorted(e.occurred_at for e in bulk)
    result = verify_chain()
    assert result.ok and result.head == after.hash


def test_one_statement_whatever_the_number_of_subjects(db, build):
    school = build.school()
    students = [build.student(school) for _ in range(12)]
    [s.uid for s in students]  # loaded now, not inside the count
    record("head")  # the chain lock and head are already held: only the INSERT is left to count
    for n in (2, 12):
        with counting() as seen:
            record_each(f"bulk_{n}", students[:n])
        assert [s for s in seen if is_audit_append(s)] and len(seen) == 1
    db.session.commit()
    assert verify_chain().ok


def test_a_rolled_back_savepoint_takes_its_events_and_the_chain_goes_on(db, build):
    school = build.school()
    students = [build.student(school) for _ in range(3)]
    record("kept")
    savepoint = db.session.begin_nested()
    record_each("undone", students)
    savepoint.rollback()
    record_each("done", students[:2])
    db.session.commit()
    assert rows(db, "undone") == [] and len(rows(db, "done")) == 2
    assert verify_chain().ok


def test_nothing_to_append_writes_nothing(db):
    with counting() as seen:
        assert record_each("nothing", []) == 0
    assert seen == []


def test_a_read_phase_keeps_them_for_after_the_page(app, db, build):
    school = build.school()
    students = [build.student(school) for _ in range(2)]
    db.session.commit()
    [s.uid for s in students]
    with app.test_request_context("/"):
        g.setdefault(PENDING_KEY, [])
        with counting() as seen:
            record_each("kept_aside", students)
        kept = g.get(PENDING_KEY)
    assert seen == [] and [v["subject_ref"] for v in kept] == [s.uid for s in students]
    assert rows(db, "kept_aside") == []


def test_events_sealed_ahead_are_appended_without_sealing_again(db, build, monkeypatch):
    # a bulk save seals its events before it takes the write lock: under it only the hashes
    import app.audit.bulk_append as services
    school = build.school()
    actor = build.user("school_staff", organisation=school)
    students = [build.student(school, actor=actor) for _ in range(5)]
    db.session.commit()
    ahead = sealed_rows("sealed_ahead", students, actor=actor, details={"duplicate_confirmed": True})
    sealed_under_lock = []
    original = services.subject_seal
    monkeypatch.setattr(services, "subject_seal", lambda key, ref: sealed_under_lock.append(ref) or original(key, ref))
    assert append_rows(ahead) == 5
    record_each("sealed_now", students, actor=actor, details={"duplicate_confirmed": True})
    db.session.commit()
    assert sealed_under_lock == [s.uid for s in students]  # record_each's own rows only
    ahead_events, now_events = rows(db, "sealed_ahead"), rows(db, "sealed_now")
    assert [[getattr(e, c) for c in WHAT if c != "action"] + [e.subject_seal] for e in ahead_events] == \
           [[getattr(e, c) for c in WHAT if c != "action"] + [e.subject_seal] for e in now_events]
    assert verify_chain().ok


def test_events_sealed_before_the_audit_key_changed_are_sealed_with_the_new_key(db, build):
    school = build.school()
    students = [build.student(school) for _ in range(3)]
    db.session.commit()
    ahead = sealed_rows("sealed_before_rotation", students)
    assert keyring().add_audit_key() == "a2"  # rotated between the check and the save
    append_rows(ahead)
    db.session.commit()
    events = rows(db, "sealed_before_rotation")
    assert {e.key_id for e in events} == {"a2"}
    # the seal is what a search by subject computes under the event's key
    _kid, key = keyring().audit_key("a2")
    assert [e.subject_seal for e in events] == [subject_seal(key, s.uid) for s in students]
    assert verify_chain().ok
