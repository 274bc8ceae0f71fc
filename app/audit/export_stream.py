"""The auditor's CSV and XLSX exports as streamed responses: audited before their first byte,
read in a read transaction of their own, never a write transaction while rows are read and
rendered.  (The SQLite file is built whole and then sent: a database file cannot stream.)"""
from __future__ import annotations

import datetime as dt
from typing import Iterator

from .. import exports
from .export import MIMETYPES, SHEET_HEADINGS, _checked, _metadata, _prepare, _sheet_rows, export_filename
from .raw import read_connection
from .services import record

#: the formats sent as they are written
STREAMED = ("csv", "xlsx")


def stream_export(fmt: str, start: dt.date, end: dt.date, reason: str, actor=None) -> tuple[str, int, Chunks]:
    """The export as a stream of bytes, audited BEFORE its first byte (the caller commits the
    audit event, then sends the stream): (file name, rows, chunks).

    The range is counted and the chain head read first, in a read transaction on a connection
    of our own that then feeds the rows (the same snapshot, so the count is exact); no write
    transaction is open while rows are read and rendered.  The "#정보" trailer with the row
    count and the verification comes last: a cut-off download has no trailer."""
    reason = _checked("csv", start, end, reason)
    reading = read_connection()
    conn, dialect = reading.__enter__()
    try:
        stream, meta, head, expected = _prepare(conn, dialect, fmt, start, end, reason, actor)
    except BaseException:
        reading.__exit__(None, None, None)
        raise
    filename = export_filename(fmt, start, end)
    record("audit_exported", actor=actor, reason=reason, object_type="audit_export", object_id=filename,
           details={"format": fmt, "from": start.isoformat(), "to": end.isoformat(), "rows": expected,
                    "chain_head": head[1], "streamed": True})

    return filename, expected, Chunks(fmt, stream, meta, reading)


class Chunks:
    """The file's bytes, batch by batch; ``close`` (the WSGI server calls it, also when the client
    went away, and callers call it on failure) ends the export's read transaction, whether or
    not iteration ever started."""

    def __init__(self, fmt: str, stream, meta: dict, reading) -> None:
        self.fmt, self.stream, self.meta, self.reading, self.closed = fmt, stream, meta, reading, False
        self.mimetype = MIMETYPES[fmt]

    def __iter__(self) -> Iterator[bytes]:
        try:
            yield from (self._csv() if self.fmt == "csv" else self._xlsx())
        finally:
            self.close()

    def _info(self) -> Iterator[tuple]:
        """Known only once the events are written: their count and verification."""
        for key, value in _metadata(self.stream, self.meta).items():
            yield key, "" if value is None else value

    def _csv(self) -> Iterator[bytes]:
        yield exports.csv_text(SHEET_HEADINGS, (), bom=True).encode("utf-8")
        for rows in self.stream.batches():
            yield exports.csv_text(None, _sheet_rows(rows), bom=False).encode("utf-8")
        yield exports.csv_text(None, [(), *(("#정보", *item) for item in self._info())], bom=False).encode("utf-8")

    def _xlsx(self) -> Iterator[bytes]:
        yield from exports.xlsx_stream([("접속기록", SHEET_HEADINGS, _sheet_rows(self.stream.rows())),
                                        ("정보", None, self._info())])

    def close(self) -> None:
        if not self.closed:
            self.closed = True
            self.reading.__exit__(None, None, None)
