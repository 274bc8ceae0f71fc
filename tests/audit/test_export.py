"""Exports for auditors: SQLite, CSV and XLSX of a KST date range, each itself audited."""
from __future__ import annotations

import csv
import datetime as dt
import hashlib
import hmac
import json
import sqlite3
import tracemalloc

import pytest
from freezegun import freeze_time
from openpyxl import load_workbook
from sqlalchemy import select, text

from app.audit import export as export_module
from app.audit import export_scan
from app.audit.export import EXPORT_FORMATS, ExportResult, write_export
from app.audit.models import AuditEvent
from app.audit.services import encode_canonical, keyring, record
from app.domain import DomainError
from app.exports import safe_cell as neutralise

from . import drop_append_only_triggers, fill_chain

MARCH = (dt.date(2026, 3, 1), dt.date(2026, 3, 31))
NASTY = ["=HYPERLINK(\"http://x\")", "+82-10", "-1+2", "@SUM(A1)", "\tTAB", "\rCR"]


@pytest.fixture
def trail(app, db, build):
    """Events either side of March 2026 in KST, and some with spreadsheet-formula text."""
    staff = build.user("school_staff", display_name="비밀이름")
    stamps = ["2026-02-28 14:59:59", "2026-02-28 15:00:00", "2026-03-15 03:00:00", "2026-03-31 14:59:59",
              "2026-03-31 15:00:00"]
    for when in stamps:
        with freeze_time(when):
            record("student_viewed", actor=staff, subject=f"subj-{when[:10]}", object_type="student",
                   object_id=when)
    with freeze_time("2026-03-20 01:00:00"):
        for value in NASTY:
            record("case_updated", actor=staff, object_type="support_case", object_id=value[:60],
                   reason=value, details={"메모": value})
    db.session.commit()
    return staff


def audited_exports(db, action: str = "audit_exported") -> list[AuditEvent]:
    return list(db.session.execute(select(AuditEvent).filter_by(action=action).order_by(AuditEvent.id)).scalars())


def test_sqlite_export_is_a_standalone_database(trail, db, tmp_path):
    path = tmp_path / "out.sqlite"
    result = write_export("sqlite", *MARCH, path, "3월 정기 점검", actor=trail)
    db.session.commit()
    head = db.session.execute(select(AuditEvent.hash).order_by(AuditEvent.id.desc()).offset(1).limit(1)).scalar()
    assert result == ExportResult(rows=9, path=path, chain_head=head, verified=True,
                                  mimetype="application/vnd.sqlite3",
                                  filename="ieum-audit-2026-03-01_2026-03-31.sqlite")
    out = sqlite3.connect(path)
    tables = {r[0] for r in out.execute("SELECT name FROM sqlite_master WHERE type IN ('table', 'view')")}
    assert {"events", "daily_summary", "metadata", "events_kst"} <= tables
    indexed = {r[0] for r in out.execute("SELECT name FROM sqlite_master WHERE type = 'index'")}
    for column in ("occurred_at", "actor_login", "action", "subject_ref"):
        assert f"idx_events_{column}" in indexed
    stamps = [r[0] for r in out.execute("SELECT occurred_at FROM events ORDER BY id")]
    # 2026-02-28 15:00 UTC is 03-01 00:00 KST (in); 03-31 15:00 UTC is 04-01 KST (out)
    assert stamps[0] == "2026-02-28 15:00:00.000000" and "2026-03-31 14:59:59.000000" in stamps
    assert "2026-02-28 14:59:59.000000" not in stamps and "2026-03-31 15:00:00.000000" not in stamps
    meta = dict(out.execute("SELECT key, value FROM metadata"))
    assert (meta["rows"], meta["verified"], meta["chain_head"]) == ("9", "1", head)
    assert (meta["range_start_kst"], meta["range_end_kst"], meta["reason"]) == ("2026-03-01", "2026-03-31", "3월 정기 점검")
    assert meta["exported_by"] == trail.login and meta["verification"].startswith("OK")
    summary = out.execute("SELECT day_kst, action, events FROM daily_summary ORDER BY 1, 2").fetchall()
    assert summary == [("2026-03-01", "student_viewed", 1), ("2026-03-15", "student_viewed", 1),
                       ("2026-03-20", "case_updated", 6), ("2026-03-31", "student_viewed", 1)]
    kst = out.execute("SELECT occurred_at_kst FROM events_kst ORDER BY id LIMIT 1").fetchone()[0]
    assert kst == "2026-03-01 00:00:00.000"
    assert "비밀이름" not in path.read_bytes().decode("utf-8", "replace")


