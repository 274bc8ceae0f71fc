"""A settled month's access-review figures are stored once (flask audit summarise) and read back (issue 13)."""
from __future__ import annotations

import datetime as dt
import re

import pytest
from freezegun import freeze_time
from sqlalchemy import delete, event, func, select

from app.audit import access_review as ar
from app.audit import review_totals as totals
from app.audit.chain import purge_events
from app.audit.models import AuditEvent, AuditMonthSummary, AuditMonthUser

from ..concurrency import at_once
from .test_review import NOW, at, march  # noqa: F401  (the crafted March of the review tests)


def stored_months(db) -> list[str]:
    return list(db.session.execute(select(AuditMonthSummary.month).order_by(AuditMonthSummary.month)).scalars())


def figures(rows) -> dict:
    return {r.actor_id: (r.login, r.role, r.events, r.subjects, r.exports, r.denials, r.after_hours, r.unusual)
            for r in rows}


def statements_during(db, work) -> list[str]:
    seen = []

    def count(_conn, _cursor, statement, *_args):
        seen.append(statement)

    event.listen(db.engine, "before_cursor_execute", count)
    try:
        work()
    finally:
        event.remove(db.engine, "before_cursor_execute", count)
    return seen


@pytest.mark.parametrize("now, settled", [
    ("2026-03-31 15:30:00", False),   # 2026-04-01 00:30 KST: March may still be appended to
    ("2026-03-31 15:59:59", False),
    ("2026-03-31 16:00:00", True),    # 01:00 KST on 1 April
    ("2026-03-20 00:00:00", False),   # during the month
])
def test_a_month_is_settled_an_hour_after_it_ends_in_seoul(now, settled):
    assert totals.is_settled(dt.date(2026, 3, 1), dt.datetime.fromisoformat(now)) is settled


@freeze_time(NOW)
def test_a_stored_month_reads_back_the_live_figures_without_the_events(march, db):
    live = figures(ar.monthly_access_summary("2026-03"))
    assert totals.store_month(dt.date(2026, 3, 1)) is True
    db.session.commit()
    assert stored_months(db) == ["2026-03"]
    assert db.session.scalar(select(func.count()).select_from(AuditMonthUser)) == len(live) == 3
    stored_event = db.session.execute(select(AuditEvent).filter_by(action="access_review_summarised")).scalar_one()
    assert (stored_event.object_id, stored_event.details) == ("2026-03", '{"month":"2026-03","users":3}')
    # read back without touching the events: a row written into March now (it cannot happen
    # in use; the test writes it to tell stored figures from live ones) does not change them
    alice, _bob = march
    at(db, "2026-03-10 02:00:00", "student_viewed", alice, subject="subj-4")
    seen = statements_during(db, lambda: totals.month_rows(dt.date(2026, 3, 1)))
    assert figures(totals.month_rows(dt.date(2026, 3, 1))) == live
    selects = [s for s in seen if s.lstrip().upper().startswith("SELECT")]
    assert not [s for s in seen if "audit_event" in s] and len(selects) == 2
    assert figures(ar.monthly_access_summary("2026-03"))[alice.id][2] == live[alice.id][2] + 1
    assert totals.store_month(dt.date(2026, 3, 1)) is False   # stored once


@freeze_time(NOW)
def test_a_stored_month_is_read_as_rows_not_orm_objects(march, db):
    # a busy month has ~10,000 users: building an ORM object for each cost 0.3-1 s at Seoul scale
    assert totals.store_month(dt.date(2026, 3, 1)) is True
    db.session.commit()
    db.session.expunge_all()
    loaded = []

    def on_load(target, _context):
        loaded.append(target)
    event.listen(AuditMonthUser, "load", on_load)
    try:
        rows = totals.month_rows(dt.date(2026, 3, 1))
    finally:
        event.remove(AuditMonthUser, "load", on_load)
    assert len(rows) == 3 and all(isinstance(r, ar.AccessRow) for r in rows)
    assert loaded == []
    stored = db.session.execute(select(AuditMonthUser.actor_id)).scalars().all()
    assert {r.actor_id for r in rows} == set(stored) and len(stored) == 3


@freeze_time(NOW)
def test_a_month_not_stored_yet_is_aggregated_live(march, db):
    alice, _bob = march
    assert figures(totals.month_rows(dt.date(2026, 3, 1)))[alice.id][2] == 9
    at(db, "2026-03-10 02:00:00", "student_viewed", alice)
    assert figures(totals.month_rows(dt.date(2026, 3, 1)))[alice.id][2] == 10
    assert stored_months(db) == []


