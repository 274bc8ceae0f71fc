"""Verifying the audit hash chain, and the retention purge that keeps it verifiable."""
from __future__ import annotations

import datetime as dt
import multiprocessing
from dataclasses import dataclass
from typing import Callable

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import delete, func, select

from ..db import today_kst, utcnow
from ..domain import DomainError
from ..extensions import db
from ..i18n import date_words
from .models import GENESIS_HASH, AuditCheckpoint, AuditEvent
from .raw import canonical_sql, fetch_one, read_connection  # noqa: F401
from .review_totals import forget_months_before
from .seal import checkpoint_problem, forged_checkpoint, sign_checkpoint, unkeyed_problem
from .services import lock_chain_and_read_head, record  # noqa: F401
from .tombstones import subject_seal_problem
# the walk lives in walk.py; its names stay importable from here
from .walk import RangeResult, audit_keys, check_batch, check_range, join_ranges  # noqa: F401

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
        moved = subject_seal_problem(conn, dialect, keys)
        if moved:  # a reference moved to another subject: the hash no longer covers references
            return VerifyResult(False, 0, None, moved[0], moved[1]), cp_id
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
        return VerifyResult(True, res.count, head, None, _("접속기록 %(n)s건, 해시 체인 정상", n=f"{res.count:,}"),
                            last_id=hi)
    why = (_("내용이 바뀌었습니다 (해시 불일치)") if res.problem == "hash"
           else _("앞 이벤트와 이어지지 않습니다 (삭제·순서 변경)"))
    return VerifyResult(False, res.count, head, res.broken_id,
                        _("이벤트 #%(id)d에서 체인이 끊어졌습니다: %(why)s", id=res.broken_id, why=why), last_id=hi)


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
        raise DomainError(_("접속기록은 %(years)d년 이상 보관해야 합니다. %(day)s 이전 날짜만 삭제할 수 있습니다.",
                            years=years, day=date_words(cutoff)), field="before")
    # never purge what is already broken: that would erase the evidence
    checked = verify_chain(progress=progress)
    if not checked.ok:
        raise DomainError(_("해시 체인 검증에 실패하여 삭제하지 않았습니다. %(why)s", why=checked.message), field="before")
    session = db.session
    lock_chain_and_read_head(session)
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
        raise DomainError(_("삭제 중 이벤트 수가 달라졌습니다. 다시 시도해 주세요."), field="before")
    forget_months_before(purged_before)
    return checkpoint
