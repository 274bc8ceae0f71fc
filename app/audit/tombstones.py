"""Retention tombstones in the audit trail: when the law's retention period ends and a student's
data is deleted (app/records/retention.py), the events about them keep their ids, actions and
times, but the subject reference is replaced by the run's tombstone ("retained:<uid>").

Why the chain still verifies: since migration 0018 an event's hash covers ``subject_seal``, an
HMAC of the reference under the event's audit key, in the reference's place.  Replacing the
reference changes nothing the hash covers.  What keeps the reference honest instead: verify
(app/audit/chain.py ``seal_problem``) recomputes the seal of every reference that is not a
tombstone, so a reference moved to another student is caught; the database triggers allow
this one UPDATE and no other; a tombstone can only replace, never be replaced.  The seal itself
names nobody: it needs both the audit key and the former uid, which the retention run destroys.

Events sealed before 0018 hash the reference itself; they keep the uid (random, naming nobody
once the student row is gone) and are counted by ``unsealed_events``."""
from __future__ import annotations

from sqlalchemy import func, select, update

from ..extensions import db
from .models import AuditEvent
from .services import TOMBSTONE_PREFIX

_EVENTS = AuditEvent.__table__


def tombstone_subject(subject_ref: str, tombstone_ref: str, session=None) -> int:
    """Replace ``subject_ref`` by ``tombstone_ref`` in every sealed event of that subject, in the
    caller's transaction; returns how many events changed."""
    if not subject_ref or subject_ref.startswith(TOMBSTONE_PREFIX):
        raise ValueError("a subject reference is needed, not a tombstone")
    if not tombstone_ref.startswith(TOMBSTONE_PREFIX) or len(tombstone_ref) > 64:
        raise ValueError(f"a tombstone reference starts with {TOMBSTONE_PREFIX!r} (≤ 64 characters)")
    session = session or db.session
    result = session.execute(update(_EVENTS).where(_EVENTS.c.subject_ref == subject_ref,
                                                   _EVENTS.c.subject_seal.is_not(None))
                             .values(subject_ref=tombstone_ref))
    return result.rowcount


def unsealed_events(subject_ref: str, session=None) -> int:
    """Events of the subject sealed before 0018: their hash covers the reference, which stays."""
    session = session or db.session
    return session.execute(select(func.count()).select_from(_EVENTS)
                           .where(_EVENTS.c.subject_ref == subject_ref)).scalar_one()


def subject_seal_problem(conn, dialect: str, keys: dict[str, bytes]) -> tuple[int, str] | None:
    """(first event id, message) when a sealed event's reference no longer matches its seal and is
    not a tombstone: the hash covers the seal, not the reference, so verify checks references
    here, once per distinct (reference, seal, key), read in order from ix_audit_event_subject_seal
    (about 0.2 s per million events on SQLite, no sort)."""
    from flask_babel import gettext as _
    from .raw import fetch_batches, fetch_one
    from .services import subject_seal
    statement = ("SELECT subject_ref, subject_seal, key_id FROM audit_event WHERE subject_seal IS NOT NULL "
                 "GROUP BY subject_ref, subject_seal, key_id")
    same = "IS NOT DISTINCT FROM" if dialect == "postgresql" else "IS"
    worst = None
    for rows in fetch_batches(conn, dialect, statement, ()):
        for ref, seal, kid in rows:
            if ref is not None and ref.startswith(TOMBSTONE_PREFIX):
                continue
            key = keys.get(kid)
            if ref is None or key is None or subject_seal(key, ref) != seal:
                first = fetch_one(conn, dialect, f"SELECT MIN(id) FROM audit_event WHERE subject_ref {same} ? "
                                                 f"AND subject_seal = ? AND key_id {same} ?", (ref, seal, kid))[0]
                worst = first if worst is None else min(worst, first)
    if worst is None:
        return None
    return worst, _("이벤트 #%(id)d의 정보주체 참조가 봉인과 맞지 않습니다 (참조가 바뀌었습니다)", id=worst)
