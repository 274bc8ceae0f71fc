"""Auditor pages: the number of SQL statements does not grow with the audit trail (issue 13).

Each page is counted on a small trail, the trail grows twenty-fold, and the page is counted
again: the same number of statements, and the page still shows the right content."""
from __future__ import annotations

import datetime as dt
import re

import pytest
from freezegun import freeze_time
from sqlalchemy import func, select

from app.audit.models import AuditEvent
from app.audit.services import record
from app.extensions import db

from ..querycount import counting, statements
from . import fill_chain

START = dt.datetime(2026, 3, 2, 0, 0)  # 09:00 KST on a Monday


@pytest.fixture
def auditor(build, login, db):
    user = build.user("auditor", login="count-auditor")
    staff = build.user("school_staff", login="count-staff")
    with freeze_time("2026-03-02 01:00:00"):
        record("case_viewed", actor=staff, subject="subj-count")
        record("permission_denied", actor=staff, outcome="denied", subject="subj-count")
    db.session.commit()
    login(user)
    return user


def grow(n: int) -> None:
    """n more events in March 2026 (KST office hours), valid chain."""
    fill_chain(n, start=START, step=dt.timedelta(seconds=30))
    db.session.commit()


SEARCHES = {
    "none": {},
    "action": {"action": "case_viewed"},
    "subject": {"subject": "subj-count"},
    "actor": {"actor": "count-staff"},
    "denied": {"outcome": "denied"},
    "allowed": {"outcome": "allowed"},
    "dates": {"start": "2026-03-01", "end": "2026-03-31"},
    "actor+action": {"actor": "count-staff", "action": "case_viewed"},
    "action+denied": {"action": "permission_denied", "outcome": "denied"},
    "action+dates": {"action": "case_viewed", "start": "2026-03-01", "end": "2026-03-31"},
}


@pytest.mark.parametrize("args", SEARCHES.values(), ids=SEARCHES.keys())
def test_search_statements_do_not_grow(args, auditor, client):
    grow(20)
    small = statements(client, "/audit/", query_string=args)
    grow(400)
    page = client.get("/audit/", query_string=args).get_data(as_text=True)
    assert statements(client, "/audit/", query_string=args) == small
    assert 'data-testid="audit-results"' in page
    if "subject" in args or "actor" in args:
        assert "subj-count" in page


def test_later_search_pages_do_not_grow(auditor, client):
    grow(120)
    first = client.get("/audit/", query_string={"outcome": "allowed"}).get_data(as_text=True)
    url = re.search(r'rel="next" href="([^"]+)"', first).group(1).replace("&amp;", "&")
    assert "before=" in url
    small = statements(client, url)
    grow(400)
    assert statements(client, url) == small


def test_review_statements_do_not_grow(auditor, client):
    grow(20)
    small = statements(client, "/audit/review?month=2026-03")
    grow(400)
    page = client.get("/audit/review?month=2026-03").get_data(as_text=True)
    assert statements(client, "/audit/review?month=2026-03") == small
    assert 'data-actor="teacher-' in page  # fill_chain's actors (ids 1–40)


@pytest.mark.parametrize("fmt", ["csv", "xlsx", "sqlite"])
def test_export_statements_do_not_grow(fmt, auditor, client):
    form = {"start": "2026-03-01", "end": "2026-03-31", "fmt": fmt, "reason": "정기 점검"}

    def run() -> tuple[int, bytes]:
        with counting() as seen:
            response = client.post("/audit/export", data=form)
            body = response.get_data()  # a streamed body runs its reads while it is consumed
            response.close()
        assert response.status_code == 200
        return len(seen), body

    grow(20)
    small, _ = run()
    grow(400)
    count, body = run()
    assert count == small
    if fmt == "csv":
        text = body.decode("utf-8-sig")
        march = db.session.scalar(select(func.count()).select_from(AuditEvent).where(
            AuditEvent.occurred_at >= dt.datetime(2026, 2, 28, 15), AuditEvent.occurred_at < dt.datetime(2026, 3, 31, 15)))
        assert text.count("case_viewed") >= 400 // 6 and f"#정보,rows,{march}" in text
