"""Retiring an old data or index key: the service behind ``flask keys retire``.  Refused while
any value still uses the key, and for RETIRE_GRACE after a new key became active (running
processes may still write with the old one until they re-read the ring).
``app.crypto_rotation`` re-exports every name."""
from __future__ import annotations

import datetime as dt

from sqlalchemy import func, select

from .audit.services import record
from .crypto_status import _columns, _data_prefix, _ring, _starts_with, ring_lock
from .db import EncryptedTable, encrypted_tables, utcnow
from .domain import DomainError
from .extensions import db
from .key_check import forget_key

#: how long after a key replacement an old key may not be retired (60 × the ring's refresh interval)
RETIRE_GRACE = dt.timedelta(minutes=5)


def _usage(tables: list[EncryptedTable], kid: str, kind: str) -> dict[str, int]:
    """{"table.column": n} of the values that still use ``kid``."""
    used = {}
    for et in tables:
        data, index = _columns(et)
        cols, prefix = (data, _data_prefix(kid)) if kind == "data" else (index, f"{kid}.")
        for attr, col in cols:
            n = db.session.execute(select(func.count()).select_from(et.table)
                                   .where(_starts_with(col, prefix))).scalar_one()
            if n:
                used[f"{et.name}.{attr}"] = n
    return used


def _require_grace_passed(ring, kid: str) -> None:
    """Running processes re-read the ring within REFRESH_SECONDS; one that has not yet may still
    encrypt with the key just replaced.  Retiring waits RETIRE_GRACE after the last replacement."""
    if not ring.replaced_at:
        return
    ready = dt.datetime.fromisoformat(ring.replaced_at) + RETIRE_GRACE
    if utcnow() < ready:
        raise DomainError(f"key {kid} cannot be retired before {ready.isoformat(sep=' ')} UTC: a new key became "
                          f"active at {ring.replaced_at.replace('T', ' ')} UTC and running processes may still write "
                          "with the old one until they have re-read the key ring", "key")


def retire_key(kid: str, actor=None, tables: list[EncryptedTable] | None = None) -> None:
    """Remove an old data or index key from the ring, refused while any value still uses it."""
    ring = _ring(need_file=True)
    tables = encrypted_tables() if tables is None else tables
    with ring_lock(ring.path):
        ring.reload()
        if kid not in ring.keys and kid not in ring.index_keys:
            raise DomainError(f"there is no key {kid} in the key ring", "key")
        kind = "data" if kid in ring.keys else "index"
        if kid in (ring.active, ring.index_active):
            raise DomainError(f"key {kid} is the active {kind} key; rotate first, then retire it", "key")
        try:
            used = _usage(tables, kid, kind)
            if used:
                where = ", ".join(f"{col} {n}" for col, n in used.items())
                hint = "flask keys rotate --index" if kind == "index" else "flask keys rotate"
                raise DomainError(f"key {kid} is still used by {sum(used.values())} values ({where}); "
                                  f"run '{hint}' first", "key")
            _require_grace_passed(ring, kid)
            # audited (and its check value forgotten) before the file changes: a crash in between
            # leaves the key in the ring, harmless, and the next start records it again
            record("key_retired", object_type="key", object_id=kid, actor=actor, details={"values": 0})
            forget_key(kid)
            db.session.commit()
        except BaseException:
            db.session.rollback()
            ring.reload()
            raise
        ring.remove_key(kid)
        try:
            ring.save()
        except BaseException:
            ring.reload()
            record("key_retire_failed", object_type="key", object_id=kid, actor=actor,
                   details={"reason": "key ring file not written; the key is still in it"})
            db.session.commit()
            raise
