"""Walking a stretch of the hash chain: every stored hash recomputed (HMAC under the audit key
the event names, SHA-256 for a legacy event) and every link compared with the event before.

The fast path asks the database for a whole chunk of consecutive events as one row: their
canonical forms joined by NUL bytes (canonical JSON never holds one: the encoders escape control
characters), their hashes and their links each joined by commas.  Python then splits the forms
in C, maps HMAC over them in C and compares two long strings, so no Python bytecode runs per
event and no row tuple is built per event.  Anything unusual in a chunk (several keys, a legacy
row, a count that does not add up, a mismatch of any kind) sends that chunk to the exact
row-by-row walk, which names the broken event and re-hashes a suspect row the reference way in
Python.  The fast path only ever says "all sound"; it never decides that something is broken.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass
from functools import partial
from itertools import repeat
from operator import methodcaller
from typing import Callable

from .raw import canonical_sql, fetch_batches, fetch_one, python_hash
from .services import hmac_digest, hmac_object, keyring

#: ids per fast chunk: one statement and one result row each (about 1 MB of canonical text)
CHUNK_IDS = 4096


@dataclass
class RangeResult:
    """What one walk over consecutive events found; ranges are joined by their end hashes."""
    count: int = 0
    first_prev: str | None = None
    first_id: int | None = None
    last_hash: str | None = None
    broken_id: int | None = None
    problem: str | None = None


_hexdigest = methodcaller("hexdigest")
#: a legacy (SHA-256) canonical form starts with the 64-hex prev_hash: ["<64 hex>",
_LEGACY_END = 66


def audit_keys() -> dict[str, bytes]:
    """The ring's audit keys: verify cannot run without them."""
    return keyring().audit_key_bytes()


def _one_digest(canon: bytes, keys: dict[str, bytes]) -> str | None:
    """The hash of one canonical form: HMAC under the key it names, SHA-256 for a legacy row."""
    end = canon.find(b'"', 2)
    if end == _LEGACY_END:
        return hashlib.sha256(canon).hexdigest()
    key = keys.get(bytes(canon[2:end]).decode("ascii", "replace"))
    return None if key is None else hmac_digest(key, canon, "sha256").hex()


def digests(canons: list[bytes], keys: dict[str, bytes]) -> list[str | None]:
    """Hashes of a batch of canonical forms.  Fast path: every row names the same key, checked
    with one C-level startswith map, then HMAC mapped in C (no Python bytecode per row)."""
    first = canons[0]
    end = first.find(b'"', 2)
    if end != _LEGACY_END:
        kid = bytes(first[2:end]).decode("ascii", "replace")
        if kid in keys and all(map(methodcaller("startswith", bytes(first[:end + 2])), canons)):
            return list(map(_hexdigest, map(hmac_object, repeat(keys[kid]), canons, repeat("sha256"))))
    return [_one_digest(c, keys) for c in canons]


def check_batch(rows: list[tuple], prev: str | None, res: RangeResult, recheck: Callable[[int], str | None],
                keys: dict[str, bytes] | None = None) -> str:
    """Check (id, hash, prev_hash, canonical UTF-8) rows against the hash before them (None: the
    caller checks the first link), updating ``res``; returns the hash the next row follows."""
    stored = [r[1] for r in rows]
    links = [r[2] for r in rows]
    if res.first_id is None:
        res.first_id, res.first_prev = rows[0][0], links[0]
        prev = links[0] if prev is None else prev
    computed = digests([r[3] for r in rows], audit_keys() if keys is None else keys)
    if computed != stored or links[0] != prev or links[1:] != stored[:-1]:
        expected = [prev, *stored[:-1]]
        for i, row in enumerate(rows):
            if links[i] != expected[i]:
                res.broken_id, res.problem = row[0], "link"
            elif computed[i] != stored[i] and recheck(row[0]) != stored[i]:
                res.broken_id, res.problem = row[0], "hash"
            if res.broken_id is not None:
                res.count += i
                return prev
    res.count += len(rows)
    res.last_hash = stored[-1]
    return stored[-1]


def chunk_sql(dialect: str) -> str:
    """One result row per id range: (events, min key id, max key id, keyed events, first id,
    canonical forms NUL-joined, hashes comma-joined, links comma-joined, hashes, links), joined
    in id order; the last two count non-NULL values (a join skips NULLs)."""
    canon = canonical_sql(dialect)
    if dialect == "postgresql":
        return ("SELECT count(*), min(key_id), max(key_id), count(key_id), min(id), "
                f"string_agg({canon}, '\\x00'::bytea ORDER BY id), string_agg(hash, ',' ORDER BY id), "
                "string_agg(prev_hash, ',' ORDER BY id), count(hash), count(prev_hash) "
                "FROM audit_event WHERE id > %s AND id <= %s")
    # an ORDER BY subquery is never flattened into an aggregate: the join follows id order
    return ("SELECT count(*), min(key_id), max(key_id), count(key_id), min(id), "
            "CAST(group_concat(c, char(0)) AS BLOB), group_concat(hash, ','), group_concat(prev_hash, ','), "
            "count(hash), count(prev_hash) "
            f"FROM (SELECT id, key_id, hash, prev_hash, {canon} AS c FROM audit_event "
            "WHERE id > ? AND id <= ? ORDER BY id)")


