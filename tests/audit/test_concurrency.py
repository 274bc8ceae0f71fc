"""Writers in separate processes append to one chain without forking it or losing an event."""
from __future__ import annotations

import multiprocessing
from collections import Counter

from sqlalchemy import select

from app.audit.chain import verify_chain
from app.audit.models import AuditEvent
from app.audit.services import record

WRITERS = 4
EVENTS = 60


def write_events(url: str, keys: str, tag: str, count: int, per_commit: int, start) -> None:
    """One writer process: its own app on the shared database, as a gunicorn worker has."""
    from app import create_app
    from app.extensions import db
    from tests.conftest import base_config

    app = create_app(base_config(SQLALCHEMY_DATABASE_URI=url, IEUM_KEYS=keys))
    with app.app_context():
        start.wait()
        for i in range(count):
            record("concurrency_probe", object_type="writer", object_id=f"{tag}-{i}")
            if (i + 1) % per_commit == 0:
                db.session.commit()
        db.session.commit()
        db.session.remove()
        db.engine.dispose()


def test_concurrent_writer_processes_keep_one_chain(app, db, keys_json):
    record("before_the_race")
    db.session.commit()
    url = app.config["SQLALCHEMY_DATABASE_URI"]
    ctx = multiprocessing.get_context("spawn")
    start = ctx.Barrier(WRITERS)
    # some writers commit each event, some several per transaction (the cached head)
    procs = [ctx.Process(target=write_events, args=(url, keys_json, f"w{n}", EVENTS, 1 + n % 3, start))
             for n in range(WRITERS)]
    for proc in procs:
        proc.start()
    for proc in procs:
        proc.join(120)
    assert [proc.exitcode for proc in procs] == [0] * WRITERS

    result = verify_chain()
    assert result.ok, result.message
    assert result.count == 1 + WRITERS * EVENTS
    written = db.session.execute(select(AuditEvent.object_id).filter_by(action="concurrency_probe")).scalars()
    assert Counter(oid.split("-")[0] for oid in written) == {f"w{n}": EVENTS for n in range(WRITERS)}
    # and the writers really did interleave, so the chain was contended
    order = [oid.split("-")[0] for oid in db.session.execute(
        select(AuditEvent.object_id).filter_by(action="concurrency_probe").order_by(AuditEvent.id)).scalars()]
    switches = sum(a != b for a, b in zip(order, order[1:]))
    assert switches >= WRITERS - 1
    assert len({e for e in db.session.execute(select(AuditEvent.prev_hash)).scalars()}) == result.count


def test_appends_committed_one_by_one_and_in_one_transaction_chain_alike(app, db):
    """record() with a commit per event and many events in one transaction (the two ways the
    app appends; their rates are measured by scripts/bench, never asserted here): each event
    follows the one before it, and the chain verifies with every event counted."""
    record("warm_up")
    db.session.commit()
    n = 40
    for i in range(n):
        record("case_viewed", object_type="support_case", object_id=f"one-{i}", details={"page": 1})
        db.session.commit()
    for i in range(n):
        record("case_viewed", object_type="support_case", object_id=f"batch-{i}")
    db.session.commit()
    rows = db.session.execute(select(AuditEvent.object_id, AuditEvent.prev_hash, AuditEvent.hash)
                              .order_by(AuditEvent.id)).all()
    assert [r.object_id for r in rows[1:]] == [f"one-{i}" for i in range(n)] + [f"batch-{i}" for i in range(n)]
    assert [r.prev_hash for r in rows[1:]] == [r.hash for r in rows[:-1]]
    result = verify_chain()
    assert (result.ok, result.count, result.head) == (True, 1 + 2 * n, rows[-1].hash)