def test_the_export_can_be_verified_offline(trail, db, tmp_path):
    path = tmp_path / "out.sqlite"
    write_export("sqlite", *MARCH, path, "점검")
    out = sqlite3.connect(path)
    columns = [r[1] for r in out.execute("PRAGMA table_info(events)")]
    # as the export's canonical_form note says: the subject's seal stands in subject_ref's place
    hashed = ["prev_hash", *("COALESCE(subject_seal, subject_ref)" if f == "subject_ref" else f
                             for f in AuditEvent.HASHED_FIELDS)]
    kid, key = keyring().audit_key()  # the auditor verifies with the audit key (keyed chain)
    rows = out.execute(f"SELECT {', '.join(hashed)}, hash, subject_seal FROM events").fetchall()
    for row in rows:
        assert hmac.new(key, encode_canonical([kid, *row[:-2]]).encode(), hashlib.sha256).hexdigest() == row[-2]
    assert any(row[-1] for row in rows)  # the trail has subjects: their seals are exported
    assert columns[:2] == ["id", "occurred_at"] and columns[-3:] == ["prev_hash", "hash", "subject_seal"]


def test_each_export_is_audited_at_its_start_and_in_the_callers_transaction_at_its_end(trail, db, tmp_path):
    write_export("csv", *MARCH, tmp_path / "a.csv", "  감사 요청 #12  ", actor=trail)
    db.session.rollback()
    assert audited_exports(db) == []  # the caller did not commit the completion
    assert len(audited_exports(db, "audit_export_started")) == 1  # but the start is on record
    result = write_export("csv", *MARCH, tmp_path / "a.csv", "감사 요청 #12", actor=trail)
    db.session.commit()
    (event,) = audited_exports(db)
    assert (event.actor_id, event.reason, event.object_id) == (trail.id, "감사 요청 #12", result.filename)
    details = json.loads(event.details)
    data = (tmp_path / "a.csv").read_bytes()
    assert details == {"format": "csv", "from": "2026-03-01", "to": "2026-03-31", "rows": 9,
                       "chain_head": result.chain_head, "verified": True, "bytes": len(data),
                       "sha256": hashlib.sha256(data).hexdigest()}
    started = audited_exports(db, "audit_export_started")
    assert [(e.reason, e.object_id) for e in started] == [("감사 요청 #12", result.filename)] * 2
    assert started[-1].id < event.id


def test_csv_has_a_bom_korean_headings_and_no_formulas(trail, db, tmp_path):
    path = tmp_path / "out.csv"
    result = write_export("csv", *MARCH, path, "점검")
    raw = path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf") and result.mimetype == "text/csv"
    rows = list(csv.reader(raw.decode("utf-8-sig").splitlines(keepends=True)))
    header, body, info = rows[0], rows[1:rows.index([])], rows[rows.index([]) + 1:]
    assert header[:3] == ["일시(KST)", "번호", "일시(UTC)"] and len(body) == 9
    # the trailer carries what the XLSX 정보 sheet holds, the anchor key included
    assert {row[0] for row in info} == {"#정보"} and {"chain_head", "anchor", "verification"} <= {row[1] for row in info}
    assert body[0][0] == "2026-03-01 00:00:00"
    cells = [cell for row in body for cell in row]
    for value in NASTY:
        assert "'" + value in cells and value not in cells
    assert not any(cell.startswith(("=", "+", "-", "@", "\t", "\r")) for cell in cells)


def test_xlsx_is_written_and_neutralised(trail, db, tmp_path):
    path = tmp_path / "out.xlsx"
    result = write_export("xlsx", *MARCH, path, "점검")
    book = load_workbook(path, read_only=True)
    rows = list(book["접속기록"].iter_rows(values_only=True))
    assert rows[0][0] == "일시(KST)" and len(rows) == 10
    cells = [c for row in rows[1:] for c in row if isinstance(c, str)]
    assert "'=HYPERLINK(\"http://x\")" in cells and "'@SUM(A1)" in cells
    assert not any(c.startswith(("=", "+", "-", "@")) for c in cells)
    info = dict(book["정보"].iter_rows(values_only=True))
    assert info["rows"] == 9 and info["verified"] == 1 and info["chain_head"] == result.chain_head
    book.close()


def test_neutralise_leaves_ordinary_values_alone():
    assert [neutralise(v) for v in ("abc", "한글", "", None, 5, -5, "a=b")] == ["abc", "한글", "", None, 5, -5, "a=b"]
    assert neutralise("-") == "'-"


def test_an_empty_range_still_makes_a_valid_file(trail, db, tmp_path):
    for fmt in EXPORT_FORMATS:
        result = write_export(fmt, dt.date(2025, 1, 1), dt.date(2025, 1, 31), tmp_path / f"e.{fmt}", "점검")
        assert (result.rows, result.verified) == (0, True)
    out = sqlite3.connect(tmp_path / "e.sqlite")
    assert out.execute("SELECT COUNT(*) FROM events").fetchone() == (0,)
    assert dict(out.execute("SELECT key, value FROM metadata"))["rows"] == "0"


