"""Long requests give way to short ones: the row loops of imports and exports hand the
interpreter lock to a waiting thread between rows, and an import's save (under SQLite's write
lock) does not."""
from __future__ import annotations

import io
import re
import sys
import threading
import time

import pytest
from flask import g, has_request_context

from app import cpu_share, exports
from app.csv_import import csv_rows
from app.transactions import _READ_KEY
from tests.conftest import PG_URL

sqlite_only = pytest.mark.skipif(bool(PG_URL), reason="SQLite's single writer lock")

#: iterations after which the busy thread stops by itself, so a regression fails, not hangs
MAX_SPINS = 3_000_000


@pytest.fixture
def no_forced_switch():
    """The interpreter never takes the lock from a busy thread during the test (100 s): only a
    thread that gives the lock up lets another one run."""
    before = sys.getswitchinterval()
    sys.setswitchinterval(100)
    yield
    sys.setswitchinterval(before)


def spin(polite: bool, stop: threading.Event, spins: list[int]) -> None:
    n = 0
    while not stop.is_set() and n < MAX_SPINS:
        n += 1
        if polite:
            cpu_share.give_way()
    spins.append(n)


@pytest.mark.parametrize("polite", [True, False])
def test_a_thread_that_gives_way_lets_a_waiting_thread_run(no_forced_switch, polite):
    stop, spins = threading.Event(), []
    busy = threading.Thread(target=spin, args=(polite, stop, spins))
    busy.start()
    time.sleep(0.01)  # gives the lock up; waking up, this thread waits for the busy one
    stop.set()  # runs only once the busy thread let go of the lock
    busy.join(timeout=120)
    if polite:  # the lock came back at its next give_way: long before its last spin
        assert spins[0] < MAX_SPINS
    else:  # the control: without give_way this thread ran again only when the busy one ended
        assert spins[0] == MAX_SPINS


@pytest.fixture
def ways(monkeypatch) -> list:
    """Each give_way call, with whether the request was still in its read phase."""
    calls = []

    def counted() -> None:
        calls.append(bool(has_request_context() and g.get(_READ_KEY)))
    monkeypatch.setattr(cpu_share, "_yield", counted)
    return calls


def test_csv_and_xlsx_exports_give_way_between_rows(app, ways):
    rows = [(i, f"행 {i}") for i in range(40)]
    exports.csv_text(("번호", "내용"), rows)
    assert len(ways) >= 40
    ways.clear()
    b"".join(exports.xlsx_stream([("목록", ("번호", "내용"), rows)]))
    assert len(ways) >= 40


def test_reading_an_import_gives_way_between_rows(app, ways):
    assert len(list(csv_rows("a,b\n" + "1,2\n" * 30))) == 31
    assert len(ways) == 31


HEADER = "이름,생년월일,학년,반,번호\n"


def test_an_import_gives_way_only_before_it_takes_the_write_lock(db, build, client, login, ways):
    school = build.school()
    teacher = build.user("school_staff", organisation=school)
    db.session.commit()
    login(teacher)
    lines = [f"학생{i},2014-01-{1 + i % 28:02d},5,1,{1 + i}" for i in range(20)]
    raw = (HEADER + "\n".join(lines) + "\n").encode()
    ways.clear()
    page = client.post("/students/import", data={"file": (io.BytesIO(raw), "5-1.csv")},
                       content_type="multipart/form-data").get_data(as_text=True)
    assert page.count('data-testid="import-row"') == 20
    assert len(ways) >= 40  # reading the file, then rendering its preview (the giving_way filter)
    payload = re.search(r'name="payload" type="hidden" value="([^"]*)"', page).group(1)
    ways.clear()
    response = client.post("/students/import", data={"payload": payload, "filename": "5-1.csv"})
    assert response.status_code == 302
    assert len(ways) >= 20 and set(ways) == {True}  # every row while reading; none under the lock


def run_a_statement_in_another_thread(app) -> tuple[threading.Thread, threading.Event]:
    """Another request's thread of the same worker, about to run a SQL statement."""
    from sqlalchemy import text
    from app.extensions import db
    done = threading.Event()

    def page() -> None:
        with app.app_context():
            with db.engine.connect() as connection:
                connection.execute(text("SELECT 1"))
        done.set()
    thread = threading.Thread(target=page)
    thread.start()
    return thread, done


@sqlite_only
def test_a_save_that_goes_first_holds_the_other_threads_statements_until_it_ends(app, db):
    from sqlalchemy import text
    db.session.execute(text("SELECT 1"))  # this thread's transaction: the save's
    cpu_share.go_first(db.session)
    try:
        with db.session.begin_nested():  # a savepoint's release does not end the save
            db.session.execute(text("SELECT 2"))  # the thread that went first is not held
        thread, done = run_a_statement_in_another_thread(app)
        assert not done.wait(0.3)  # held at its statement (a loaded machine only holds it longer)
        db.session.commit()  # the save's transaction ends: the other thread goes on at once
        assert done.wait(30)
        thread.join()
    finally:
        cpu_share.first_done()
    thread, done = run_a_statement_in_another_thread(app)
    assert done.wait(30)  # nobody goes first any more
    thread.join()


def test_nothing_waits_for_a_save_on_postgresql(app, db):
    from sqlalchemy import text
    db.session.execute(text("SELECT 1"))
    cpu_share.go_first(db.session)
    try:
        assert cpu_share._first_done.is_set() == (db.engine.dialect.name != "sqlite")
    finally:
        cpu_share.first_done()


@sqlite_only
def test_a_class_list_save_goes_first_once_it_holds_the_write_lock_and_lets_go_after(db, build, client, login, monkeypatch):
    from tests.querycount import counting
    school = build.school()
    teacher = build.user("school_staff", organisation=school)
    db.session.commit()
    login(teacher)
    raw = (HEADER + "".join(f"학생{i},2014-02-{1 + i:02d},5,1,{1 + i}\n" for i in range(5))).encode()
    page = client.post("/students/import", data={"file": (io.BytesIO(raw), "5-1.csv")},
                       content_type="multipart/form-data").get_data(as_text=True)
    payload = re.search(r'name="payload" type="hidden" value="([^"]*)"', page).group(1)
    import app.students.importer as importer
    seen_before_first: list[list[str]] = []
    with counting() as seen:
        monkeypatch.setattr(importer, "go_first", lambda session: seen_before_first.append(list(seen)) or cpu_share.go_first(session))
        response = client.post("/students/import", data={"payload": payload, "filename": "5-1.csv"})
    assert response.status_code == 302
    assert len(seen_before_first) == 1 and "BEGIN IMMEDIATE" in seen_before_first[0]  # the lock was ours
    assert cpu_share._first_done.is_set()  # the request ended: nobody is held
