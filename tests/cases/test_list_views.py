"""The case list: most urgent first, filters, search, pages, empty states, the audit of each view."""
from __future__ import annotations

import datetime as dt
import json
import re

import pytest
from sqlalchemy import select

from app.audit.models import AuditEvent
from app.cases.plan import add_plan_action
from app.db import today_kst
from app.extensions import db as _db

#: a small page so pagination is tested with a handful of cases
PAGE_SIZE = 3


@pytest.fixture
def app(make_app):
    app = make_app(PAGE_SIZE=PAGE_SIZE)
    with app.app_context():
        yield app


@pytest.fixture
def school(build):
    return build.school()


@pytest.fixture
def lead(build, school, login):
    user = build.user("school_lead", organisation=school)
    login(user)
    return user


def listed(page: str) -> list[str]:
    """Case uids in the order the list shows them."""
    return re.findall(r'<tr data-case="([0-9a-f-]{36})">', page)


def list_events(db) -> list[AuditEvent]:
    return list(db.session.execute(select(AuditEvent).filter_by(action="case_list_viewed").order_by(AuditEvent.id)).scalars())


def test_most_urgent_first(client, build, school, lead):
    general = build.case(school, lead=lead, risk_level="general")
    emergency = build.case(school, lead=lead, risk_level="emergency")
    crisis = build.case(school, lead=lead, risk_level="crisis")
    page = client.get("/cases/").get_data(as_text=True)
    assert listed(page) == [emergency.uid, crisis.uid, general.uid]
    assert "긴급" in page and 'data-risk="emergency"' in page
    assert emergency.student.name in page and emergency.student.class_label in page


@pytest.mark.parametrize("query, expected", [
    ({"status": "screening"}, {"screening"}),
    ({"status": "open"}, {"requested", "screening", "planning", "in_support"}),
    ({"status": "closed"}, {"closed"}),
    ({"domain": "welfare"}, {"screening"}),
    ({"risk": "crisis"}, {"planning"}),
    ({"overdue": "y"}, {"in_support"}),
    ({"consent_missing": "y", "status": "planning"}, {"planning"}),
    ({"risk": "crisis", "domain": "welfare"}, set()),
])
def test_filters(query, expected, client, build, school, lead, db):
    cases = {
        "requested": build.case(school, lead=lead),
        "screening": build.case(school, status="screening", lead=lead, needs=(("welfare", "급식비 지원"),)),
        "planning": build.case(school, status="planning", lead=lead, risk_level="crisis"),
        "in_support": build.case(school, status="in_support", lead=lead),
        "closed": build.case(school, status="closed", lead=lead),
    }
    add_plan_action(cases["in_support"], lead, goal="출석 회복", action="주 1회 상담",
                    due_on=today_kst() - dt.timedelta(days=3))
    db.session.commit()
    response = client.get("/cases/", query_string={**query, "page": 1})
    uids = listed(response.get_data(as_text=True))
    # pages hold PAGE_SIZE; collect every page
    page_no = 2
    while len(uids) % PAGE_SIZE == 0 and uids:
        more = listed(client.get("/cases/", query_string={**query, "page": page_no}).get_data(as_text=True))
        if not more:
            break
        uids += more
        page_no += 1
    assert response.status_code == 200
    assert set(uids) == {cases[k].uid for k in expected}


def test_flags_on_each_row(client, build, school, lead, db):
    late = build.case(school, status="in_support", lead=lead)
    add_plan_action(late, lead, goal="출석 회복", action="상담", due_on=today_kst() - dt.timedelta(days=1))
    build.case(school, status="planning", lead=lead)  # selected, no consent yet
    db.session.commit()
    page = client.get("/cases/").get_data(as_text=True)
    assert page.count("기한 지남</span>") == 1 and page.count("동의 미비</span>") == 1


