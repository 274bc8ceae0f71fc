"""Exports of the audit trail for auditors: SQLite (sqlite-utils), CSV and XLSX, each audited.

CSV and XLSX go through app/exports.py, the one writer that neutralises formulas and writes
files atomically (0600).  The SQLite file keeps every value exactly as hashed, so the chain can
be verified offline; it is written under a private temporary name and renamed the same way."""
from __future__ import annotations

import datetime as dt
import hashlib
import sqlite3
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterator, Sequence
from urllib.parse import quote

from flask_babel import gettext as _

from .. import exports
from ..db import utcnow
from ..domain import DomainError
from ..extensions import db
from .chain import KST
from .export_scan import COLUMNS, EventStream
from .labels import ACTION_LABELS, OUTCOME_LABELS
from .raw import fetch_one, read_connection
from .services import TIME_FORMAT, record

EXPORT_FORMATS = ("sqlite", "csv", "xlsx")
MIMETYPES = {"sqlite": "application/vnd.sqlite3", "csv": "text/csv",
             "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}
#: Excel's row limit, less the header row
XLSX_MAX_ROWS = 1_048_575
HEADINGS = ("번호", "일시(UTC)", "사용자 번호", "로그인", "역할", "기관 번호", "IP", "행위", "대상 유형",
            "대상 ID", "정보주체 참조", "결과", "사유", "요청 ID", "세부 내용", "이전 해시", "해시", "정보주체 봉인")
CANONICAL_NOTE = ("hash = hex HMAC-SHA256, under the audit key named by key_id (held in the key ring, not in "
                  "the database), of the UTF-8 JSON array, compact (',' and ':'), non-ASCII as is, [key_id, "
                  "prev_hash, occurred_at ('YYYY-MM-DD HH:MM:SS.ffffff' UTC), actor_id, actor_login, role, "
                  "organisation_id, ip, action, object_type, object_id, subject_ref (subject_seal in its place when "
                  "there is one: then subject_ref may be a retention tombstone 'retained:…'), outcome, reason, "
                  "request_id, details]; events sealed before the keyed chain (key_id empty) are hex SHA-256 "
                  "of the same array without key_id; each event's prev_hash is the hash of the event before it; "
                  "object_id '=subject' means the object is the data subject itself (its reference is in subject_ref); "
                  "'anchor' is the newest signed chain head (flask audit anchor)")


@dataclass
class ExportResult:
    rows: int
    path: Path
    chain_head: str | None
    verified: bool
    mimetype: str
    filename: str


def _checked(fmt: str, start: dt.date, end: dt.date, reason: str) -> str:
    reason = (reason or "").strip()
    if not reason:
        raise DomainError(_("내보내는 사유를 입력해 주세요."), field="reason")
    if fmt not in EXPORT_FORMATS:
        raise DomainError(_("파일 형식은 sqlite, csv, xlsx 중 하나를 골라 주세요."), field="fmt")
    if end < start:
        raise DomainError(_("종료일은 시작일과 같거나 그 뒤여야 합니다."), field="end")
    return reason


def _prepare(conn, dialect: str, fmt: str, start: dt.date, end: dt.date, reason: str, actor,
             progress: Callable[[int, int], None] | None = None) -> tuple[EventStream, dict, tuple, int]:
    """Read what the export needs before its first row: the id span and count of the range,
    the chain head, and the metadata (stream, meta, (head id, head hash), expected rows)."""
    utc_from = dt.datetime.combine(start, dt.time()) - KST
    utc_to = dt.datetime.combine(end + dt.timedelta(days=1), dt.time()) - KST
    bounds = (utc_from, utc_to) if dialect == "postgresql" else tuple(t.strftime(TIME_FORMAT) for t in (utc_from, utc_to))
    lo, hi, expected = fetch_one(conn, dialect, "SELECT MIN(id), MAX(id), COUNT(*) FROM audit_event "
                                                "WHERE occurred_at >= ? AND occurred_at < ?", bounds)
    if fmt == "xlsx" and expected > XLSX_MAX_ROWS:
        raise DomainError(_("XLSX 파일에는 %(max)s건까지만 담을 수 있습니다 (이 기간 %(n)s건). "
                            "기간을 나누거나 SQLite·CSV로 내보내 주세요.", max=f"{XLSX_MAX_ROWS:,}", n=f"{expected:,}"),
                          field="fmt")
    head = fetch_one(conn, dialect, "SELECT id, hash FROM audit_event ORDER BY id DESC LIMIT 1") or (None, None)
    stream = EventStream(conn, dialect, lo, hi, tuple(t.strftime(TIME_FORMAT) for t in (utc_from, utc_to)),
                         (lambda n: progress(n, expected)) if progress else None)
    meta = {"range_start_kst": start.isoformat(), "range_end_kst": end.isoformat(),
            "range_start_utc": utc_from.isoformat(sep=" "), "range_end_utc": utc_to.isoformat(sep=" "),
            "chain_head": head[1], "chain_head_id": head[0], "exported_at_utc": utcnow().isoformat(sep=" "),
            "exported_by": getattr(actor, "login", None), "reason": reason, "canonical_form": CANONICAL_NOTE,
            "anchor": _anchor_text()}
    return stream, meta, head, expected


def export_filename(fmt: str, start: dt.date, end: dt.date) -> str:
    return f"ieum-audit-{start.isoformat()}_{end.isoformat()}.{fmt}"


def write_export(fmt: str, start: dt.date, end: dt.date, path: Path, reason: str, actor=None,
                 *, progress: Callable[[int, int], None] | None = None) -> ExportResult:
    """Write the events of start..end (KST, inclusive) to ``path`` and audit it (caller commits).
    ``actor`` should be a plain snapshot (see views): an expired ORM user would be reloaded,
    starting a transaction in the caller's session for the length of the export."""
    reason = _checked(fmt, start, end, reason)
    path = Path(path)
    filename = export_filename(fmt, start, end)
    # audited before the first row is read, in a transaction of its own: an export killed
    # halfway still left its trace (issue 19); the completion below adds size and checksum
    record("audit_export_started", actor=actor, reason=reason, object_type="audit_export", object_id=filename,
           details={"format": fmt, "from": start.isoformat(), "to": end.isoformat()})
    db.session.commit()
    # Read through a connection of our own, in a read (deferred) transaction: the session
    # writes only the audit events, each in a short transaction.
    with read_connection() as (conn, dialect):
        stream, meta, head, _expected = _prepare(conn, dialect, fmt, start, end, reason, actor, progress)
        try:
            WRITERS[fmt](path, stream, meta)
        except BaseException:
            path.unlink(missing_ok=True)  # no half-written file left behind
            raise
    size, digest = _size_and_digest(path)
    record("audit_exported", actor=actor, reason=reason, object_type="audit_export", object_id=filename,
           details={"format": fmt, "from": start.isoformat(), "to": end.isoformat(), "rows": stream.count,
                    "chain_head": head[1], "verified": stream.verified, "bytes": size, "sha256": digest})
    return ExportResult(stream.count, path, head[1], stream.verified, MIMETYPES[fmt], filename)


def _size_and_digest(path: Path) -> tuple[int, str]:
    """The finished file's size and SHA-256, recorded so a copy can be checked against the trail."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return path.stat().st_size, digest.hexdigest()


def _kst(utc_text: str) -> str:
    return (dt.datetime.fromisoformat(utc_text) + KST).strftime("%Y-%m-%d %H:%M:%S")


def _sheet_rows(rows: Iterator[tuple]) -> Iterator[list]:
    """Rows for people: the KST time first, and the Korean label beside the action and the outcome
    codes (the writer makes every cell safe).  The codes stay as they are, as in the chain."""
    actions, outcomes = ACTION_LABELS.get, OUTCOME_LABELS.get
    for row in rows:
        yield [_kst(row[1]), *row[:8], actions(row[7], ""), *row[8:12], outcomes(row[11], ""), *row[12:]]


_ACTION_AT, _OUTCOME_AT = HEADINGS.index("행위") + 1, HEADINGS.index("결과") + 1
SHEET_HEADINGS = ("일시(KST)", *HEADINGS[:_ACTION_AT], "행위 설명", *HEADINGS[_ACTION_AT:_OUTCOME_AT], "결과 설명",
                  *HEADINGS[_OUTCOME_AT:])


def write_csv(path: Path, stream: EventStream, meta: dict) -> None:
    """UTF-8 with a BOM, so Excel shows Korean correctly; streamed row by row.  After the events,
    a blank line and then "#정보" rows carry what the XLSX keeps on its 정보 sheet: the range, the
    chain head, the verification and the newest signed anchor."""
    def rows() -> Iterator[Sequence]:
        yield from _sheet_rows(stream.rows())
        yield ()
        for key, value in _metadata(stream, meta).items():  # known only once the events are written
            yield ("#정보", key, "" if value is None else value)
    exports.write_csv(path, SHEET_HEADINGS, rows())


def write_xlsx(path: Path, stream: EventStream, meta: dict) -> None:
    """Rows go to disk as they come (app/xlsx.py); the information sheet is written after the
    events, so it holds their count and verification."""
    def info() -> Iterator[tuple]:
        for key, value in _metadata(stream, meta).items():
            yield key, "" if value is None else value

    exports.write_xlsx(path, [("접속기록", SHEET_HEADINGS, _sheet_rows(stream.rows())), ("정보", None, info())])


def write_sqlite(path: Path, stream: EventStream, meta: dict) -> None:
    """A standalone SQLite file: events, a daily summary, metadata, and a KST view."""
    import sqlite_utils

    with exports.atomic_path(path) as part:  # private (0600) until complete, then renamed into place
        _write_sqlite(part, stream, meta, sqlite_utils)


def _write_sqlite(path: Path, stream: EventStream, meta: dict, sqlite_utils) -> None:
    # a URI connection, so the source database can be attached read-only
    out = sqlite_utils.Database(sqlite3.connect(f"file:{quote(str(path))}", uri=True))
    # a new private file: a crash leaves a file we delete anyway, so skip the journal
    out.execute("PRAGMA journal_mode = OFF")
    out.execute("PRAGMA synchronous = OFF")
    out.execute("PRAGMA cache_size = -65536")  # 64 MB: index builds sort in memory
    types = {c: int if c in ("id", "actor_id", "organisation_id") else str for c in COLUMNS}
    events = out["events"].create(types, pk="id", column_order=list(COLUMNS))
    if stream.source_path():
        stream.copy_into(out.conn)
    else:
        # insert_all converts every value in Python (about 15 us a row: 1,000,000 rows would
        # take 15 s); executemany on the same connection stays in C and takes the stream lazily
        with out.atomic():
            out.conn.executemany(f"INSERT INTO events ({', '.join(COLUMNS)}) "
                                 f"VALUES ({', '.join('?' * len(COLUMNS))})", stream.rows())
    for columns in (["occurred_at"], ["actor_login"], ["action"], ["subject_ref"]):
        events.create_index(columns)
    summary = out["daily_summary"].create({"day_kst": str, "action": str, "outcome": str, "events": int,
                                           "actors": int, "subjects": int}, pk=("day_kst", "action", "outcome"))
    summary.insert_all(list(out.query(
        "SELECT date(occurred_at, '+9 hours') AS day_kst, action, outcome, COUNT(*) AS events, "
        "COUNT(DISTINCT actor_login) AS actors, COUNT(DISTINCT subject_ref) AS subjects "
        "FROM events GROUP BY 1, 2, 3 ORDER BY 1, 2, 3")))
    out["metadata"].insert_all(({"key": k, "value": None if v is None else str(v)}
                                for k, v in _metadata(stream, meta).items()), pk="key")
    out.create_view("events_kst", "SELECT strftime('%Y-%m-%d %H:%M:%f', occurred_at, '+9 hours') "
                                  "AS occurred_at_kst, * FROM events")
    out.close()


def _metadata(stream: EventStream, meta: dict) -> dict:
    return {**meta, "rows": stream.count, "first_event_id": stream.lo, "last_event_id": stream.hi,
            "verified": int(stream.verified), "verification": stream.verification,
            "timezone_note": "occurred_at is UTC; events_kst shows Korea Standard Time"}


def _anchor_text() -> str | None:
    """The newest anchor as JSON (or None): the auditor compares it with the exported chain."""
    import json

    from .anchors import latest_anchor
    anchor = latest_anchor()
    return json.dumps(anchor, sort_keys=True, separators=(",", ":")) if anchor else None


WRITERS = {"sqlite": write_sqlite, "csv": write_csv, "xlsx": write_xlsx}
