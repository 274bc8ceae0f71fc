"""Key status, rotation and retirement: the services behind ``flask keys status|rotate|retire``.

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

import datetime as dt
import fcntl
import os
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterator

from flask import current_app
from sqlalchemy import and_, bindparam, case, func, inspect, not_, or_, select, update

from .audit.services import record
from .crypto import FORMAT_VERSION, DecryptionError, KeyRing, KeyRingError
from .db import EncryptedTable, encrypted_tables, index_parts, utcnow
from .domain import DomainError
from .extensions import db
from .key_check import forget_key

DEFAULT_BATCH = 2000
#: how long after a key replacement an old key may not be retired (60 × the ring's refresh interval)
RETIRE_GRACE = dt.timedelta(minutes=5)
Progress = Callable[[int, int], None]  # (rows just done, rows in total)


@dataclass
class ColumnCount:
    """How many values of one column each key id encrypted (or indexed)."""

    table: str
    column: str
    kind: str  # "data" or "index"
    counts: dict[str, int]
    #: values whose key id is not in the ring (cannot be decrypted or searched)
    unknown: int = 0


@dataclass
class KeyStatus:
    active: str
    index_active: str
    rotation: dict | None
    columns: list[ColumnCount]
    audit_active: str | None = None

    def totals(self, kind: str) -> dict[str, int]:
        """Values per key id over every column of one kind."""
        totals: dict[str, int] = {}
        for col in (c for c in self.columns if c.kind == kind):
            for kid, n in col.counts.items():
                totals[kid] = totals.get(kid, 0) + n
        return totals


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


def _ring(need_file: bool = False) -> KeyRing:
    ring = current_app.extensions["ieum_keyring"]
    if need_file and ring.path is None:
        raise KeyRingError("the key ring comes from IEUM_KEYS, which this command cannot update. "
                           "Write it to instance/keys.json (chmod 600), unset IEUM_KEYS and run again.")
    return ring


@contextmanager
def ring_lock(path: Path) -> Iterator[None]:
    """One key operation at a time: two rotations would each save a ring missing the other's key."""
    fd = os.open(path.with_name(path.name + ".lock"), os.O_RDWR | os.O_CREAT, 0o600)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise KeyRingError("another 'flask keys rotate' or 'retire' is running; wait for it") from None
        yield
    finally:
        os.close(fd)  # releases the lock


def _starts_with(col, prefix: str):
    """``col LIKE 'prefix%'`` with '_' (allowed in key ids, a LIKE wildcard) escaped."""
    return col.like(prefix.replace("_", r"\_") + "%", escape="\\")


def _data_prefix(kid: str) -> str:
    return f"{FORMAT_VERSION}.{kid}."


def _columns(et: EncryptedTable):
    """(attribute, Column) of the ciphertext columns, then of the blind index columns."""
    data = [(f.column, et.col(f.column)) for f in et.fields]
    index = [(i.column, et.col(i.column)) for i in et.indexes]
    return data, index


def key_status(tables: list[EncryptedTable] | None = None) -> KeyStatus:
    """Values per key id, per table and column (one scan per table)."""
    ring = _ring()
    ring.refresh()
    out = []
    for et in encrypted_tables() if tables is None else tables:
        data, index = _columns(et)
        plan = [(a, c, "data", sorted(ring.keys), _data_prefix) for a, c in data]
        plan += [(a, c, "index", sorted(ring.index_keys), lambda kid: f"{kid}.") for a, c in index]
        exprs = []
        for _attr, col, _kind, kids, prefix in plan:
            exprs.append(func.count(col))
            exprs += [func.count(case((_starts_with(col, prefix(k)), 1))) for k in kids]
        row = iter(db.session.execute(select(*exprs).select_from(et.table)).one())
        for attr, _col, kind, kids, _prefix in plan:
            total = next(row)
            counts = {k: next(row) for k in kids}
            out.append(ColumnCount(et.name, attr, kind, counts, total - sum(counts.values())))
    db.session.rollback()  # end the read (on SQLite every transaction holds the write lock)
    return KeyStatus(ring.active, ring.index_active, ring.rotation, out, ring.audit_active)


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
    db.session.commit()
    return kid, True


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
