"""How requests hold the database (app/transactions.py): a page reads without the write lock and
appends its audit events after rendering; a lock held past the busy timeout answers 503 with
Retry-After, never 500, and keeps nothing; a read_first view reads deferred until begin_write."""
from __future__ import annotations

import html
import io
import re
import sqlite3
import threading
import time
from contextlib import contextmanager

import pytest
from sqlalchemy import func, select

from app.audit.models import AuditEvent
from app.audit.services import record
from app.cases.models import CaseNote
from app.errors import is_lock_error
from app.extensions import db
from app.students.models import Student
from app.transactions import begin_write, read_first

from .conftest import PG_URL
from .factories import DEFAULT_PASSWORD
from .querycount import counting

sqlite_only = pytest.mark.skipif(bool(PG_URL), reason="SQLite's single writer lock")


@pytest.fixture
def app(make_app):
    """An app whose writers give up on the lock after 0.2 s (the default is 10 s)."""
    app = make_app(SQLITE_BUSY_TIMEOUT_MS=200)

    @app.post("/_test/read-first")
    @read_first
    def read_first_view():
        # reads and "validates" deferred, then writes with its kept audit event
        record("test_read_phase_event", object_type="test", object_id="before")
        db.session.execute(select(func.count(AuditEvent.id))).scalar()
        begin_write()
        record("test_write_phase_event", object_type="test", object_id="after")
        db.session.commit()
        return "ok"

    with app.app_context():
        yield app


@pytest.fixture
def scene(app, build):
    school = build.school()
    lead = build.user("school_lead", school)
    case = build.case(school, lead=lead)
    db.session.commit()
    client = app.test_client()
    assert client.post("/login", data={"login": lead.login, "password": DEFAULT_PASSWORD}).status_code == 302
    return client, case


@contextmanager
def write_lock_held():
    """Another process's writer: holds SQLite's write lock until the block ends."""
    db.session.rollback()  # the test's own session (shared with requests here) lets go first
    other = sqlite3.connect(db.engine.url.database, isolation_level=None, timeout=0)
    try:
        other.execute("BEGIN IMMEDIATE")
        yield
    finally:
        other.execute("ROLLBACK")
        other.close()


def _views(case) -> int:
    db.session.rollback()
    return db.session.execute(select(func.count(AuditEvent.id)).where(
        AuditEvent.action == "case_viewed", AuditEvent.object_id == case.uid)).scalar()


@sqlite_only
def test_a_page_reads_deferred_and_appends_its_audit_event_last(scene):
    client, case = scene
    url = f"/cases/{case.uid}"
    db.session.rollback()  # requests share the test's session here: start as a fresh request would
    with counting() as seen:
        assert client.get(url).status_code == 200
    begins = [i for i, s in enumerate(seen) if s.startswith("BEGIN")]
    immediate = [i for i in begins if seen[i] == "BEGIN IMMEDIATE"]
    assert len(immediate) == 1, "one short write transaction, for the audit event"
    start = immediate[0]
    assert all(seen[i] == "BEGIN" for i in begins if i < start)
    assert any("support_case" in s for s in seen[:start]), "the page was read before the write began"
    written = seen[start:]
    assert any(s.startswith("INSERT INTO audit_event") for s in written)
    assert not any("support_case" in s or "student" in s.split("FROM")[-1] for s in written if s.startswith("SELECT"))
    assert _views(case) == 1


@sqlite_only
def test_a_page_without_audit_is_served_while_another_writer_holds_the_lock(scene):
    client, _case = scene
    with write_lock_held():
        response = client.get("/account")
    assert response.status_code == 200


@sqlite_only
def test_a_page_whose_audit_cannot_be_written_is_not_shown(scene):
    client, case = scene
    student_name, url = case.student.name, f"/cases/{case.uid}"
    with write_lock_held():
        response = client.get(url)
    assert response.status_code == 503
    assert response.headers["Retry-After"] == "2"
    body = response.get_data(as_text=True)
    assert "잠시 후 다시 시도해 주세요" in body
    assert student_name not in body, "nothing is shown without its audit record"
    assert _views(case) == 0
    assert client.get(f"/cases/{case.uid}").status_code == 200  # the lock is gone: served and audited
    assert _views(case) == 1


@sqlite_only
def test_a_write_that_waits_past_the_busy_timeout_answers_503_and_keeps_nothing(scene):
    client, case = scene
    before = db.session.execute(select(func.count(CaseNote.id))).scalar()
    url = f"/cases/{case.uid}/notes"
    with write_lock_held():
        response = client.post(url, data={"note-kind": "counselling", "note-body": "상담 내용"})
    assert response.status_code == 503
    assert response.headers["Retry-After"] == "2"
    db.session.rollback()
    assert db.session.execute(select(func.count(CaseNote.id))).scalar() == before


