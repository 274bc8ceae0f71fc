"""The event scan under every audit export: the events of a time range in id order, verified on
the way (app/audit/export.py writes them as SQLite, CSV or XLSX)."""
from __future__ import annotations

import itertools
from functools import partial
from operator import itemgetter
from typing import Callable, Iterator
from urllib.parse import quote

from .chain import RangeResult, audit_keys, chain_start, check_batch, check_range
from .raw import canonical_sql, fetch_batches, fetch_one, python_hash, raw_columns

#: rows per fetch: whole rows are bigger than verify's, and memory should stay small
BATCH = 5_000
#: ids per INSERT ... SELECT when copying SQLite to SQLite (a progress step)
COPY_STEP = 100_000
#: the exported columns, in order (occurred_at is UTC, exactly as hashed)
COLUMNS = ("id", "occurred_at", "actor_id", "actor_login", "role", "organisation_id", "ip", "action",
           "object_type", "object_id", "subject_ref", "outcome", "reason", "request_id", "details",
           "prev_hash", "hash", "subject_seal")
#: a scan row is (id, hash, prev_hash, canonical, prev_hash, occurred_at, ...hashed fields, subject_seal)
_to_export = itemgetter(0, *range(5, 19), 2, 1, 19)


class EventStream:
    """The events of a time range in id order, verified on the way.

    It walks every id between the first and last event of the range, so the events it
    checks are consecutive: each hash is recomputed and each link to the one before,
    including the link from the event just before the range."""

    def __init__(self, conn, dialect: str, lo: int | None, hi: int | None, utc_bounds: tuple[str, str],
                 tick: Callable[[int], None] | None = None):
        self.conn, self.dialect, self.lo, self.hi, self.bounds = conn, dialect, lo, hi, utc_bounds
        self.tick = tick or (lambda n: None)
        self.count = 0
        self.check = RangeResult()
        # taken now, inside the app: a streamed response iterates without an app context
        self.keys = audit_keys()

    @property
    def verified(self) -> bool:
        return self.check.broken_id is None

    @property
    def verification(self) -> str:
        if self.lo is None:
            return "OK: 내보낸 이벤트 없음"
        if self.verified:
            return f"OK: 이벤트 #{self.lo}–#{self.hi}의 해시와 연결 확인"
        return f"FAILED: 이벤트 #{self.check.broken_id}에서 체인이 끊어짐 ({self.check.problem})"

    def _prev_hash(self) -> str:
        """The hash the first event of the span must follow."""
        after_id, prev, _ = chain_start(self.conn, self.dialect)
        before = fetch_one(self.conn, self.dialect, "SELECT hash FROM audit_event WHERE id < ? AND id > ? "
                                                    "ORDER BY id DESC LIMIT 1", (self.lo, after_id))
        return before[0] if before else prev

    def rows(self) -> Iterator[tuple]:
        """Export tuples (COLUMNS order) of the events in range; iterated in C, not per row here."""
        return itertools.chain.from_iterable(self.batches())

    def batches(self) -> Iterator[Iterator[tuple]]:
        """Export tuples batch by batch (a streamed response sends one chunk per batch)."""
        if self.lo is None:
            return
        conn, dialect, (lo_t, hi_t) = self.conn, self.dialect, self.bounds
        prev, recheck = self._prev_hash(), partial(python_hash, conn, dialect, keys=self.keys)
        statement = (f"SELECT id, hash, prev_hash, {canonical_sql(dialect)}, {raw_columns(dialect)}, subject_seal "
                     "FROM audit_event WHERE id >= ? AND id <= ? ORDER BY id")
        for batch in fetch_batches(conn, dialect, statement, (self.lo, self.hi), size=BATCH):
            if self.check.broken_id is None:
                prev = check_batch(batch, prev, self.check, recheck, self.keys)
            # events inside the id span but outside the time range (another host's clock) stay out
            rows = [r for r in batch if lo_t <= r[5] < hi_t]
            self.count += len(rows)
            self.tick(self.count)
            yield map(_to_export, rows)

    def copy_into(self, out) -> None:
        """SQLite to SQLite: verify the span with the fast walk, then copy with INSERT ...
        SELECT from the attached source, in C (several times faster than any Python loop)."""
        if self.lo is None:
            return
        walked = [0]  # progress: the walk is the first half, the copy the second

        def walk_tick(n: int) -> None:
            walked[0] += n
            self.tick(walked[0] // 2)

        self.check = check_range(self.conn, self.dialect, self.lo - 1, self.hi, self._prev_hash(), walk_tick,
                                 keys=self.keys)
        out.execute("ATTACH DATABASE ? AS source", (f"file:{quote(self.source_path())}?mode=ro",))
        cols = ", ".join(COLUMNS)
        try:
            for lo in range(self.lo - 1, self.hi, COPY_STEP):
                self.count += out.execute(
                    f"INSERT INTO events ({cols}) SELECT {cols} FROM source.audit_event WHERE id > ? AND id <= ? "
                    "AND occurred_at >= ? AND occurred_at < ? ORDER BY id",
                    (lo, min(lo + COPY_STEP, self.hi), *self.bounds)).rowcount
                self.tick((walked[0] + self.count) // 2)
            out.commit()
        finally:
            if out.in_transaction:
                out.rollback()
            out.execute("DETACH DATABASE source")

    def source_path(self) -> str:
        """The file of the SQLite database read from ('' for an in-memory one)."""
        return self.conn.execute("PRAGMA database_list").fetchone()[2] if self.dialect == "sqlite" else ""
