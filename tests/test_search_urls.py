"""No names in URLs (issue 12): the student list, the case list and the request screen's student
picker take a search by POST and come back with an opaque token; no URL, redirect or link the
search pages produce holds the name or the student number, and page links keep the search."""
from __future__ import annotations

import re
from urllib.parse import quote, unquote

import pytest
from flask import g

from .factories import DEFAULT_PASSWORD

PAGE_SIZE = 2
NAME, NEIS = "박서준", "N-77770001"


@pytest.fixture
def app(make_app):
    app = make_app(PAGE_SIZE=PAGE_SIZE)
    with app.app_context():
        yield app


@pytest.fixture
def scene(build, client, login):
    """Three students called 박서준 (one with a NEIS number), each with a case, and one other."""
    school = build.school()
    lead = build.user("school_lead", organisation=school)
    same = [build.student(school, actor=lead, name=NAME, **({"neis_number": NEIS} if i == 0 else {}))
            for i in range(PAGE_SIZE + 1)]
    other = build.student(school, actor=lead, name="이수아")
    cases = [build.case(school, lead=lead, student=s) for s in same]
    build.case(school, lead=lead, student=other)
    assert login(lead).status_code == 302
    return lead, same, other, cases


def links(page: str) -> list[str]:
    """Every href and form action on a page, unescaped and percent-decoded."""
    return [unquote(v.replace("&amp;", "&")) for v in re.findall(r'(?:href|action)="([^"]*)"', page)]


def assert_clean(*urls: str) -> None:
    for url in urls:
        decoded = unquote(url or "")
        assert NAME not in decoded and NEIS.lower() not in decoded.lower(), url
        assert quote(NAME) not in (url or "") and "q=" not in decoded, url


SEARCHES = [  # (where the search box posts, the list it comes back to, uid pattern of a row)
    ("/students/", "/students/", r'<tr data-student="([0-9a-f-]{36})">'),
    ("/cases/", "/cases/", r'<tr data-case="([0-9a-f-]{36})">'),
]


@pytest.mark.parametrize("post_to, list_url, row", SEARCHES)
@pytest.mark.parametrize("text", [NAME, NEIS])
def test_a_search_is_posted_and_no_url_holds_the_name(scene, client, post_to, list_url, row, text):
    _lead, same, _other, cases = scene
    response = client.post(post_to, data={"q": text})
    assert response.status_code == 302 and response.location.startswith(list_url)
    assert_clean(response.location)
    assert re.search(r"[?&]s=[A-Za-z0-9_-]{8,}", response.location)
    page = client.get(response.location).get_data(as_text=True)
    assert_clean(*links(page))
    found = re.findall(row, page)
    wanted = {s.uid for s in same} if row.startswith("<tr data-student") else {c.uid for c in cases}
    if text == NEIS:
        assert len(found) == 1 and found[0] in wanted
        return
    # the search fills more than one page: the page links carry the token and keep the search
    assert len(found) == PAGE_SIZE and set(found) <= wanted
    page_links = [url for url in links(page) if "page=2" in url]
    assert page_links and all("s=" in url for url in page_links)
    second = client.get(page_links[0]).get_data(as_text=True)
    assert set(found) | set(re.findall(row, second)) == wanted
    assert_clean(*links(second))


def test_the_case_list_keeps_plain_filters_in_the_url_and_the_name_out(scene, client):
    response = client.post("/cases/", data={"q": NAME, "status": "requested", "risk": "general"})
    assert_clean(response.location)
    assert "status=requested" in response.location and "risk=general" in response.location
    page = client.get(response.location).get_data(as_text=True)
    assert len(re.findall(r'<tr data-case="', page)) == PAGE_SIZE
    assert 'value="박서준"' in page  # the text stays in the box it was typed into


def test_the_request_picker_searches_by_post(scene, client):
    _lead, same, other, _cases = scene
    response = client.post("/cases/new", data={"q": NEIS, "action": "find"})
    assert response.status_code == 200  # the form comes back searched: the text never enters a URL
    page = response.get_data(as_text=True)
    assert same[0].uid in page and other.uid not in page and same[1].uid not in page
    assert_clean(*links(page))
    assert 'name="action" value="find"' in page  # the search posts the whole request form


def test_a_name_in_the_query_string_is_not_searched(scene, client):
    """An old bookmark or a hand-made ?q= link shows the whole list: the app never searches by a
    name it was given in a URL."""
    _lead, same, other, cases = scene
    students = client.get("/students/", query_string={"q": NAME}).get_data(as_text=True)
    assert len(re.findall(r'<tr data-student="', students)) == PAGE_SIZE and "모두 4명" in students
    assert "찾는 학생이 없습니다" not in students and 'value="박서준"' not in students
    picker = client.get("/cases/new", query_string={"q": NEIS}).get_data(as_text=True)
    assert other.uid in picker  # not narrowed
    listing = client.get("/cases/", query_string={"q": NAME}).get_data(as_text=True)
    assert 'value="박서준"' not in listing


def test_a_token_works_only_in_its_own_session_and_list(app, scene, client, build):
    lead, same, other, _cases = scene
    location = client.post("/students/", data={"q": NEIS}).location
    token = re.search(r"s=([A-Za-z0-9_-]+)", location).group(1)
    # the case list does not read the student list's token
    cases_page = client.get(f"/cases/?s={token}").get_data(as_text=True)
    assert 'value="' + NEIS not in cases_page and len(re.findall(r'<tr data-case="', cases_page)) == PAGE_SIZE
    # another session (even the same user's) has no such token: the whole list
    g.pop("_login_user", None)
    other_client = app.test_client()
    other_client.post("/login", data={"login": lead.login, "password": DEFAULT_PASSWORD})
    g.pop("_login_user", None)
    page = other_client.get(location).get_data(as_text=True)
    assert NEIS not in page and len(re.findall(r'<tr data-student="', page)) == PAGE_SIZE


def test_an_overlong_search_is_explained_and_not_redirected(scene, client):
    for url in ("/students/", "/cases/"):
        response = client.post(url, data={"q": "가" * 51})
        assert response.status_code == 400
        assert "50자 이내로 입력해 주세요." in response.get_data(as_text=True)
