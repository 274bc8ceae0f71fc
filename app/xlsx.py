"""A streamed XLSX writer: SpreadsheetML parts in a ZIP written by the standard library's
``zipfile`` to a sink that is never seeked, so the first bytes leave before the last row is read.

openpyxl (still used to read uploads) cannot do this: even in write-only mode it assembles the
archive at ``save``, after every row, so a million-row audit export sent nothing for seconds.
``zipfile`` writes to an unseekable stream with data descriptors, which Excel, LibreOffice and
openpyxl read.  Cells are what ``app.exports`` made safe: every text is an explicit inline string
(never a formula, never an error code), real numbers and dates stay typed.
"""
from __future__ import annotations

import datetime as dt
import decimal
import math
import zipfile
from typing import Iterable, Iterator, Sequence
from xml.sax.saxutils import escape, quoteattr

from . import cpu_share

#: rows rendered between two hand-overs of the compressed bytes
ROWS_PER_CHUNK = 2_000
#: deflate level: exports are CPU-bound in a web worker; level 1 costs a fifth of level 6
COMPRESSLEVEL = 1
#: Excel's day zero (with its 1900 leap-year bug, serials from 1900-03-01 on are right)
_EPOCH = dt.datetime(1899, 12, 30)
#: cell styles (styles.xml cellXfs): 0 general, 1 date, 2 date and time, 3 time
_DATE, _DATETIME, _TIME = 1, 2, 3

_NS = 'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"'
_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_XML = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
_STYLES = (_XML + f'<styleSheet {_NS}><fonts count="1"><font><sz val="11"/><name val="Calibri"/></font></fonts>'
           '<fills count="2"><fill><patternFill patternType="none"/></fill><fill><patternFill patternType="gray125"/>'
           '</fill></fills><borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>'
           '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>'
           '<cellXfs count="4"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>'
           '<xf numFmtId="14" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>'
           '<xf numFmtId="22" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>'
           '<xf numFmtId="21" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/></cellXfs>'
           '<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles></styleSheet>')


class _Sink:
    """What zipfile writes to: collects bytes until the generator hands them on.  It has no
    ``seek`` and its ``tell`` fails, so zipfile streams (local headers with data descriptors)."""

    def __init__(self) -> None:
        self.parts: list[bytes] = []

    def write(self, data) -> int:
        self.parts.append(bytes(data))
        return len(data)

    def flush(self) -> None:
        pass

    def tell(self) -> int:
        raise OSError("unseekable")

    def drain(self) -> bytes:
        data, self.parts = b"".join(self.parts), []
        return data


def column_letters(index: int) -> str:
    """0 -> A, 25 -> Z, 26 -> AA."""
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def _cell(ref: str, value) -> str:
    """One cell's XML; ``value`` was made safe by the caller (None, a typed value or text)."""
    if value is None:
        return ""
    if isinstance(value, str):
        return f'<c r="{ref}" t="inlineStr"><is><t xml:space="preserve">{escape(value)}</t></is></c>'
    if isinstance(value, bool):
        return f'<c r="{ref}" t="b"><v>{int(value)}</v></c>'
    if isinstance(value, (int, decimal.Decimal)) or (isinstance(value, float) and math.isfinite(value)):
        return f'<c r="{ref}"><v>{value}</v></c>'
    if isinstance(value, dt.datetime):
        serial = (value.replace(tzinfo=None) - _EPOCH) / dt.timedelta(days=1)
        return f'<c r="{ref}" s="{_DATETIME}"><v>{serial!r}</v></c>'
    if isinstance(value, dt.date):
        return f'<c r="{ref}" s="{_DATE}"><v>{(value - _EPOCH.date()).days}</v></c>'
    if isinstance(value, dt.time):
        seconds = value.hour * 3600 + value.minute * 60 + value.second + value.microsecond / 1e6
        return f'<c r="{ref}" s="{_TIME}"><v>{seconds / 86400!r}</v></c>'
    return _cell(ref, str(value))  # inf and NaN: as text


