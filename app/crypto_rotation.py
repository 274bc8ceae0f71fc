"""Key rotation: the service behind ``flask keys rotate`` (status and retirement, behind ``flask keys
status|retire``, live in ``crypto_status`` and ``crypto_retire``; their names stay importable from here).

Rotation works on tables, not ORM objects, because it must reach ≥ 20,000 values/s: keyset
pagination by id, only id, uid and the encrypted columns selected, values re-encrypted in
Python and written back with executemany UPDATEs.  Each UPDATE is guarded by the old
ciphertext, so a row a web request changed in between is left alone (the next run picks it
up if it still needs work).  Every batch commits together with its audit event.

Resuming: the new key is saved to the ring file with a ``rotation`` marker *before* any value
is re-encrypted.  While the marker is there, ``rotate`` finishes that rotation instead of
adding yet another key; it is cleared once no value needs work.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

from sqlalchemy import and_, bindparam, func, inspect, not_, or_, select, update
from sqlalchemy.exc import IntegrityError

from .audit.services import record
from .crypto import DecryptionError, KeyRing
from .crypto_retire import RETIRE_GRACE, _require_grace_passed, _usage, retire_key  # noqa: F401
from .crypto_status import (ColumnCount, KeyStatus, _columns, _data_prefix, _ring, _starts_with,  # noqa: F401
                            key_status, ring_lock)
from .db import EncryptedTable, encrypted_tables, index_parts
from .domain import DomainError
from .extensions import db
from .key_check import KeyCheck, record_new_keys

DEFAULT_BATCH = 2000
Progress = Callable[[int, int], None]  # (rows just done, rows in total)


@dataclass
class RotationResult:
    active: str
    index_active: str
    added: list[str] = field(default_factory=list)
    resumed: bool = False
    values: int = 0
    blind_indexes: int = 0
    batches: int = 0
    #: values still on an old key (written meanwhile by a process with the old ring)
    remaining: int = 0


def _needs_work(et: EncryptedTable, ring: KeyRing):
    """Rows with a value not on the active key or a blind index not on the active index key."""
    data, index = _columns(et)
    conds = [and_(c.isnot(None), not_(_starts_with(c, _data_prefix(ring.active)))) for _a, c in data]
    conds += [and_(c.isnot(None), not_(_starts_with(c, f"{ring.index_active}."))) for _a, c in index]
    return or_(*conds)


def _pending_rows(tables: list[EncryptedTable], ring: KeyRing) -> int:
    total = sum(db.session.execute(select(func.count()).select_from(et.table)
                                   .where(_needs_work(et, ring))).scalar_one() for et in tables)
    db.session.rollback()
    return total


def _reencrypt_rows(et: EncryptedTable, ring: KeyRing, rows) -> dict[str, list[dict]]:
    """New ciphertexts and blind indexes for one batch: {attribute: [{_id, _old, _new}]}."""
    fields, indexes = et.fields, et.indexes
    active, index_prefix = ring.active, ring.index_active + "."
    current = _data_prefix(active)
    changes: dict[str, list[dict]] = {f.column: [] for f in fields}
    changes.update({i.column: [] for i in indexes})
    by_name = {f.name: n for n, f in enumerate(fields)}
    for row in rows:
        rid, uid = row[0], row[1]
        texts: dict[str, str] = {}

        def plain(n: int) -> str:
            f = fields[n]
            if f.name not in texts:
                texts[f.name] = ring.decrypt(row[2 + n], et.name, f.column, uid)
            return texts[f.name]

        try:
            for n, f in enumerate(fields):
                old = row[2 + n]
                if old is not None and not old.startswith(current):
                    new = ring.encrypt(plain(n), et.name, f.column, uid)
                    changes[f.column].append({"_id": rid, "_old": old, "_new": new})
            for m, idx in enumerate(indexes):
                old = row[2 + len(fields) + m]
                if old is not None and not old.startswith(index_prefix):
                    values = [None if row[2 + by_name[s]] is None
                              else fields[by_name[s]].load(plain(by_name[s])) for s in idx.sources]
                    parts = index_parts(values)
                    new = None if parts is None else ring.blind_index(parts)
                    changes[idx.column].append({"_id": rid, "_old": old, "_new": new})
        except DecryptionError as exc:
            # the row id is not personal data and tells the operator which value to look at
            raise DecryptionError(f"{exc} (row id {rid}); rotation stopped, nothing of this batch was written") from None
    return changes


def _rotate_table(et: EncryptedTable, ring: KeyRing, result: RotationResult, batch_size: int,
                  actor, progress: Progress | None, total: int) -> None:
    data, index = _columns(et)
    id_col, uid_col = et.col("id"), et.col("uid")
    columns = dict(data + index)
    statements = {a: update(et.table).where(id_col == bindparam("_id"), c == bindparam("_old"))
                  .values({c: bindparam("_new")}) for a, c in columns.items()}
    query = (select(id_col, uid_col, *(c for _a, c in data), *(c for _a, c in index))
             .where(id_col > bindparam("last"), _needs_work(et, ring)).order_by(id_col).limit(batch_size))
    index_attrs = {a for a, _c in index}
    last = 0
    while True:
        rows = db.session.execute(query, {"last": last}).all()
        if not rows:
            db.session.rollback()
            return
        last = rows[-1][0]
        counts = {}
        for attr, params in _reencrypt_rows(et, ring, rows).items():
            if params:
                db.session.execute(statements[attr], params)
                counts[f"{et.name}.{attr}"] = len(params)
                if attr in index_attrs:
                    result.blind_indexes += len(params)
                else:
                    result.values += len(params)
        if counts:
            record("keys_reencrypted", object_type="key", object_id=ring.active, actor=actor, details=counts)
        db.session.commit()
        result.batches += 1
        if progress:
            progress(len(rows), total)


def rotate_keys(actor=None, index: bool = False, batch_size: int = DEFAULT_BATCH,
                progress: Progress | None = None,
                tables: list[EncryptedTable] | None = None) -> RotationResult:
    """Add a new active data key (and index key) and re-encrypt every value onto it; resumable."""
    if batch_size < 1:
        raise DomainError("batch size must be at least 1", "batch_size")
    ring = _ring(need_file=True)
    tables = encrypted_tables() if tables is None else tables
    with ring_lock(ring.path):
        ring.reload()
        result = RotationResult(ring.active, ring.index_active, resumed=ring.rotation is not None)
        if ring.rotation is None:
            result.added.append(ring.add_data_key())
            ring.rotation = {"to": ring.active, "index_to": None}
        if index and not ring.rotation.get("index_to"):
            result.added.append(ring.add_index_key())
            ring.rotation["index_to"] = ring.index_active
        if result.added:
            ring.save()  # the new key is on disk before any value depends on it
            for kid in result.added:
                record("key_added", object_type="key", object_id=kid, actor=actor)
            _remember_new_keys(ring)
            db.session.commit()
        result.active, result.index_active = ring.active, ring.index_active
        try:
            total = _pending_rows(tables, ring)
            if progress:
                progress(0, total)
            for et in tables:
                _rotate_table(et, ring, result, batch_size, actor, progress, total)
            result.remaining = _pending_rows(tables, ring)
        except BaseException:  # Ctrl-C included: the open batch is undone, committed ones stay
            db.session.rollback()
            raise
        record("keys_rotated", object_type="key", object_id=ring.active, actor=actor,
               details={"values": result.values, "blind_indexes": result.blind_indexes,
                        "batches": result.batches, "remaining": result.remaining})
        db.session.commit()
        if result.remaining == 0:
            ring.rotation = None
            ring.save()
    return result


def rotate_audit_key(actor=None) -> tuple[str, bool]:
    """Start a new audit-chain key: new events are sealed with it, old ones keep theirs (nothing is
    rewritten).  Returns (key id, whether the change could be audited: not before migration 0008)."""
    ring = _ring(need_file=True)
    with ring_lock(ring.path):
        ring.reload()
        kid = ring.add_audit_key()
        ring.save()  # on disk before any event depends on it
    columns = {c["name"] for c in inspect(db.engine).get_columns("audit_event")}
    if "key_id" not in columns:
        return kid, False
    record("key_added", object_type="key", object_id=kid, actor=actor, details={"kind": "audit"})
    _remember_new_keys(ring)
    db.session.commit()
    return kid, True


def _remember_new_keys(ring: KeyRing) -> None:
    """The new key's check value, in the transaction of its ``key_added`` event.  Otherwise only
    the next start records it, and until then a ring without it (the one from before the
    rotation, restored by mistake) would start and show every re-encrypted value as unreadable."""
    if not inspect(db.session.connection()).has_table(KeyCheck.__tablename__):
        return  # a database not migrated yet: its first start after the upgrade records them
    try:
        with db.session.begin_nested():
            record_new_keys(ring)
    except IntegrityError:
        pass  # a process starting at this moment recorded them from the same ring file
