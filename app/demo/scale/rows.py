"""Bulk rows through the app's own field types: every encrypted value is sealed with the key ring
exactly as the model descriptors seal it (``EncryptedField.dump`` + ``KeyRing.encrypt`` bound to
table, column and the row's uid) and every blind index is computed with ``index_parts`` +
``KeyRing.blind_index``, as ``compute_blind_index`` does.  Rows are inserted with SQLAlchemy Core
``insert(Model.__table__)`` executemany in batches, ids chosen here so children can point at
parents without reading anything back."""
from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from sqlalchemy import func, select

from ...db import blind_indexes_of, encrypted_fields_of, index_parts

#: rows per executemany
BATCH = 5_000


class Rows:
    """Pending rows of one model; ``add`` returns the new row's id."""

    def __init__(self, build, model: type) -> None:
        self.build, self.model = build, model
        self.table = model.__table__
        self.name = model.__tablename__
        self.fields = encrypted_fields_of(model)
        self.indexes = blind_indexes_of(model)
        self.has_uid = "uid" in self.table.c
        self.columns = [c.name for c in self.table.c]
        self.defaults = {}
        for column in self.table.c:
            default = column.default
            if default is not None and not default.is_callable and not default.is_sequence:
                self.defaults[column.name] = default.arg
        self.known = frozenset(self.columns)
        # every row has every column (executemany needs one shape): defaults, then the row's values
        self.template = {c: build.now if c in ("created_at", "updated_at") else self.defaults.get(c)
                         for c in self.columns}
        conn = build.conn
        self.next_id = (conn.execute(select(func.max(self.table.c.id))).scalar() or 0) + 1
        self.pending: list[dict] = []
        self.count = 0

    def add(self, **values: Any) -> int:
        row_id = self.next_id
        self.next_id += 1
        values["id"] = row_id
        if self.has_uid and "uid" not in values:
            values["uid"] = self.build.uid()
        ring = self.build.ring
        plain: dict[str, Any] = {}
        for name, field in self.fields.items():
            if name in values:
                value = plain[name] = values.pop(name)
                values[field.column] = None if value is None else ring.encrypt(
                    field.dump(value), self.name, field.column, values["uid"])
        for index in self.indexes:
            if any(source in plain for source in index.sources):
                parts = index_parts(plain.get(source) for source in index.sources)
                values[index.column] = None if parts is None else ring.blind_index(parts)
        if not values.keys() <= self.known:
            raise KeyError(f"{self.name}: unknown columns {sorted(values.keys() - self.known)}")
        row = dict(self.template)
        row.update(values)
        self.pending.append(row)
        if len(self.pending) >= BATCH:
            self.build.writer.flush()  # parents (first used earlier) before children
        return row_id

    def flush(self) -> None:
        if self.pending:
            self.build.conn.execute(self.table.insert(), self.pending)
            self.count += len(self.pending)
            self.pending = []


class Writer:
    """One Rows per model, flushed together in dependency order at the end of a phase."""

    def __init__(self, build) -> None:
        self.build = build
        self.tables: dict[type, Rows] = {}

    def __getitem__(self, model: type) -> Rows:
        rows = self.tables.get(model)
        if rows is None:
            rows = self.tables[model] = Rows(self.build, model)
        return rows

    def flush(self) -> None:
        for rows in self.tables.values():  # insertion order = first use = parents first
            rows.flush()


def make_uid(rng) -> str:
    """A version-4 UUID drawn from the build's random generator (reproducible per seed)."""
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def kst_to_utc(day: dt.date, hour: int, minute: int = 0, second: int = 0) -> dt.datetime:
    """Naive UTC of a KST wall-clock time (the app stores naive UTC)."""
    return dt.datetime(day.year, day.month, day.day, hour, minute, second) - dt.timedelta(hours=9)

