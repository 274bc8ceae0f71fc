"""The one writer of every CSV and XLSX file the app produces (audit trail, agency directory,
guardian totals, grant history and any later report).

Every cell goes through ``safe_cell``: characters XML forbids (and other control characters) are
stripped FIRST, and only then is a value that a spreadsheet would run as a formula neutralised with
a leading single quote — in that order, so ``"\\x01=HYPERLINK(…)"`` cannot lose its guard when the
``\\x01`` goes.  Real numbers, dates and booleans stay typed; everything else becomes text, and XLSX
text cells are written as explicit inline strings (never formulas, never error codes).

Given a path, a file is written atomically: a private temporary file (mode 0600) in the same
folder, flushed and fsynced, then renamed into place, so a failure leaves nothing half-written.
Rows are taken lazily from any iterable, so exports of millions of rows stream.
"""
from __future__ import annotations

import contextlib
import csv
import datetime as dt
import decimal
import io
import os
import re
from pathlib import Path
from typing import IO, Any, Callable, Iterable, Iterator, Sequence

from . import cpu_share

#: characters XML 1.0 does not allow (and C0/C1 controls other than tab, LF, CR, which the guard handles)
ILLEGAL_CHARACTERS_RE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff\ufffe\uffff]")
#: what a spreadsheet runs as a formula (or hides behind): = + - @ and their full-width and small
#: forms, tab, CR, LF — at the start, or after any white space (\s is Unicode: also U+3000, U+00A0)
#: or invisible format characters (zero-width space, BOM, direction marks);
#: always used with .match, which anchors it where it starts
FORMULA_RE = re.compile("[\\s\u200b-\u200f\u2060\ufeff]*[=+\\-@\t\r\n\uff1d\uff0b\uff0d\uff20\ufe66\ufe62\ufe63\ufe6b]")
#: the prefix that makes a spreadsheet show a cell as text
NEUTRALISER = "'"
#: values a spreadsheet stores as what they are (bool is an int)
TYPED = (int, float, decimal.Decimal, dt.date, dt.datetime, dt.time)
#: Excel's limit on the characters of one cell
XLSX_CELL_MAX = 32_767

_strip = ILLEGAL_CHARACTERS_RE.sub
_is_formula = FORMULA_RE.match
#: a space followed by a formula character: with ``str.isprintable`` (False for every control,
#: format and white-space character but the space) the cheap test of a whole row at once
_spaced_trigger = re.compile(" [=+\\-@\uff1d\uff0b\uff0d\uff20\ufe66\ufe62\ufe63\ufe6b]").search


def safe_text(text: str) -> str:
    """A string with illegal characters removed, then quoted when it would start a formula."""
    text = _strip("", text)
    return NEUTRALISER + text if _is_formula(text) else text


def safe_cell(value: Any) -> Any:
    """The value as a spreadsheet may store it: None stays None, real numbers and dates stay
    typed, anything else becomes safe text (see ``safe_text``)."""
    if value is None or isinstance(value, TYPED):
        return value
    return safe_text(value if isinstance(value, str) else str(value))


def unquote_cell(text: str) -> str:
    """Undo ``safe_cell`` on a cell read back from one of our own CSV files (imports)."""
    if text.startswith(NEUTRALISER) and _is_formula(text, 1):
        return text[1:]
    return text


def _csv_value(value: Any) -> Any:
    """A CSV field: safe text, or a real number/date in its plain form ('' for None)."""
    if value is None:
        return ""
    if isinstance(value, str):  # the common case first
        text = _strip("", value)
        return NEUTRALISER + text if _is_formula(text) else text
    if isinstance(value, TYPED):
        return value
    return safe_text(str(value))


# -- atomic files -----------------------------------------------------------------------------