@pytest.mark.parametrize("args,field", [
    (("sqlite", *MARCH, "   "), "reason"),
    (("sqlite", *MARCH, ""), "reason"),
    (("pdf", *MARCH, "점검"), "fmt"),
    (("csv", MARCH[1], MARCH[0], "점검"), "end"),
])
def test_bad_input_is_refused_and_nothing_happens(trail, db, tmp_path, args, field):
    fmt, start, end, reason = args
    path = tmp_path / "x"
    with pytest.raises(DomainError) as info:
        write_export(fmt, start, end, path, reason)
    assert info.value.field == field and info.value.message
    assert not path.exists() and audited_exports(db) == []


def test_too_many_rows_for_xlsx_is_refused(trail, db, tmp_path, monkeypatch):
    monkeypatch.setattr(export_module, "XLSX_MAX_ROWS", 5)
    with pytest.raises(DomainError) as info:
        write_export("xlsx", *MARCH, tmp_path / "x.xlsx", "점검")
    assert info.value.field == "fmt" and "SQLite" in info.value.message
    assert not (tmp_path / "x.xlsx").exists()


def test_a_failed_write_leaves_no_file_and_only_its_start_on_record(trail, db, tmp_path, monkeypatch):
    def broken(path, stream, meta):
        path.write_text("half")
        raise OSError("disk full")
    monkeypatch.setitem(export_module.WRITERS, "csv", broken)
    with pytest.raises(OSError):
        write_export("csv", *MARCH, tmp_path / "x.csv", "점검")
    db.session.rollback()
    assert not (tmp_path / "x.csv").exists() and audited_exports(db) == []
    assert len(audited_exports(db, "audit_export_started")) == 1  # a killed export leaves its start


def test_a_tampered_event_in_range_marks_the_export_unverified(trail, db, tmp_path):
    target = db.session.execute(select(AuditEvent.id).filter_by(action="case_updated").limit(1)).scalar()
    drop_append_only_triggers()
    db.session.execute(text("UPDATE audit_event SET reason = '바꿈' WHERE id = :id"), {"id": target})
    db.session.commit()
    result = write_export("sqlite", *MARCH, tmp_path / "t.sqlite", "점검")
    assert (result.verified, result.rows) == (False, 9)  # the data still goes out, flagged
    meta = dict(sqlite3.connect(tmp_path / "t.sqlite").execute("SELECT key, value FROM metadata"))
    assert meta["verified"] == "0" and f"#{target}" in meta["verification"]


def test_a_missing_event_before_the_range_start_is_caught(trail, db, tmp_path):
    drop_append_only_triggers()  # the last event of February (KST), just before the range
    db.session.execute(text("DELETE FROM audit_event WHERE object_id = '2026-02-28 14:59:59'"))
    db.session.commit()
    assert not write_export("csv", *MARCH, tmp_path / "t.csv", "점검").verified


@pytest.mark.slow
def test_a_large_export_streams(app, db, tmp_path):
    """100,000 events: memory stays far below what holding every row would take."""
    fill_chain(100_000, start=dt.datetime(2026, 3, 1), step=dt.timedelta(seconds=10))
    db.session.commit()
    tracemalloc.start()
    result = write_export("csv", dt.date(2026, 3, 1), dt.date(2026, 3, 31), tmp_path / "big.csv", "점검")
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert result.rows == 100_000 and result.verified
    assert peak < 40_000_000  # every row held would be several hundred MB of Python objects


def test_an_export_of_many_batches_has_every_event_once_in_order(app, db, tmp_path, monkeypatch):
    """The SQLite export read in many batches (small data; its rate is measured by scripts/bench,
    never asserted here): every event of the range once, in id order, with its own hash."""
    monkeypatch.setattr(export_scan, "BATCH", 50)
    fill_chain(420, start=dt.datetime(2026, 3, 1), step=dt.timedelta(hours=1))  # 3-01 09:00 to 3-18 KST
    db.session.commit()
    expected = db.session.execute(select(AuditEvent.id, AuditEvent.hash).order_by(AuditEvent.id)).all()
    result = write_export("sqlite", dt.date(2026, 3, 1), dt.date(2026, 3, 31), tmp_path / "many.sqlite", "점검")
    assert (result.rows, result.verified) == (420, True)
    out = sqlite3.connect(tmp_path / "many.sqlite")
    assert out.execute("SELECT id, hash FROM events ORDER BY rowid").fetchall() == [tuple(r) for r in expected]
    assert dict(out.execute("SELECT key, value FROM metadata"))["rows"] == "420"
