"""Verifying the audit hash chain, and the retention purge that keeps it verifiable."""
from __future__ import annotations

import datetime as dt
import hashlib
import multiprocessing
from dataclasses import dataclass
from functools import partial
from itertools import repeat
from operator import methodcaller
from typing import Callable

from flask import current_app
from sqlalchemy import delete, func, select

from ..db import today_kst, utcnow
from ..domain import DomainError
from ..extensions import db
from .models import GENESIS_HASH, AuditCheckpoint, AuditEvent
from .seal import checkpoint_problem, forged_checkpoint, sign_checkpoint, unkeyed_problem
from .services import (_lock_chain_and_read_head, canonical_sql, fetch_batches, fetch_one, hmac_digest, hmac_object,
                       keyring, python_hash, read_connection, record)

#: ids per unit of work when two processes share a verify
CHUNK = 25_000
#: below this many events one process is done (~1 s) before a second one has started up
PARALLEL_MIN = 500_000
KST = dt.timedelta(hours=9)

Progress = Callable[[int, int], None]  # (events done, events expected)


@dataclass
class VerifyResult:
    ok: bool
    #: events checked and found sound (all of them when ok)
    count: int
    #: hash of the newest event: keep it elsewhere to notice a cut-off tail later
    head: str | None
    first_broken_id: int | None
    message: str
    #: the newest id the walk covered (later events arrived during it)
    last_id: int | None = None


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


def audit_keys() -> dict[str, bytes]:
    """The ring's audit keys: verify cannot run without them."""
    return keyring().audit_key_bytes()


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


def check_range(conn, dialect: str, lo: int, hi: int, prev: str | None,
                tick: Callable[[int], None] | None = None, keys: dict[str, bytes] | None = None) -> RangeResult:
    """Walk the events with lo < id <= hi in order; stops at the first broken one."""
    res = RangeResult()
    keys = audit_keys() if keys is None else keys
    recheck = partial(python_hash, conn, dialect, keys=keys)
    batches = fetch_batches(conn, dialect, f"SELECT id, hash, prev_hash, {canonical_sql(dialect)} "
                                           "FROM audit_event WHERE id > ? AND id <= ? ORDER BY id", (lo, hi))
    try:
        for rows in batches:
            prev = check_batch(rows, prev, res, recheck, keys)
            if res.broken_id is not None:
                break
            if tick:
                tick(len(rows))
    finally:  # an early stop closes the server-side cursor now, not at garbage collection
        batches.close()
    return res


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


def chain_start(conn, dialect: str) -> tuple[int, str, int | None]:
    """(last purged id, hash the chain continues from, checkpoint id) per the newest checkpoint."""
    row = fetch_one(conn, dialect, "SELECT last_event_id, last_event_hash, id FROM audit_checkpoint "
                                   "ORDER BY last_event_id DESC LIMIT 1")
    return (row[0], row[1], row[2]) if row else (0, GENESIS_HASH, None)


def verify_chain(session=None, progress: Progress | None = None) -> VerifyResult:
    """Walk the chain from the newest checkpoint and name the first broken event."""
    result, cp_id = _verify_once(session, progress)
    if not result.ok and session is None:
        with read_connection() as (conn, dialect):
            moved = chain_start(conn, dialect)[2] != cp_id
        if moved:  # a purge ran while we read: what we saw missing was purged, read again
            result, _ = _verify_once(session, progress)
    return result


def _verify_once(session, progress):
    with read_connection(session) as (conn, dialect):
        after_id, start_hash, cp_id = chain_start(conn, dialect)
        hi = fetch_one(conn, dialect, "SELECT MAX(id) FROM audit_event")[0] or after_id
        done = [0]

        def tick(n: int) -> None:
            done[0] += n
            if progress:
                progress(done[0], hi - after_id)

        keys = audit_keys()
        problem = forged_checkpoint(conn, dialect, keys)
        problem = problem or (checkpoint_problem(conn, dialect, after_id, start_hash, cp_id) if cp_id else None)
        problem = problem or unkeyed_problem(conn, dialect, after_id)
        if problem:
            return VerifyResult(False, 0, None, None, problem), cp_id
        url = db.engine.url
        parallel = (session is None and (dialect == "postgresql" or url.database not in (None, "", ":memory:"))
                    and hi - after_id >= current_app.config.get("AUDIT_VERIFY_PARALLEL_MIN", PARALLEL_MIN))
        if parallel:
            res = _verify_parallel(conn, dialect, url.render_as_string(hide_password=False),
                                   after_id, start_hash, hi, tick)
        else:
            res = check_range(conn, dialect, after_id, hi, start_hash, tick, keys=keys)
        head = fetch_one(conn, dialect, "SELECT hash FROM audit_event WHERE id = ?", (hi,))
    return _result(res, head[0] if head else (start_hash if cp_id else None), hi), cp_id


def _result(res: RangeResult, head: str | None, hi: int) -> VerifyResult:
    if res.broken_id is None:
        return VerifyResult(True, res.count, head, None, f"접속기록 {res.count:,}건, 해시 체인 정상", last_id=hi)
    why = ("내용이 바뀌었습니다 (해시 불일치)" if res.problem == "hash"
           else "앞 이벤트와 이어지지 않습니다 (삭제·순서 변경)")
    return VerifyResult(False, res.count, head, res.broken_id,
                        f"이벤트 #{res.broken_id}에서 체인이 끊어졌습니다: {why}", last_id=hi)


