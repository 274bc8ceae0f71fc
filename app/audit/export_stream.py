"""The auditor's CSV export as a streamed response: audited before its first byte, read in a
read transaction of its own, never a write transaction while rows are read and rendered."""
from __future__ import annotations

import datetime as dt
from typing import Iterator

from .. import exports
from .export import SHEET_HEADINGS, _checked, _metadata, _prepare, _sheet_rows, export_filename
from .services import read_connection, record


def stream_csv_export(start: dt.date, end: dt.date, reason: str, actor=None) -> tuple[str, int, Chunks]:
    """The CSV export as a stream of bytes, audited BEFORE its first byte (the caller commits
    the audit event, then sends the stream): (file name, rows, chunks).

    The range is counted and the chain head read first, in a read transaction on a connection
    of our own that then feeds the rows (the same snapshot, so the count is exact); no write
    transaction is open while rows are read and rendered.  The "#정보" trailer with the row
    count and the verification comes last: a cut-off download has no trailer."""
    reason = _checked("csv", start, end, reason)
    reading = read_connection()
    conn, dialect = reading.__enter__()
    try:
        stream, meta, head, expected = _prepare(conn, dialect, "csv", start, end, reason, actor)
    except BaseException:
        reading.__exit__(None, None, None)
        raise
    filename = export_filename("csv", start, end)
    record("audit_exported", actor=actor, reason=reason, object_type="audit_export", object_id=filename,
           details={"format": "csv", "from": start.isoformat(), "to": end.isoformat(), "rows": expected,
                    "chain_head": head[1], "streamed": True})

    return filename, expected, Chunks(stream, meta, reading)


class Chunks:
    """The CSV's bytes, batch by batch; ``close`` (the WSGI server calls it, also when the client
    went away, and callers call it on failure) ends the export's read transaction, whether or
    not iteration ever started."""

    def __init__(self, stream, meta: dict, reading) -> None:
        self.stream, self.meta, self.reading, self.closed = stream, meta, reading, False

    def __iter__(self) -> Iterator[bytes]:
        try:
            yield exports.csv_text(SHEET_HEADINGS, (), bom=True).encode("utf-8")
            for rows in self.stream.batches():
                yield exports.csv_text(None, _sheet_rows(rows), bom=False).encode("utf-8")
            trailer = [("#정보", k, "" if v is None else v) for k, v in _metadata(self.stream, self.meta).items()]
            yield exports.csv_text(None, [(), *trailer], bom=False).encode("utf-8")
        finally:
            self.close()

    def close(self) -> None:
        if not self.closed:
            self.closed = True
            self.reading.__exit__(None, None, None)