class XlsxStream:
    """Iterates over the bytes of a workbook.  ``sheets`` yields (title, header or None, rows);
    everything is consumed lazily and in order, so a later sheet may describe what an earlier
    one wrote.  ``counts`` holds the data rows of each sheet once it is written."""

    def __init__(self, sheets: Iterable[tuple[str, Sequence | None, Iterable[Sequence]]], safe=lambda v: v):
        self.sheets, self.safe, self.counts = sheets, safe, []

    def __iter__(self) -> Iterator[bytes]:
        sink = _Sink()
        titles: list[str] = []
        with zipfile.ZipFile(sink, "w", zipfile.ZIP_DEFLATED, compresslevel=COMPRESSLEVEL) as book:
            for title, header, rows in self.sheets:
                titles.append(title)
                with book.open(f"xl/worksheets/sheet{len(titles)}.xml", "w") as part:
                    for piece in self._sheet(header, rows):
                        part.write(piece.encode("utf-8"))
                        data = sink.drain()
                        if data:
                            yield data
            for name, text in _package(titles).items():
                book.writestr(name, text)
        yield sink.drain()

    def _sheet(self, header: Sequence | None, rows: Iterable[Sequence]) -> Iterator[str]:
        safe, refs = self.safe, []
        yield _XML + f"<worksheet {_NS}><sheetData>"  # the first bytes leave before any row is read
        buffer: list[str] = []
        number, count = 0, 0
        for is_header, row in _with_header(header, rows):
            number += 1
            count += not is_header
            while len(refs) < len(row):
                refs.append(column_letters(len(refs)))
            cells = "".join(_cell(f"{refs[i]}{number}", safe(v)) for i, v in enumerate(row))
            buffer.append(f'<row r="{number}">{cells}</row>')
            cpu_share.give_way()
            if len(buffer) >= ROWS_PER_CHUNK:
                yield "".join(buffer)
                buffer = []
        self.counts.append(count)
        buffer.append("</sheetData></worksheet>")
        yield "".join(buffer)


def _with_header(header: Sequence | None, rows: Iterable[Sequence]) -> Iterator[tuple[bool, Sequence]]:
    if header is not None:
        yield True, header
    for row in rows:
        yield False, row


def _package(titles: list[str]) -> dict[str, str]:
    """The workbook's other parts, written after the sheets (their titles are known by then)."""
    sheets = "".join(f'<sheet name={quoteattr(t)} sheetId="{n}" r:id="rId{n}"/>' for n, t in enumerate(titles, 1))
    sheet_rels = "".join(f'<Relationship Id="rId{n}" Type="{_REL}/worksheet" Target="worksheets/sheet{n}.xml"/>'
                         for n in range(1, len(titles) + 1))
    overrides = "".join(f'<Override PartName="/xl/worksheets/sheet{n}.xml" ContentType="application/'
                        'vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
                        for n in range(1, len(titles) + 1))
    styles_id = len(titles) + 1
    return {
        "[Content_Types].xml": _XML + '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
        '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
        '<Default Extension="xml" ContentType="application/xml"/>'
        '<Override PartName="/xl/workbook.xml" ContentType="application/'
        'vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
        '<Override PartName="/xl/styles.xml" ContentType="application/'
        f'vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/>{overrides}</Types>',
        "_rels/.rels": _XML + '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
        f'<Relationship Id="rId1" Type="{_REL}/officeDocument" Target="xl/workbook.xml"/></Relationships>',
        "xl/workbook.xml": _XML + f'<workbook {_NS} xmlns:r="{_REL}"><sheets>{sheets}</sheets></workbook>',
        "xl/_rels/workbook.xml.rels": _XML + '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/'
        f'relationships">{sheet_rels}<Relationship Id="rId{styles_id}" Type="{_REL}/styles" Target="styles.xml"/>'
        '</Relationships>',
        "xl/styles.xml": _STYLES,
    }