def _verify_parallel(conn, dialect, url, after_id, start_hash, hi, tick) -> RangeResult:
    """Share id chunks with one spawned helper through a counter: whichever process is free
    takes the next chunk, so the helper's start-up time costs nothing but its share."""
    bounds = [(lo, min(lo + CHUNK, hi)) for lo in range(after_id, hi, CHUNK)]
    ctx = multiprocessing.get_context("spawn")  # fork would copy a live app and its connections
    counter = ctx.Value("i", 0)
    ours, theirs = ctx.Pipe(duplex=False)
    # the helper has no app and no ring: it gets the audit keys through the spawn pipe
    proc = ctx.Process(target=_chunk_worker, args=(url, bounds, counter, theirs, audit_keys()), daemon=True)
    proc.start()
    theirs.close()
    parts: dict[int, RangeResult] = {}
    helper_done = False
    try:
        while (i := _take(counter)) < len(bounds):
            parts[i] = check_range(conn, dialect, *bounds[i], None)
            tick(parts[i].count)
            while not helper_done and ours.poll():
                helper_done = _receive(ours, parts, tick)
        # wait only for chunks the helper took; one still starting up took none
        while not helper_done and len(parts) < len(bounds):
            helper_done = _receive(ours, parts, tick)
    finally:
        if proc.is_alive():
            proc.terminate()
        proc.join()
        ours.close()
    for i, (lo, hi_) in enumerate(bounds):  # anything a failed helper left undone
        if i not in parts:
            parts[i] = check_range(conn, dialect, lo, hi_, None, tick)
    return join_ranges([parts[i] for i in range(len(bounds))], start_hash)


def _take(counter) -> int:
    with counter.get_lock():
        counter.value += 1
        return counter.value - 1


def _receive(pipe, parts: dict, tick) -> bool:
    """One message from the helper; True once it has nothing more to say."""
    try:
        kind, i, value = pipe.recv()
    except EOFError:
        return True
    if kind == "chunk":
        parts[i] = value
        tick(value.count)
    return kind != "chunk"


def _chunk_worker(url: str, bounds: list, counter, pipe, keys: dict[str, bytes]) -> None:
    """Runs in a spawned process: its own connection, no app, no lock."""
    from sqlalchemy import create_engine
    from sqlalchemy.pool import NullPool
    try:
        engine = create_engine(url, poolclass=NullPool)
        raw = engine.raw_connection()
        try:
            dialect = engine.dialect.name
            while (i := _take(counter)) < len(bounds):
                pipe.send(("chunk", i, check_range(raw.dbapi_connection, dialect, *bounds[i], None, keys=keys)))
        finally:
            raw.rollback()
            raw.close()
            engine.dispose()
        pipe.send(("done", None, None))
    except Exception as exc:  # the parent redoes whatever this left undone
        pipe.send(("error", None, repr(exc)))
    finally:
        pipe.close()


def retention_cutoff() -> dt.date:
    """The newest date a purge may name: today (KST) minus AUDIT_RETENTION_YEARS."""
    today, years = today_kst(), int(current_app.config["AUDIT_RETENTION_YEARS"])
    try:
        return today.replace(year=today.year - years)
    except ValueError:  # 29 February
        return today.replace(year=today.year - years, day=28)


def purge_events(before: dt.date, actor=None, *, progress: Progress | None = None) -> AuditCheckpoint | None:
    """Remove events older than ``before`` (KST) through a checkpoint; None if none qualify."""
    cutoff = retention_cutoff()
    if before > cutoff:
        years = current_app.config["AUDIT_RETENTION_YEARS"]
        raise DomainError(f"접속기록은 {years}년 이상 보관해야 합니다. {cutoff.isoformat()} 이전 날짜만 "
                          f"삭제할 수 있습니다.", field="before")
    # never purge what is already broken: that would erase the evidence
    checked = verify_chain(progress=progress)
    if not checked.ok:
        raise DomainError(f"해시 체인 검증에 실패하여 삭제하지 않았습니다. {checked.message}", field="before")
    session = db.session
    _lock_chain_and_read_head(session)
    purged_before = dt.datetime.combine(before, dt.time()) - KST
    after_id = session.execute(select(func.max(AuditCheckpoint.last_event_id))).scalar() or 0
    first_kept = session.execute(select(func.min(AuditEvent.id)).where(
        AuditEvent.id > after_id, AuditEvent.occurred_at >= purged_before)).scalar()
    # only a prefix of the chain can go, so an older event after a newer one stays
    prefix = (AuditEvent.id > after_id) & (AuditEvent.id <= (checked.last_id or 0))
    if first_kept is not None:
        prefix = prefix & (AuditEvent.id < first_kept)
    last_id, count = session.execute(select(func.max(AuditEvent.id), func.count()).where(prefix)).one()
    if not count:
        return None
    last_hash = session.execute(select(AuditEvent.hash).where(AuditEvent.id == last_id)).scalar_one()
    # recorded first: the checkpoint trigger admits a checkpoint only right after its own
    # audit_purged event (the newest event, same transaction); and its id stays above every
    # purged id even if the table empties
    record("audit_purged", object_type="audit_checkpoint", actor=actor,
           details={"before": before.isoformat(), "last_event_id": last_id,
                    "last_event_hash": last_hash, "events_removed": count})
    checkpoint = AuditCheckpoint(created_at=utcnow(), purged_before=purged_before, last_event_id=last_id,
                                 last_event_hash=last_hash, events_removed=count,
                                 actor_login=getattr(actor, "login", None))
    sign_checkpoint(checkpoint)
    session.add(checkpoint)
    session.flush()
    removed = session.execute(delete(AuditEvent).where(AuditEvent.id <= last_id, AuditEvent.id > after_id)
                              .execution_options(synchronize_session=False)).rowcount
    if removed != count:  # cannot happen under the chain lock; refuse rather than guess
        raise DomainError("삭제 중 이벤트 수가 달라졌습니다. 다시 시도해 주세요.", field="before")
    return checkpoint