@contextlib.contextmanager
def atomic_path(path: str | os.PathLike) -> Iterator[Path]:
    """A private temporary path (0600) next to ``path``; renamed onto it, after an fsync, when the
    block ends without error, removed otherwise.  For writers that need a file name (SQLite)."""
    path = Path(path)
    part = path.with_name(f".{path.name}.part")
    part.unlink(missing_ok=True)
    os.close(os.open(part, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    try:
        yield part
        fd = os.open(part, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(part, path)
    except BaseException:
        part.unlink(missing_ok=True)
        raise
    _fsync_dir(path.parent)


@contextlib.contextmanager
def atomic_file(path: str | os.PathLike) -> Iterator[IO[bytes]]:
    """A binary file handle on a private temporary file that becomes ``path`` on success."""
    path = Path(path)
    part = path.with_name(f".{path.name}.part")
    part.unlink(missing_ok=True)
    fd = os.open(part, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "wb") as fh:
            yield fh
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(part, path)
    except BaseException:
        part.unlink(missing_ok=True)
        raise
    _fsync_dir(path.parent)


def _fsync_dir(folder: Path) -> None:
    """Make the rename itself durable (not possible on every platform)."""
    with contextlib.suppress(OSError):
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def _is_path(target) -> bool:
    return isinstance(target, (str, os.PathLike))


def _to_binary(target, write: Callable[[IO[bytes]], int]) -> int:
    """Run ``write`` on a binary handle: an atomic file for a path, the stream itself otherwise."""
    if _is_path(target):
        with atomic_file(target) as fh:
            return write(fh)
    return write(target)


# -- CSV --------------------------------------------------------------------------------------

def write_csv(target, header: Sequence | None, rows: Iterable[Sequence], *, bom: bool = True) -> int:
    """Write a CSV (UTF-8, with a BOM so Excel reads Korean) to a path (atomically), a binary
    stream or a text stream; rows are read lazily.  Returns the number of data rows."""
    if not _is_path(target) and isinstance(target, io.TextIOBase):
        return _write_csv_text(target, header, rows, bom)

    def write(fh) -> int:
        text = io.TextIOWrapper(fh, encoding="utf-8", newline="", write_through=False)
        try:
            return _write_csv_text(text, header, rows, bom)
        finally:
            text.flush()
            text.detach()  # whoever opened the binary handle closes it
    return _to_binary(target, write)


def _write_csv_text(fh: IO[str], header, rows, bom: bool) -> int:
    if bom:
        fh.write("\ufeff")
    writer = csv.writer(fh)
    if header is not None:
        writer.writerow([_csv_value(v) for v in header])
    counter = _Counter(rows)
    # writerows and map keep the per-row loop in C: the audit export writes millions of rows
    writer.writerows(map(_csv_row, counter))
    return counter.count


def _csv_row(row: Sequence) -> Sequence:
    """The row made safe.  Most rows pass a test of the whole row unchanged (the csv module
    writes None as '' itself): their cells joined by spaces are printable (so hold no illegal,
    control, tab, line-break or other white-space character) and no cell starts, after spaces,
    with a formula character.  A false alarm only means the exact per-cell path."""
    text = " ".join(map(str, row))
    if text.isprintable() and _spaced_trigger(text) is None and _is_formula(text) is None:
        return row
    return [_csv_value(v) for v in row]


def csv_text(header: Sequence | None, rows: Iterable[Sequence], *, bom: bool = True) -> str:
    """The CSV as one string (small exports sent straight from a view)."""
    out = io.StringIO()
    _write_csv_text(out, header, rows, bom)
    return out.getvalue()


class _Counter:
    """Counts the rows an iterator hands out."""

    def __init__(self, rows: Iterable):
        self.rows, self.count = iter(rows), 0

    def __iter__(self):
        return self

    def __next__(self):
        cpu_share.give_way()  # between rows: an export of days of events runs beside pages
        row = next(self.rows)
        self.count += 1
        return row


# -- XLSX -------------------------------------------------------------------------------------

def write_xlsx(target, sheets: Iterable[tuple[str, Sequence | None, Iterable[Sequence]]]) -> list[int]:
    """Write an XLSX to a path (atomically) or a binary stream.  ``sheets`` yields (title, header
    or None, rows); both are consumed lazily and in order, so a later sheet may describe what an
    earlier one wrote.  Returns the data-row count of each sheet."""
    book = xlsx_stream(sheets)

    def write(fh) -> int:
        for chunk in book:
            fh.write(chunk)
        return 0
    _to_binary(target, write)
    return book.counts


def xlsx_stream(sheets: Iterable[tuple[str, Sequence | None, Iterable[Sequence]]]):
    """The XLSX as an iterable of byte chunks (``.counts`` once iterated): a streamed download."""
    from .xlsx import XlsxStream
    titled = ((_strip("", str(title))[:31] or "Sheet", header, rows) for title, header, rows in sheets)
    return XlsxStream(titled, safe=_xlsx_value)


def _xlsx_value(value: Any) -> Any:
    """A cell as safe_cell makes it, text cut at Excel's limit of a cell."""
    value = safe_cell(value)
    return value[:XLSX_CELL_MAX] if isinstance(value, str) else value