@sqlite_only
def test_a_read_first_view_writes_only_after_begin_write(scene):
    client, _case = scene
    db.session.rollback()  # requests share the test's session here: start as a fresh request would
    with counting() as seen:
        assert client.post("/_test/read-first").status_code == 200
    begins = [s for s in seen if s.startswith("BEGIN")]
    assert begins[0] == "BEGIN" and "BEGIN IMMEDIATE" in begins
    first_write = next(i for i, s in enumerate(seen) if s.startswith("INSERT"))
    assert seen[:first_write].count("BEGIN IMMEDIATE") == 1
    db.session.rollback()
    kept = db.session.execute(select(AuditEvent.action).where(AuditEvent.object_type == "test")
                              .order_by(AuditEvent.id)).scalars().all()
    assert kept == ["test_read_phase_event", "test_write_phase_event"]


@sqlite_only
def test_readers_go_on_while_a_long_write_waits_and_nobody_gets_500(scene, app, build):
    """A writer stuck behind another process's lock does not stop anyone reading pages."""
    client, case = scene
    results: list[int] = []
    url = f"/cases/{case.uid}/notes"
    staff = build.user("school_staff", case.school)
    db.session.commit()
    reader = app.test_client()
    reader.post("/login", data={"login": staff.login, "password": DEFAULT_PASSWORD})
    with write_lock_held():
        def write():
            with app.app_context():
                results.append(client.post(url,
                                           data={"note-kind": "counselling", "note-body": "메모"}).status_code)
        writer = threading.Thread(target=write)
        writer.start()
        pages = [reader.get("/account").status_code for _ in range(5)]
        writer.join()
    assert pages == [200] * 5
    assert results and results[0] == 503


def test_lock_errors_are_recognised_on_both_databases():
    class Orig(Exception):
        sqlstate = None

    class PgOrig(Exception):
        def __init__(self, state):
            self.sqlstate = state

    class Wrapped(Exception):
        def __init__(self, orig):
            self.orig = orig

    assert is_lock_error(Wrapped(Orig("database is locked")))
    assert is_lock_error(Wrapped(PgOrig("40P01")))  # deadlock detected
    assert is_lock_error(Wrapped(PgOrig("40001")))  # serialization failure
    assert not is_lock_error(Wrapped(Orig("no such table: support_case")))
    assert not is_lock_error(Wrapped(PgOrig("23505")))  # a unique violation is a bug, not a retry


def _class_list(n: int) -> bytes:
    rows = [f"학생{i},2014-{1 + i % 12:02d}-{1 + i % 28:02d},5,{1 + i % 9},{1 + i % 30}" for i in range(n)]
    return ("이름,생년월일,학년,반,번호\n" + "\n".join(rows) + "\n").encode()


@sqlite_only
def test_an_import_preview_reads_while_another_writer_holds_the_lock(scene):
    """A class-list preview (read_first) parses and checks 300 rows without the write lock:
    it is served while another writer holds the lock, and the confirmation then saves."""
    client, _case = scene
    raw = _class_list(300)
    with write_lock_held():
        preview = client.post("/students/import", data={"file": (io.BytesIO(raw), "list.csv")},
                              content_type="multipart/form-data")
    assert preview.status_code == 200, "the preview needed no write lock"
    payload = re.search(r'name="payload"[^>]*value="([^"]+)"', preview.get_data(as_text=True))
    assert payload
    saved = client.post("/students/import", data={"payload": html.unescape(payload.group(1)), "filename": "list.csv"})
    assert saved.status_code == 302
    db.session.rollback()
    assert db.session.execute(select(func.count(Student.id))).scalar() >= 300


@sqlite_only
def test_a_writer_queued_behind_the_lock_tries_again_every_few_milliseconds(scene, monkeypatch):
    """SQLite's own busy handler sleeps up to 100 ms between tries, so a page queued behind an
    import got the lock up to 100 ms after it was free; the app tries again after ≤ 2 ms."""
    import app.db_setup as db_setup
    client, case = scene
    pauses: list[float] = []
    release = threading.Event()
    real_sleep = time.sleep

    def sleep(seconds: float) -> None:  # the other writer lets go after the 5th pause
        pauses.append(seconds)
        if len(pauses) == 5:
            release.set()
        real_sleep(seconds)
    monkeypatch.setattr(db_setup.time, "sleep", sleep)
    db.session.rollback()
    other = sqlite3.connect(db.engine.url.database, isolation_level=None, timeout=0, check_same_thread=False)
    other.execute("BEGIN IMMEDIATE")
    letting_go = threading.Thread(target=lambda: (release.wait(30), other.execute("ROLLBACK")))
    letting_go.start()
    try:
        response = client.post(f"/cases/{case.uid}/notes", data={"note-kind": "counselling", "note-body": "상담 내용"})
    finally:
        release.set()
        letting_go.join()
        other.close()
    assert response.status_code == 302  # saved once the other writer let go
    assert len(pauses) >= 5 and max(pauses) <= db_setup.LOCK_POLL_MAX_S
    with db.engine.connect() as connection:  # the connection's own timeout is back for other waits
        assert connection.exec_driver_sql("PRAGMA busy_timeout").scalar() == 200
