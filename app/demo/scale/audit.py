"""Two years of audit events, sealed into the keyed hash chain exactly as ``record`` seals them
(``chain_hash`` over ``canonical`` with the ring's active audit key), inserted in id order with
``occurred_at`` growing with id: the lifecycle events the other phases noted, plus the views that
dominate a real trail (case_viewed first), on weekdays during office hours in Seoul."""
from __future__ import annotations

import datetime as dt
import json
from bisect import bisect_right
from collections import Counter

from sqlalchemy import select

from ...audit.models import GENESIS_HASH, AuditCheckpoint, AuditEvent
from ...audit.services import SAME_AS_SUBJECT, chain_hash, encode_canonical, hmac_digest, subject_seal
from .build import HISTORY_DAYS, Build
from .views import Views

#: rows per executemany and events per commit
BATCH = 10_000
COMMIT_EVERY = 500_000
#: every this many events, the seal is recomputed through services.chain_hash as a cross-check
CHECK_EVERY = 1_000
#: KST hour -> relative activity (office hours peak, a dip at lunch)
HOURS = (0.2, 0.1, 0.05, 0.05, 0.05, 0.1, 0.4, 1.5, 4, 9, 10, 10, 5, 8, 10, 10, 9, 7, 3.5, 2, 1.5, 1, 0.6, 0.3)
COLUMNS = ("id", "key_id", "prev_hash", "hash", *AuditEvent.HASHED_FIELDS, "subject_seal")


def _head(conn) -> tuple[int, str]:
    table = AuditEvent.__table__
    row = conn.execute(select(table.c.id, table.c.hash).order_by(table.c.id.desc()).limit(1)).first()
    if row:
        return row[0], row[1]
    cp = AuditCheckpoint.__table__
    last = conn.execute(select(cp.c.last_event_id, cp.c.last_event_hash).order_by(cp.c.last_event_id.desc())
                        .limit(1)).first()
    return (last[0], last[1]) if last else (0, GENESIS_HASH)


def _day_weights(b: Build, days: list[dt.date]) -> list[float]:
    """Weekdays carry the load (weekends a tenth), growing as the caseload built up."""
    out = []
    for i, day in enumerate(days):
        weekday = day.weekday()
        out.append((1.0 if weekday < 5 else 0.12 if weekday == 5 else 0.08) * (0.5 + i / len(days)))
    return out


def _times(b: Build, day: dt.date, count: int) -> list[dt.datetime]:
    rng = b.rng
    base = dt.datetime(day.year, day.month, day.day) - dt.timedelta(hours=9)
    hours = rng.choices(range(24), HOURS, k=count)
    return sorted(base + dt.timedelta(hours=h, microseconds=rng.randrange(3_600_000_000)) for h in hours)


