"""The admin's user list: filters (role, organisation, status, locked), search by login (names
are encrypted and never searched), pages, and an audited view that keeps search terms out."""
from __future__ import annotations

import datetime as dt
import re

import pytest

from app.admin import views
from app.auth.models import LoginThrottle
from app.db import utcnow

from .conftest import events


def rows(html: str) -> list[str]:
    return re.findall(r'data-testid="user-row" data-login="([^"]+)"', html)


def lock(db, user):
    db.session.add(LoginThrottle(login=user.login_key, failures=5, locked_until=utcnow() + dt.timedelta(minutes=15)))
    db.session.commit()


@pytest.fixture
def people(build, db):
    school = build.school(name="검색초등학교", code="B100000001")
    agency = build.agency(name="마포청소년센터")
    made = {
        "kim": build.user("school_staff", organisation=school, login="kim.teacher"),
        "lead": build.user("school_lead", organisation=school, login="park.lead"),
        "agency": build.user("agency_coordinator", organisation=agency, login="agency.kim"),
        "gone": build.user("school_staff", organisation=school, login="gone.teacher"),
        "locked": build.user("school_staff", organisation=school, login="locked.teacher"),
    }
    made["gone"].active = False
    db.session.commit()
    lock(db, made["locked"])
    return made


@pytest.mark.parametrize(("query", "expected"), [
    ({"q": "KIM"}, ["agency.kim", "kim.teacher"]),
    ({"q": "ｔｅａｃｈｅｒ"}, ["gone.teacher", "kim.teacher", "locked.teacher"]),
    ({"q": "%"}, []),
    ({"role": "school_lead"}, ["park.lead"]),
    ({"org": "B100000001"}, ["gone.teacher", "kim.teacher", "locked.teacher", "park.lead"]),
    ({"org": "청소년센터"}, ["agency.kim"]),
    ({"status": "inactive"}, ["gone.teacher"]),
    ({"locked": "y"}, ["locked.teacher"]),
    ({"org": "B100000001", "status": "active", "role": "school_staff"}, ["kim.teacher", "locked.teacher"]),
])
def test_filters_and_login_search(client, admin, people, query, expected):
    page = client.get("/admin/users", query_string=query)
    assert page.status_code == 200
    assert rows(page.get_data(as_text=True)) == expected


def test_the_list_shows_state_and_says_names_are_not_searched(client, admin, people, db):
    html = client.get("/admin/users").get_data(as_text=True)
    assert "이름은 암호화되어 있어 검색할 수 없으니" in html
    assert html.count('data-testid="locked"') == 1
    assert "/cases" not in html.split("<main", 1)[1] and "/students" not in html.split("<main", 1)[1]
    [viewed] = events(db, "admin_users_viewed")
    assert viewed.actor_id == admin.id and '"rows":6' in viewed.details


def test_search_terms_stay_out_of_the_audit_trail(client, admin, people, db):
    client.get("/admin/users", query_string={"q": "kim.teach", "org": "검색초"})
    [viewed] = events(db, "admin_users_viewed")
    assert "kim.teach" not in viewed.details and "검색초" not in viewed.details
    assert '"searched":true' in viewed.details


def test_the_list_is_paged(client, admin, people, monkeypatch):
    monkeypatch.setattr(views, "PAGE_SIZE", 2)
    first = client.get("/admin/users", query_string={"status": "active"}).get_data(as_text=True)
    second = client.get("/admin/users", query_string={"status": "active", "page": 2}).get_data(as_text=True)
    assert rows(first) == ["agency.kim", "kim.teacher"] and rows(second) == ["locked.teacher", "park.lead"]
    assert 'href="/admin/users?page=2&amp;status=active"' in first


def test_a_bad_filter_is_explained(client, admin):
    response = client.get("/admin/users", query_string={"role": "emperor"})
    assert response.status_code == 400
    assert 'data-testid="error-summary"' in response.get_data(as_text=True)


