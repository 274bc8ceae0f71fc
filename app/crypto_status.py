"""What ``flask keys status`` shows (values per key id, per table and column) and the pieces key
rotation and retirement share: the running app's ring, the ring file lock, the LIKE prefixes
that find a key id in stored values.  ``app.crypto_rotation`` re-exports every name."""
from __future__ import annotations

import fcntl
import os
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

from flask import current_app
from sqlalchemy import case, func, select

from .crypto import FORMAT_VERSION, KeyRing, KeyRingError
from .db import EncryptedTable, encrypted_tables
from .extensions import db


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