class Chain:
    """Seals and inserts events in order.  The canonical form is built directly (the same list
    ``services.canonical`` builds) and every CHECK_EVERY-th event is sealed again through
    ``services.chain_hash`` itself: a mismatch stops the build."""

    def __init__(self, b: Build) -> None:
        self.b = b
        self.kid, self.key = b.ring.audit_key()
        self.last_id, self.prev = _head(b.conn)
        self.last_time = None
        self.pending: list[tuple] = []
        self.done = self.sealed = 0
        self.actors: Counter = Counter()
        self.subjects: Counter = Counter()
        self.days: Counter = Counter()
        self.people: dict[int, tuple] = {}
        self.details: dict[tuple, str] = {}
        self.seals: dict[str, str] = {}  # a subject's seal depends only on it and the key
        self.sqlite = b.conn.dialect.name == "sqlite"
        names = ", ".join(COLUMNS)
        marks = ", ".join(["?" if self.sqlite else "%s"] * len(COLUMNS))
        self.sql = f"INSERT INTO audit_event ({names}) VALUES ({marks})"

    def _person(self, actor_id):
        person = self.people.get(actor_id)
        if person is None:
            user = self.b.users.get(actor_id) if actor_id else None
            person = self.people[actor_id] = (None, None, None, None, None) if user is None else (
                actor_id, user[0], user[1], user[2], f"10.{actor_id % 200}.{actor_id // 200 % 250}.{actor_id % 7 + 10}")
        return person

    def _details(self, details) -> str | None:
        if not details:
            return None
        key = tuple(details.items())
        text = self.details.get(key)
        if text is None:
            text = self.details[key] = json.dumps(details, ensure_ascii=False, sort_keys=True, separators=(",", ":"),
                                                  default=str)
        return text

    def add(self, when: dt.datetime, actor_id, action, object_type, object_id, subject, details,
            outcome: str = "allowed") -> None:
        if self.last_time is not None and when <= self.last_time:
            when = self.last_time + dt.timedelta(microseconds=1)
        self.last_time = when
        person = self._person(actor_id)
        stamp = (f"{when.year:04d}-{when.month:02d}-{when.day:02d} {when.hour:02d}:{when.minute:02d}:"
                 f"{when.second:02d}.{when.microsecond:06d}")
        # HASHED_FIELDS order: occurred_at, actor_id, actor_login, role, organisation_id, ip, action,
        # object_type, object_id, subject_ref, outcome, reason, request_id, details
        seal = None
        if subject:
            seal = self.seals.get(subject) or self.seals.setdefault(subject, subject_seal(self.key, subject))
        object_id = None if object_id is None else str(object_id)
        if object_id is not None and object_id == subject:
            object_id = SAME_AS_SUBJECT  # as services.record writes it
        fields = (stamp, *person, action, object_type, object_id, subject,
                  outcome, None, f"{self.b.rng.getrandbits(64):016x}", self._details(details))
        hashed = fields if seal is None else (*fields[:9], seal, *fields[10:])  # the seal in subject_ref's slot
        digest = hmac_digest(self.key, encode_canonical([self.kid, self.prev, *hashed]).encode("utf-8"),
                             "sha256").hex()
        self.sealed += 1
        if self.sealed % CHECK_EVERY == 1:
            values = dict(zip(AuditEvent.HASHED_FIELDS, fields), occurred_at=when, subject_seal=seal)
            if chain_hash(self.prev, values, self.kid, self.key) != digest:
                raise RuntimeError("audit event sealed differently from services.chain_hash")
        self.last_id += 1
        self.pending.append((self.last_id, self.kid, self.prev, digest,
                             stamp if self.sqlite else when, *fields[1:], seal))
        self.prev = digest
        if person[0]:
            self.actors[actor_id] += 1
        if subject:
            self.subjects[subject] += 1
        if len(self.pending) >= BATCH:
            self.flush()

    def flush(self) -> None:
        if not self.pending:
            return
        cursor = self.b.conn.connection.dbapi_connection.cursor()
        try:
            cursor.executemany(self.sql, self.pending)
        finally:
            cursor.close()
        self.done += len(self.pending)
        self.pending = []
        if self.done % COMMIT_EVERY < BATCH:  # keep the WAL (and a crash's loss) bounded
            self.b.commit()


def build_audit(b: Build, tick) -> Chain:
    chain = b.chain = Chain(b)
    views = Views(b)
    total = b.n("audit_events", minimum=len(b.lifecycle) + 100)
    extra = max(0, total - len(b.lifecycle))
    lifecycle = sorted(b.lifecycle, key=lambda e: e[0])
    b.lifecycle = []
    start = b.today - dt.timedelta(days=HISTORY_DAYS)
    # the reads fill whole days up to yesterday (today's are the benchmark's own), so the same seed
    # gives the same trail whatever the time of day
    days = [start + dt.timedelta(days=i) for i in range(HISTORY_DAYS)]
    weights = _day_weights(b, days)
    scale = extra / sum(weights)
    carry, position = 0.0, 0
    first = dt.datetime.combine(start, dt.time()) - dt.timedelta(hours=9)
    # lifecycle events from before the window (accounts made earlier) go first
    cut = bisect_right([e[0] for e in lifecycle], first)
    for event in lifecycle[:cut]:
        chain.add(*event)
    position = cut
    for day, weight in zip(days, weights):
        carry += weight * scale
        count, carry = int(carry), carry - int(carry)
        end = dt.datetime.combine(day + dt.timedelta(days=1), dt.time()) - dt.timedelta(hours=9)
        todays = []
        while position < len(lifecycle) and lifecycle[position][0] < end:
            todays.append(lifecycle[position])
            position += 1
        merged = sorted([(t, None) for t in _times(b, day, count)] + [(e[0], e) for e in todays],
                        key=lambda pair: pair[0])
        for when, event in merged:
            if event is not None:
                chain.add(*event)
            else:
                chain.add(when, *views.one(day))
        chain.days[day] += len(merged)
        tick(len(merged))
    for event in lifecycle[position:]:
        chain.add(*event)
    chain.flush()
    return chain
