"""The streamed XLSX writer (app/xlsx.py): typed cells read back as written, the first bytes leave
before any row is read, and a workbook cut short does not open."""
from __future__ import annotations

import datetime as dt
import decimal
import io
import zipfile

import openpyxl
import pytest

from app.exports import xlsx_stream
from app.xlsx import XlsxStream, column_letters


def read(body: bytes) -> dict[str, list[tuple]]:
    book = openpyxl.load_workbook(io.BytesIO(body))
    return {sheet.title: list(sheet.iter_rows(values_only=True)) for sheet in book}


def test_values_keep_their_types_and_texts_stay_text():
    rows = [[1, 2.5, decimal.Decimal("1.25"), True],
            [dt.date(2026, 3, 1), dt.datetime(2026, 3, 1, 12, 30), dt.time(6, 15), None],
            ["=1+1", "<b>&amp;</b>", "한글", float("nan")]]
    body = b"".join(xlsx_stream([("시트 <1>", ["a", "b", "c", "d"], rows), ("정보", None, [("k", "v")])]))
    sheets = read(body)
    assert list(sheets) == ["시트 <1>", "정보"]
    data = sheets["시트 <1>"]
    assert data[0] == ("a", "b", "c", "d")
    assert data[1] == (1, 2.5, 1.25, True)
    assert data[2][:3] == (dt.datetime(2026, 3, 1), dt.datetime(2026, 3, 1, 12, 30), dt.time(6, 15))
    assert data[3] == ("'=1+1", "<b>&amp;</b>", "한글", "nan")  # a formula is neutralised, NaN is text
    assert sheets["정보"] == [("k", "v")]


def test_the_first_bytes_leave_before_any_row_is_read():
    taken = []

    def rows():
        for n in range(10):
            taken.append(n)
            yield [n]
    stream = iter(XlsxStream([("s", ["n"], rows())]))
    first = next(stream)
    assert first.startswith(b"PK\x03\x04") and taken == []
    rest = b"".join(stream)
    assert taken == list(range(10)) and len(read(first + rest)["s"]) == 11


def test_counts_and_wide_rows():
    book = XlsxStream([("s", None, [list(range(30))] * 3), ("t", ["h"], [])])
    body = b"".join(book)
    assert book.counts == [3, 0]
    assert read(body)["s"][2][29] == 29
    assert [column_letters(i) for i in (0, 25, 26, 27, 701, 702)] == ["A", "Z", "AA", "AB", "ZZ", "AAA"]


def test_a_workbook_cut_short_does_not_open():
    body = b"".join(XlsxStream([("s", None, ([n, "x" * 50] for n in range(5000)))]))
    with pytest.raises(zipfile.BadZipFile):
        zipfile.ZipFile(io.BytesIO(body[: len(body) // 2]))