def test_search_by_exact_name_or_neis_number(client, build, school, lead):
    wanted = build.student(school, actor=lead, name="박서준", neis_number="N-7777")
    case = build.case(school, lead=lead, student=wanted)
    other = build.case(school, lead=lead)
    for q in ("박서준", " 박서준 ", "n-7777"):
        assert listed(client.post("/cases/", data={"q": q}, follow_redirects=True).get_data(as_text=True)) == [case.uid]
    for q in ("박서", "서준"):  # a blind index finds whole values only
        page = client.post("/cases/", data={"q": q}, follow_redirects=True).get_data(as_text=True)
        assert listed(page) == [] and "조건에 맞는 사례가 없습니다" in page
    assert other.uid in client.get("/cases/").get_data(as_text=True)


def test_pages_keep_the_filters(client, build, school, lead):
    crisis = [build.case(school, lead=lead, risk_level="crisis") for _ in range(PAGE_SIZE + 1)]
    build.case(school, lead=lead)
    first = client.get("/cases/?risk=crisis").get_data(as_text=True)
    assert len(listed(first)) == PAGE_SIZE and "모두 4건" in first
    assert 'href="/cases/?page=2&amp;risk=crisis"' in first
    second = client.get("/cases/?risk=crisis&page=2").get_data(as_text=True)
    assert set(listed(first) + listed(second)) == {c.uid for c in crisis}
    # a page past the end is empty, not an error
    assert client.get("/cases/?risk=crisis&page=99").status_code == 200


def test_empty_states(client, build, school, lead):
    page = client.get("/cases/").get_data(as_text=True)
    assert "아직 등록된 지원 사례가 없습니다" in page and 'href="/cases/new"' in page
    page = client.get("/cases/?status=closed").get_data(as_text=True)
    assert "조건에 맞는 사례가 없습니다" in page


def test_invalid_filter_is_explained(client, lead, db):
    response = client.get("/cases/?status=lost&risk=nope")
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert 'id="status-error"' in page and "올바르지 않은 선택값입니다" in page
    assert list_events(db) == []  # nothing was listed


def test_each_view_is_audited_with_filters_but_no_search_text(client, build, school, lead, db):
    case = build.case(school, lead=lead, risk_level="crisis")
    client.post("/cases/", data={"risk": "crisis", "overdue": "y", "q": case.student.name}, follow_redirects=True)
    client.get("/cases/")
    first, second = list_events(db)
    details = json.loads(first.details)
    assert details == {"status": "", "domain": "", "risk": "crisis", "overdue": True, "consent_missing": False,
                       "searched": True, "page": 1, "shown": 0}
    assert case.student.name not in first.details and first.subject_ref is None
    assert (first.actor_id, first.outcome, first.object_type) == (lead.id, "allowed", "support_case")
    assert json.loads(second.details)["shown"] == 1


def test_district_coordinator_sees_school_names(app, client, build, login, db):
    school = build.school()
    case = build.case(school)
    login(build.user("district_coordinator"))
    page = client.get("/cases/").get_data(as_text=True)
    assert listed(page) == [case.uid]
    assert "<th scope=\"col\">학교</th>" in page and school.name in page
    assert 'href="/cases/new"' not in page  # coordinators do not log requests


def test_school_staff_see_no_school_column(client, build, school, lead):
    build.case(school, lead=lead)
    page = client.get("/cases/").get_data(as_text=True)
    assert "<th scope=\"col\">학교</th>" not in page


def test_list_queries_do_not_grow_with_rows(client, build, school, lead, app):
    """No query per row: the same number of statements for 1 case and for a full page."""
    from sqlalchemy import event

    def statements() -> int:
        seen = []
        engine = _db.engine
        listener = lambda *args: seen.append(args[2])  # noqa: E731
        event.listen(engine, "before_cursor_execute", listener)
        try:
            client.get("/cases/")
        finally:
            event.remove(engine, "before_cursor_execute", listener)
        return len(seen)
    build.case(school, lead=lead)
    one = statements()
    for _ in range(PAGE_SIZE):
        build.case(school, lead=lead, needs=(("learning", "a"), ("health", "b")))
    assert statements() == one
