"""The auditor's CSV and XLSX exports stream (issue 13): audited and committed before the first
byte, read in a read transaction (another writer is never locked out while it streams), and a
cut-off download cannot pass for a complete file (a CSV has no "#정보" trailer, an XLSX does not
open)."""
from __future__ import annotations

import csv
import datetime as dt
import io
import json
import sqlite3
import zipfile

import openpyxl
import pytest
from sqlalchemy import create_engine, select, text
from sqlalchemy.pool import NullPool

from app.audit.export_stream import stream_export
from app.audit.models import AuditEvent
from app.extensions import db

from . import fill_chain, is_postgres

FORM = {"start": "2026-03-01", "end": "2026-03-31", "fmt": "csv", "reason": "정기 점검"}


@pytest.fixture
def auditor(build, login):
    fill_chain(12_000, start=dt.datetime(2026, 3, 2), step=dt.timedelta(seconds=10))
    db.session.commit()
    user = build.user("auditor")
    login(user)
    return user


def committed_exports(app) -> list[dict]:
    """audit_exported events as another connection sees them (committed ones only)."""
    engine = create_engine(app.config["SQLALCHEMY_DATABASE_URI"], poolclass=NullPool)
    try:
        with engine.connect() as conn:
            return [json.loads(d) for (d,) in conn.execute(
                text("SELECT details FROM audit_event WHERE action = 'audit_exported'"))]
    finally:
        engine.dispose()


def test_audited_before_the_first_byte_and_no_write_lock_while_streaming(app, auditor, client):
    response = client.post("/audit/export", data=FORM, buffered=False)
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    # nothing sent yet, and the export is already on record, committed
    (details,) = committed_exports(app)
    assert details["rows"] == 12_000 and details["format"] == "csv" and details["streamed"]
    chunks = iter(response.response)
    first = next(chunks)
    assert first.startswith("\ufeff".encode()) and "일시(KST)".encode() in first
    take_write_lock_now()  # mid-stream, another writer takes the SQLite write lock at once
    body = first + b"".join(chunks)
    response.close()
    rows = list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))
    events = [r for r in rows[1:] if r and r[0] != "#정보"]
    info = {r[1]: r[2] for r in rows if r and r[0] == "#정보"}
    assert len(events) == 12_000 and info["rows"] == "12000" and info["verified"] == "1"


def take_write_lock_now() -> None:
    """Another writer takes the SQLite write lock at once (fails if the export holds it)."""
    if is_postgres():
        return
    other = sqlite3.connect(db.engine.url.database, timeout=0, isolation_level=None)
    try:
        other.execute("BEGIN IMMEDIATE")
        other.execute("ROLLBACK")
    finally:
        other.close()


def test_the_xlsx_streams_too_and_opens_with_every_event_and_its_verification(app, auditor, client):
    response = client.post("/audit/export", data={**FORM, "fmt": "xlsx"}, buffered=False)
    assert response.status_code == 200 and response.mimetype.endswith("spreadsheetml.sheet")
    assert response.headers["Content-Disposition"].endswith(".xlsx")
    (details,) = committed_exports(app)  # on record before a byte is read
    assert details["format"] == "xlsx" and details["rows"] == 12_000 and details["streamed"]
    chunks = iter(response.response)
    first = next(chunks)
    assert first.startswith(b"PK\x03\x04")  # a ZIP's first local header, before any row
    take_write_lock_now()
    body = first + b"".join(chunks)
    response.close()
    book = openpyxl.load_workbook(io.BytesIO(body), read_only=True)
    events, info = book["접속기록"], dict(book["정보"].iter_rows(values_only=True))
    rows = list(events.iter_rows(values_only=True))
    assert rows[0][:2] == ("일시(KST)", "번호") and len(rows) == 12_001
    assert [r[1] for r in rows[1:4]] == sorted(r[1] for r in rows[1:4])
    assert info["rows"] == 12_000 and info["verified"] == 1 and info["exported_by"] == auditor.login


def test_a_cut_off_xlsx_does_not_open(app, auditor):
    _name, _rows, chunks = stream_export("xlsx", dt.date(2026, 3, 1), dt.date(2026, 3, 31), "점검", auditor)
    db.session.commit()
    it = iter(chunks)
    partial = b"".join(next(it) for _ in range(3))
    chunks.close()
    assert chunks.closed
    with pytest.raises(zipfile.BadZipFile):
        zipfile.ZipFile(io.BytesIO(partial))


def test_a_cut_off_stream_has_no_trailer_and_frees_its_connection(app, auditor):
    filename, rows, chunks = stream_export("csv", dt.date(2026, 3, 1), dt.date(2026, 3, 31), "점검", auditor)
    db.session.commit()
    assert rows == 12_000 and filename.endswith(".csv")
    it = iter(chunks)
    partial = next(it) + next(it)
    chunks.close()  # the client went away
    assert "#정보".encode() not in partial
    assert chunks.closed


def test_a_stream_never_started_still_ends_its_read(app, auditor):
    _name, _rows, chunks = stream_export("csv", dt.date(2026, 3, 1), dt.date(2026, 3, 31), "점검", auditor)
    db.session.rollback()  # e.g. the commit of the audit event failed
    chunks.close()
    assert chunks.closed
    assert db.session.scalar(select(AuditEvent.id).filter_by(action="audit_exported")) is None


def test_a_streamed_export_shows_a_broken_chain_in_its_trailer(app, auditor, client):
    from . import drop_append_only_triggers
    drop_append_only_triggers()
    db.session.execute(text("UPDATE audit_event SET actor_login = 'x' WHERE id = 500"))
    db.session.commit()
    with client.post("/audit/export", data=FORM) as response:
        body = response.get_data().decode("utf-8-sig")
    info = {r[1]: r[2] for r in csv.reader(io.StringIO(body)) if r and r[0] == "#정보"}
    assert info["verified"] == "0" and "#500" in info["verification"]


def test_record_is_the_callers(app, auditor):
    """stream_export audits in the caller's transaction (the view commits it)."""
    _name, _rows, chunks = stream_export("csv", dt.date(2026, 3, 1), dt.date(2026, 3, 1), "점검", auditor)
    chunks.close()
    assert db.session.scalar(select(AuditEvent.actor_id).filter_by(action="audit_exported")) == auditor.id
