"""Audit trail tests, and a bulk builder of valid chains for large-data tests.

``fill_chain`` writes events straight into audit_event, hashed exactly as ``record`` hashes
them, so benchmarks can build 200,000 events in seconds rather than minutes.
"""
from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy import select, text

from app.audit.models import GENESIS_HASH, AuditEvent
from app.audit.services import _checkpoint_hash, chain_hash, keyring
from app.extensions import db

COLUMNS = ("occurred_at", *AuditEvent.HASHED_FIELDS[1:], "prev_hash", "hash", "key_id")
ACTIONS = ("case_viewed", "student_viewed", "login", "case_updated", "referral_sent", "export")


def fill_chain(n: int, start: dt.datetime | None = None, step: dt.timedelta = dt.timedelta(seconds=1),
               session=None, key: tuple[str, bytes] | None = None) -> str:
    """Append ``n`` valid events after the current head in the session's transaction, sealed with
    the active audit key (or ``key``: (key id, raw key)); returns the head."""
    session = session or db.session
    kid, raw_key = key or keyring().audit_key()
    head = (session.execute(select(AuditEvent.hash).order_by(AuditEvent.id.desc()).limit(1)).scalar()
            or _checkpoint_hash(session) or GENESIS_HASH)
    when = start or dt.datetime(2026, 1, 1)
    subjects = [str(uuid.uuid4()) for _ in range(50)]
    rows = []
    for i in range(n):
        values = {
            "occurred_at": when + step * i, "actor_id": 1 + i % 40, "actor_login": f"teacher-{i % 40}",
            "role": "school_staff", "organisation_id": 10 + i % 7, "ip": f"10.0.{i % 250}.{i % 200}",
            "action": ACTIONS[i % len(ACTIONS)], "object_type": "support_case",
            "object_id": subjects[(i * 7) % 50], "subject_ref": subjects[i % 50], "outcome": "allowed",
            "reason": "감사 점검" if i % 100 == 0 else None, "request_id": f"{i:032x}",
            "details": '{"page":1,"메모":"없음"}' if i % 3 == 0 else None,
        }
        values["prev_hash"], values["key_id"] = head, kid
        head = values["hash"] = chain_hash(head, values, kid, raw_key)
        rows.append(tuple(values[c] for c in COLUMNS))
    conn = session.connection()
    raw = conn.connection.dbapi_connection
    cols = ", ".join(COLUMNS)
    if conn.dialect.name == "postgresql":
        with raw.cursor() as cur, cur.copy(f"COPY audit_event ({cols}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
    else:
        rows = [(r[0].strftime("%Y-%m-%d %H:%M:%S.%f"), *r[1:]) for r in rows]
        marks = ", ".join("?" * len(COLUMNS))
        raw.executemany(f"INSERT INTO audit_event ({cols}) VALUES ({marks})", rows)
    session.info.pop("ieum_audit_head", None)  # the cached head, if any, is now stale
    return head


def is_postgres(session=None) -> bool:
    return (session or db.session).get_bind().dialect.name == "postgresql"


def drop_append_only_triggers(session=None) -> None:
    """What an attacker with database access does first, before editing the trail."""
    session = session or db.session
    if is_postgres(session):
        session.execute(text("DROP TRIGGER audit_event_append_only ON audit_event"))
        session.execute(text("DROP TRIGGER audit_event_no_update ON audit_event"))  # 0018: updates apart
    else:
        session.execute(text("DROP TRIGGER audit_event_no_update"))
        session.execute(text("DROP TRIGGER audit_event_no_delete"))
    session.commit()


def event_ids(session=None) -> list[int]:
    return list((session or db.session).execute(select(AuditEvent.id).order_by(AuditEvent.id)).scalars())