@freeze_time("2026-03-31 15:30:00")   # 00:30 KST on 1 April
def test_a_month_not_yet_settled_is_not_stored(march, db):
    alice, _bob = march
    assert totals.store_month(dt.date(2026, 3, 1)) is False
    assert totals.settled_months_to_store() == [dt.date(2026, 2, 1)]   # March is not among them
    db.session.commit()
    assert stored_months(db) == []
    at(db, "2026-03-31 14:59:00", "student_viewed", alice)   # 23:59 KST, appended late
    assert figures(totals.month_rows(dt.date(2026, 3, 1)))[alice.id][2] == 10


@freeze_time(NOW)
def test_an_empty_settled_month_is_stored_as_empty(db, app):
    assert totals.store_month(dt.date(2025, 6, 1)) is True
    db.session.commit()
    assert stored_months(db) == ["2025-06"]
    assert totals.month_rows(dt.date(2025, 6, 1)) == []


@freeze_time(NOW)
def test_the_command_stores_every_ended_month_once(march, app, db):
    run = app.test_cli_runner()
    result = run.invoke(args=["audit", "summarise"])
    assert result.exit_code == 0, result.output
    # events from late February (KST) to 1 April; the auditor's sign-in in April is this month
    assert stored_months(db) == ["2026-02", "2026-03"] and "2" in result.output.splitlines()[-1]
    again = run.invoke(args=["audit", "summarise"])
    assert again.exit_code == 0 and again.output.splitlines()[-1].endswith("0")
    assert db.session.scalar(select(func.count()).select_from(AuditEvent)
                             .filter_by(action="access_review_summarised")) == 2


@freeze_time(NOW)
def test_the_review_page_reads_the_stored_figures_and_writes_none(march, client, db, build, login):
    alice, _bob = march
    login(build.user("auditor"))

    def alice_row() -> list[str]:
        page = client.get("/audit/review?month=2026-03").get_data(as_text=True)
        row = re.search(rf'<tr data-actor="{alice.login}">(.*?)</tr>', page, re.S).group(1)
        return re.findall(r"<td class=\"num\">(\d+)</td>", row)

    assert alice_row() == ["9", "3", "2", "1", "4"]
    assert stored_months(db) == []   # the page never stores
    totals.store_month(dt.date(2026, 3, 1))
    db.session.commit()
    at(db, "2026-03-10 02:00:00", "student_viewed", alice, subject="subj-4")
    assert alice_row() == ["9", "3", "2", "1", "4"]
    viewed = db.session.scalar(select(func.count()).select_from(AuditEvent).filter_by(action="access_review_viewed"))
    assert viewed == 2   # every view is still recorded


def test_two_runs_at_once_store_the_month_once(march, app, db):
    db.session.rollback()

    def store(_k, ready):
        ready()
        stored = totals.store_month(dt.date(2026, 3, 1))
        db.session.commit()
        return stored

    for _round in range(3):
        with freeze_time(NOW):   # one clock for both threads (freezegun's patching is global)
            results = at_once(app, store)
        assert sorted(results) == [False, True], results
        assert stored_months(db) == ["2026-03"]
        assert db.session.scalar(select(func.count()).select_from(AuditMonthUser)) == 3
        db.session.execute(delete(AuditMonthSummary))
        db.session.commit()


def test_a_purge_forgets_the_months_it_touched(build, db):
    # the database's own trigger refuses a checkpoint younger than the retention period by its
    # real clock, so the purged months lie years back
    with freeze_time("2023-01-05 01:00:00"):   # the chain's first events are old too
        user = build.user("school_staff")
    at(db, "2023-02-10 01:00:00", "student_viewed", user, times=2)
    at(db, "2023-03-10 01:00:00", "student_viewed", user)
    for first in (dt.date(2023, 2, 1), dt.date(2023, 3, 1)):
        assert totals.store_month(first)
    db.session.commit()
    assert stored_months(db) == ["2023-02", "2023-03"]
    assert purge_events(dt.date(2023, 3, 1)).events_removed >= 2   # before 1 March 2023 KST
    db.session.commit()
    assert stored_months(db) == ["2023-03"]
    assert set(db.session.execute(select(AuditMonthUser.month)).scalars()) == {"2023-03"}
    assert figures(totals.month_rows(dt.date(2023, 3, 1)))[user.id][2] == 1