def chunk_first_link(row: tuple, prev: str | None, keys: dict[str, bytes]) -> str | None:
    """The first event's link if every event of a chunk row is sound and linked to the one
    before it (and the first to ``prev``, unless None); None sends the chunk to the exact walk.

    Hashes and links are compared as comma-joined strings: the computed side is n 64-hex
    digests, so equal strings (of n non-NULL values each) mean equal hashes one by one, and
    the links must be exactly ``prev`` followed by every hash but the last."""
    n, kmin, kmax, keyed, _first, blob, hashes, links, n_hashes, n_links = row
    if kmin != kmax or keyed not in (0, n) or n_hashes != n or n_links != n or not blob:
        return None
    canons = bytes(blob).split(b"\0")
    if len(canons) != n:
        return None
    if keyed:
        key = keys.get(kmin)
        if key is None:
            return None
        computed = map(_hexdigest, map(hmac_object, repeat(key), canons, repeat("sha256")))
    else:  # legacy SHA-256 events (before the keyed chain); their forms carry no key id
        computed = map(_hexdigest, map(hashlib.sha256, canons))
    if ",".join(computed) != hashes:
        return None
    tail = "," + hashes[:-65] if n > 1 else ""
    if not links.endswith(tail):
        return None
    head = links[:len(links) - len(tail)]
    if (prev is not None and head != prev) or "," in head:
        return None
    return head


def check_range(conn, dialect: str, lo: int, hi: int, prev: str | None,
                tick: Callable[[int], None] | None = None, keys: dict[str, bytes] | None = None) -> RangeResult:
    """Walk the events with lo < id <= hi in order; stops at the first broken one.  ``prev`` is
    the hash the first event must follow (None: the caller checks that link)."""
    res = RangeResult()
    keys = audit_keys() if keys is None else keys
    statement = chunk_sql(dialect)
    cur = conn.cursor(binary=True) if dialect == "postgresql" else conn.cursor()
    try:
        start = lo
        while start < hi:
            end = min(start + CHUNK_IDS, hi)
            cur.execute(statement, (start, end))
            row = cur.fetchone()
            if not row[0]:  # a gap in the ids (PostgreSQL sequences, purges): jump over it
                nxt = fetch_one(conn, dialect, "SELECT MIN(id) FROM audit_event WHERE id > ? AND id <= ?",
                                (end, hi))[0]
                start = hi if nxt is None else nxt - 1
                continue
            first_link = chunk_first_link(row, prev, keys)
            if first_link is not None:
                if res.first_id is None:
                    res.first_id, res.first_prev = row[4], first_link
                res.count += row[0]
                prev = res.last_hash = row[6][-64:]
            else:
                prev = _walk_rows(conn, dialect, start, end, prev, res, keys)
                if res.broken_id is not None:
                    break
            if tick:
                tick(row[0])
            start = end
    finally:
        cur.close()
    return res


def _walk_rows(conn, dialect: str, lo: int, hi: int, prev: str | None, res: RangeResult,
               keys: dict[str, bytes]) -> str | None:
    """The exact walk, row by row: names the first broken event of lo < id <= hi."""
    recheck = partial(python_hash, conn, dialect, keys=keys)
    batches = fetch_batches(conn, dialect, f"SELECT id, hash, prev_hash, {canonical_sql(dialect)} "
                                           "FROM audit_event WHERE id > ? AND id <= ? ORDER BY id", (lo, hi))
    try:
        for rows in batches:
            prev = check_batch(rows, prev, res, recheck, keys)
            if res.broken_id is not None:
                break
    finally:  # an early stop closes the server-side cursor now, not at garbage collection
        batches.close()
    return prev


def join_ranges(parts: list[RangeResult], start_hash: str) -> RangeResult:
    """Each range must start where the one before ended; the first break wins."""
    total, prev = RangeResult(last_hash=start_hash), start_hash
    for part in parts:
        if part.first_id is None:
            continue
        if part.first_prev != prev:
            return RangeResult(total.count, broken_id=part.first_id, problem="link")
        total.count += part.count
        if part.broken_id is not None:
            return RangeResult(total.count, broken_id=part.broken_id, problem=part.problem)
        prev = total.last_hash = part.last_hash
    return total
