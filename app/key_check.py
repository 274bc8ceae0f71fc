"""Does this key ring belong to this database?  A check value per key id, verified at start-up.

A lost ``keys.json`` replaced by a new ring (same ids ``k1``/``i1``/``a1``, other key material),
or an old backup restored beside a ring from after a ``retire``, used to start and answer 500
on every page.  Each key the database has seen leaves a row here: for a data key a known text
sealed with that key, for an index or audit key an HMAC of it.  ``check_ring_fits`` runs when the
app starts and refuses (ConfigError, naming the key) when a key the data was written with is
missing from the ring or is not the same key.  Keys the database has not seen yet are recorded
then; ``flask keys retire`` removes its key's row.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import logging

from sqlalchemy import DateTime, String, Text, inspect, select
from sqlalchemy.exc import IntegrityError, OperationalError, ProgrammingError
from sqlalchemy.orm import Mapped, mapped_column

from .crypto import DecryptionError, KeyRing, _b64d
from .db import utcnow
from .extensions import db

log = logging.getLogger(__name__)

KNOWN_TEXT = "ieum key check v1"
KINDS = ("data", "index", "audit")


class KeyCheck(db.Model):
    """One key id the database has seen, and a value only that key produces."""

    __tablename__ = "key_check"
    kid: Mapped[str] = mapped_column(String(32), primary_key=True)
    kind: Mapped[str] = mapped_column(String(8), nullable=False)
    check_value: Mapped[str] = mapped_column(Text, nullable=False)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, nullable=False, default=utcnow)


def _keys(ring: KeyRing, kind: str) -> dict[str, str]:
    return {"data": ring.keys, "index": ring.index_keys, "audit": ring.audit_keys}[kind]


def _mac(raw_key: str) -> str:
    return hmac.new(_b64d(raw_key), KNOWN_TEXT.encode(), hashlib.sha256).hexdigest()


def check_value(ring: KeyRing, kind: str, kid: str) -> str:
    if kind == "data":
        return ring.encrypt_with(kid, KNOWN_TEXT, KeyCheck.__tablename__, "check_value", kid)
    return _mac(_keys(ring, kind)[kid])


def fits(ring: KeyRing, row: KeyCheck) -> bool:
    if row.kind == "data":
        try:
            return ring.decrypt(row.check_value, KeyCheck.__tablename__, "check_value", row.kid) == KNOWN_TEXT
        except DecryptionError:
            return False
    return hmac.compare_digest(row.check_value, _mac(_keys(ring, row.kind)[row.kid]))


def mismatches(ring: KeyRing) -> list[str]:
    """What is wrong with ``ring`` for this database, one sentence per key (empty: it fits)."""
    problems = []
    for row in db.session.execute(select(KeyCheck).order_by(KeyCheck.kind, KeyCheck.kid)).scalars():
        if row.kid not in _keys(ring, row.kind):
            problems.append(f"{row.kind} key {row.kid} is missing from the key ring")
        elif not fits(ring, row):
            problems.append(f"{row.kind} key {row.kid} in the key ring is not the key this database was written with")
    return problems


def record_new_keys(ring: KeyRing) -> int:
    """Add a check row for every key of the ring the database has not seen (caller commits).
    A key new to a database that knew others was added by a rotation: if that rotation stopped
    between saving the ring and committing its ``key_added`` event, the event is written now."""
    seen = set(db.session.execute(select(KeyCheck.kid)).scalars())
    added = []
    for kind in KINDS:
        for kid in sorted(_keys(ring, kind)):
            if kid not in seen:
                db.session.add(KeyCheck(kid=kid, kind=kind, check_value=check_value(ring, kind, kid)))
                added.append((kind, kid))
    if added and seen:
        _announce_unaudited(added)
    return len(added)


def _announce_unaudited(added: list[tuple[str, str]]) -> None:
    from .audit.models import AuditEvent
    from .audit.services import record
    columns = {c["name"] for c in inspect(db.session.connection()).get_columns(AuditEvent.__tablename__)}
    if not {c.name for c in AuditEvent.__table__.columns} <= columns:
        return  # a database still to be migrated: the next start after the upgrade writes it
    announced = set(db.session.execute(select(AuditEvent.object_id).where(
        AuditEvent.action == "key_added", AuditEvent.object_id.in_([kid for _kind, kid in added]))).scalars())
    for kind, kid in added:
        if kid not in announced:
            record("key_added", object_type="key", object_id=kid, actor=None,
                   details={"kind": kind, "noticed_at_start": True})


def forget_key(kid: str) -> None:
    """A retired key leaves the ring: its check row goes with it (caller commits)."""
    db.session.execute(KeyCheck.__table__.delete().where(KeyCheck.kid == kid))


def check_ring_fits(ring: KeyRing, where: str) -> list[str]:
    """At start-up: the problems (see ``mismatches``) after recording keys not seen yet.
    A database without the table (not migrated yet) or out of reach is not checked here."""
    from .db_setup import sqlite_path
    path = sqlite_path(db.engine)
    if path is not None and not path.exists():
        return []  # a database still to be created: nothing to check, and nothing to create here
    try:
        if not inspect(db.engine).has_table(KeyCheck.__tablename__):
            return []
        problems = mismatches(ring)
        if not problems and record_new_keys(ring):
            try:
                db.session.commit()
            except IntegrityError:  # another process starting at the same moment recorded them
                db.session.rollback()
        else:
            db.session.rollback()
        return problems
    except (OperationalError, ProgrammingError) as exc:
        db.session.rollback()
        log.warning("key ring not checked against %s: %s", where, type(exc.orig).__name__)
        return []
    finally:
        db.session.remove()
