"""Query counts of the case screens do not grow with the data: the lists (each filter, page 1 and a
later page, school and district), the case page with a short and a long chronology; the
chronology's pages show every line exactly once, with dates written as the kdatetime filter does."""
from __future__ import annotations

import datetime as dt
import re

import pytest
from flask import render_template_string

from app.cases.chronology import CHRONOLOGY_PAGE, add_event, when_texts
from app.cases.plan import add_plan_action
from app.db import today_kst, utcnow
from app.extensions import db as _db
from tests.querycount import statements

PAGE_SIZE = 3
#: each filter of the list, as query-string arguments
FILTERS = [{}, {"status": "in_support"}, {"status": "open"}, {"domain": "learning"}, {"risk": "crisis"},
           {"overdue": "y"}, {"consent_missing": "y"}]


@pytest.fixture
def app(make_app):
    app = make_app(PAGE_SIZE=PAGE_SIZE)
    with app.app_context():
        yield app


@pytest.fixture
def school(build):
    return build.school()


@pytest.fixture
def lead(build, school):
    return build.user("school_lead", organisation=school)


def add_cases(build, school, lead, rounds: int) -> None:
    """``rounds`` × a mix that meets every filter: in support with an overdue action, planning
    without consent, requested in crisis."""
    for _ in range(rounds):
        late = build.case(school, status="in_support", lead=lead, risk_level="crisis")
        add_plan_action(late, lead, goal="출석 회복", action="상담", due_on=today_kst() - dt.timedelta(days=1))
        build.case(school, status="planning", lead=lead, needs=(("welfare", "생활비"),))
        build.case(school, status="requested", lead=lead, risk_level="crisis")
    _db.session.commit()


def counts(client, args_list, pages=(1, 2)) -> dict:
    found = {}
    for args in args_list:
        for page in pages:
            query = "&".join(f"{k}={v}" for k, v in {**args, "page": page}.items())
            found[(tuple(args.items()), page)] = statements(client, f"/cases/?{query}")
    return found


def rows(page: str) -> list[str]:
    return re.findall(r'<tr data-case="([0-9a-f-]{36})">', page)


@pytest.mark.parametrize("role", ["school_lead", "district_coordinator"])
def test_list_counts_do_not_grow(db, build, client, login, school, lead, role):
    user = lead if role == "school_lead" else build.user(role, organisation=build.organisation("district_office"))
    add_cases(build, school, lead, 4)  # page 2 of every filter has rows already
    login(user)
    _db.session.commit()
    _db.session.expire_all()
    small = counts(client, FILTERS)
    add_cases(build, school, lead, 5)
    other = build.school()  # another school of the same district
    add_cases(build, other, build.user("school_lead", organisation=other), 1)
    _db.session.commit()
    _db.session.expire_all()
    large = counts(client, FILTERS)
    assert large == small
    # and the pages still show the right cases: page 2 of the overdue filter, in order
    page = client.get("/cases/?overdue=y&page=2").get_data(as_text=True)
    assert len(rows(page)) == PAGE_SIZE and "기한 지남" in page


def test_later_pages_show_every_case_once(db, build, client, login, school, lead):
    add_cases(build, school, lead, 3)
    login(lead)
    seen = []
    for page in (1, 2, 3, 4):
        seen += rows(client.get(f"/cases/?page={page}").get_data(as_text=True))
    assert len(seen) == len(set(seen)) == 9
    assert "모두 9건" in client.get("/cases/").get_data(as_text=True)


def test_count_is_bounded_far_from_the_current_page(db, build, client, login, school, lead, monkeypatch):
    from app.cases import queries
    monkeypatch.setattr(queries, "COUNT_AHEAD_PAGES", 1)
    add_cases(build, school, lead, 4)  # 12 cases, 8 of them without consent
    login(lead)
    assert "모두 12건" in client.get("/cases/").get_data(as_text=True)  # no probing filter: exact
    first = client.get("/cases/?consent_missing=y").get_data(as_text=True)
    assert "6건 이상" in first and "page=2" in first and len(rows(first)) == 3  # two pages ahead, no further
    last = client.get("/cases/?consent_missing=y&page=3").get_data(as_text=True)
    assert "모두 8건" in last and len(rows(last)) == 2


def chronology_lines(page: str) -> list[str]:
    return re.findall(r'data-testid="event" data-kind="[a-z_]+" data-event="([0-9a-f-]{36})"', page)


def add_events(case, lead, n: int, start: dt.datetime) -> None:
    for k in range(n):
        # some share a timestamp: the keyset pages must still show each line once
        add_event(case, "note", f"기록 {k}", lead, when=start + dt.timedelta(hours=7 * (k // 2)))
    _db.session.commit()


def fresh_statements(client, url: str) -> int:
    """The statements of one request with nothing of the test's left in the session."""
    _db.session.commit()
    _db.session.expunge_all()
    return statements(client, url)


def test_case_page_counts_do_not_grow_with_the_chronology(db, build, client, login, school, lead):
    short, long = build.case(school, status="in_support", lead=lead), build.case(school, status="in_support", lead=lead)
    start = utcnow() - dt.timedelta(days=200)
    add_events(short, lead, 5, start)
    add_events(long, lead, 150, start)
    short_url, long_url = f"/cases/{short.uid}", f"/cases/{long.uid}"
    login(lead)
    assert fresh_statements(client, short_url) == fresh_statements(client, long_url)
    page = client.get(long_url).get_data(as_text=True)
    assert len(chronology_lines(page)) == CHRONOLOGY_PAGE and 'data-testid="chronology-more"' in page
    older = re.search(r'data-testid="chronology-more" href="([^"]+)"', page).group(1).replace("&amp;", "&")
    assert fresh_statements(client, older.split("#")[0]) == fresh_statements(client, short_url)


@pytest.mark.parametrize("kind", [None, "note"])
def test_chronology_pages_show_every_line_once(db, build, client, login, school, lead, kind):
    case = build.case(school, status="in_support", lead=lead)
    add_events(case, lead, 230, utcnow() - dt.timedelta(days=100))
    login(lead)
    url = f"/cases/{case.uid}" + (f"?kind={kind}" if kind else "")
    seen, pages = [], 0
    while url:
        page = client.get(url).get_data(as_text=True)
        pages += 1
        seen += chronology_lines(page)
        more = re.search(r'data-testid="chronology-more" href="([^"]+)"', page)
        url = more.group(1).replace("&amp;", "&").split("#")[0] if more else None
        if pages > 1:
            assert 'data-testid="chronology-continued"' in page
    from sqlalchemy import func, select

    from app.cases.models import CaseEvent
    query = select(func.count(CaseEvent.id)).where(CaseEvent.case_id == case.id)
    if kind:
        query = query.where(CaseEvent.kind == kind)
    total = _db.session.execute(query).scalar_one()
    assert len(seen) == len(set(seen)) == total and pages == -(-total // CHRONOLOGY_PAGE)
    # every page view is audited as a case view
    from app.audit.models import AuditEvent
    views = _db.session.execute(select(func.count(AuditEvent.id)).filter_by(action="case_viewed")).scalar_one()
    assert views == pages


def test_dates_written_as_the_kdatetime_filter(app):
    moments = [dt.datetime(2026, 12, 1, h, m) for h in (0, 14, 15, 23) for m in (0, 59)]
    moments += [dt.datetime(2026, 12, 31, 15, 0), dt.datetime(2027, 1, 1, 0, 5), dt.datetime(2026, 3, 9, 9, 7)]
    with app.test_request_context():
        expected = [render_template_string("{{ d|kdatetime }}", d=m) for m in moments]
        assert when_texts(moments) == expected
