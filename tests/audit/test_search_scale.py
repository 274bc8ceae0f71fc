"""Auditor search at scale (issue 13): keyset pages in (occurred_at, id) order that never skip or
repeat an event, even when many events share an instant, and queries that walk one index in
page order (no sort of every match) for every filter combination."""
from __future__ import annotations

import datetime as dt
import itertools

import pytest
from freezegun import freeze_time
from sqlalchemy import event

from app.audit import review as rv
from app.audit.services import record
from app.extensions import db

from . import is_postgres


@pytest.fixture
def trail(build):
    """60 events over 12 instants (5 per instant), two actors, two actions, some denied; ids do
    not follow time for the last instants (another host's clock), so id order is not page order."""
    alice = build.user("school_staff", login="scale-alice")
    bob = build.user("school_staff", login="scale-bob")
    expected = []
    base = dt.datetime(2026, 5, 1, 1, 0)
    with freeze_time(base) as clock:  # moved, not re-entered: each freeze patches every loaded module
        for i, j in itertools.product(range(12), range(5)):
            when = base + dt.timedelta(minutes=(i if i < 10 else 20 - i))  # 11 before 10
            actor = alice if j % 2 else bob
            action = "case_viewed" if j < 3 else "student_viewed"
            outcome = "denied" if j == 4 else "allowed"
            clock.move_to(when)
            e = record(action, actor=actor, subject=f"subj-{j % 2}", outcome=outcome)
            expected.append((when, e.id, actor.login, action, outcome, f"subj-{j % 2}"))
    db.session.commit()
    return expected


CRITERIA = {
    "none": {},
    "action": {"action": "case_viewed"},
    "actor": {"actor": "scale-alice"},
    "subject": {"subject": "subj-1"},
    "denied": {"outcome": "denied"},
    "allowed": {"outcome": "allowed"},
    "dates": {"start": dt.date(2026, 5, 1), "end": dt.date(2026, 5, 1)},
    "actor+action": {"actor": "scale-bob", "action": "case_viewed"},
    "actor+action+denied": {"actor": "scale-bob", "action": "student_viewed", "outcome": "denied"},
    "subject+action+dates": {"subject": "subj-0", "action": "case_viewed", "start": dt.date(2026, 5, 1)},
}


def matching(trail, criteria: dict) -> list[int]:
    rows = [t for t in trail
            if criteria.get("actor") in (None, t[2]) and criteria.get("action") in (None, t[3])
            and criteria.get("outcome") in (None, t[4]) and criteria.get("subject") in (None, t[5])]
    return [t[1] for t in sorted(rows, key=lambda t: (t[0], t[1]), reverse=True)]


@pytest.mark.parametrize("criteria", CRITERIA.values(), ids=CRITERIA.keys())
def test_pages_cover_every_event_once_in_order(criteria, trail):
    for size in (1, 4, 7):  # page edges fall inside and between groups of five equal instants
        walk_pages(rv.SearchCriteria(**criteria), matching(trail, criteria), size)


def walk_pages(crit, wanted: list[int], size: int) -> None:
    pages, page = [], rv.search_events(crit, limit=size)
    pages.append(page)
    while page.has_older:
        page = rv.search_events(crit, before=page.oldest_id, limit=size)
        pages.append(page)
    seen = [r.id for p in pages for r in p.rows if r.id in set(wanted)]
    assert seen == wanted  # none skipped, none repeated, newest first with ties by id
    # and back again, page by page, towards the newest
    back = pages[-1]
    for expected in reversed(pages[:-1]):
        back = rv.search_events(crit, after=back.newest_id, limit=size)
        assert [r.id for r in back.rows] == [r.id for r in expected.rows]
    assert not back.has_newer


@pytest.mark.parametrize("criteria", CRITERIA.values(), ids=CRITERIA.keys())
def test_each_page_walks_an_index_without_sorting_every_match(criteria, trail):
    """SQLite: the page query names an index and never sorts all matches (a TEMP B-TREE FOR
    ORDER BY would sort every event of a common action, 713,000 at Seoul scale)."""
    if is_postgres():
        pytest.skip("plans are checked on SQLite; PostgreSQL plans with statistics")
    plans = []

    def explain(conn, _cursor, statement, params, _context, _many):
        if statement.lstrip().startswith("SELECT audit_event.id, audit_event.occurred_at"):
            plans.append(" | ".join(r[-1] for r in conn.exec_driver_sql("EXPLAIN QUERY PLAN " + statement, params)))

    event.listen(db.engine, "before_cursor_execute", explain)
    try:
        first = rv.search_events(rv.SearchCriteria(**criteria), limit=2)
        if first.has_older:
            rv.search_events(rv.SearchCriteria(**criteria), before=first.oldest_id, limit=2)
    finally:
        event.remove(db.engine, "before_cursor_execute", explain)
    assert plans
    for plan in plans:
        assert "USING INDEX" in plan and "TEMP B-TREE" not in plan, plan


def test_a_probe_picks_the_narrower_index(trail, monkeypatch):
    """With a common action and the rare denials, the page walks the denials."""
    seen = []
    real = rv._driving
    monkeypatch.setattr(rv, "_driving", lambda *a: seen.append(real(*a)) or seen[-1])
    rv.search_events(rv.SearchCriteria(action="case_viewed", outcome="denied"))
    rv.search_events(rv.SearchCriteria(actor="scale-bob", action="case_viewed"))
    rv.search_events(rv.SearchCriteria(subject="subj-1", actor="scale-bob", outcome="denied"))
    assert seen == [("denied",), ("actor", "action"), ("subject",)]
