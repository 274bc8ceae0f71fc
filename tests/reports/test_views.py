"""The statistics pages over HTTP (issue 14): who sees which page, what a page shows and never
shows, the filters in the URL, the downloads, the printable report, and the audit of each."""
from __future__ import annotations

import csv
import io
import json
import re

import openpyxl
import pytest
from flask import g
from sqlalchemy import select

from app.audit.models import AuditEvent
from app.extensions import db

from ..factories import DEFAULT_PASSWORD


def sign_in(app, user):
    g.pop("_login_user", None)
    client = app.test_client()
    assert client.post("/login", data={"login": user.login, "password": DEFAULT_PASSWORD}).status_code == 302
    return client


def events(action: str) -> list[dict]:
    return [json.loads(e.details or "{}") | {"object_id": e.object_id, "actor_id": e.actor_id}
            for e in db.session.scalars(select(AuditEvent).filter_by(action=action).order_by(AuditEvent.id))]


@pytest.fixture
def people(build, district):
    return {
        "lead": build.user("school_lead", organisation=district.A),
        "staff": build.user("school_staff", organisation=district.B),
        "coordinator": build.user("district_coordinator", organisation=district.office),
        "auditor": build.user("auditor", organisation=build.organisation("city_office")),
        "admin": build.user("admin", organisation=build.organisation("city_office")),
        "guardian": build.user("guardian", organisation=None),
        "agency": build.user("agency_coordinator", organisation=build.agency()),
    }


@pytest.mark.parametrize("role, level", [("lead", "school"), ("staff", "school"), ("coordinator", "district"),
                                         ("auditor", "city"), ("admin", "city")])
def test_the_menu_opens_each_audience_its_own_page(app, people, role, level):
    client = sign_in(app, people[role])
    home = client.get("/", follow_redirects=True).get_data(as_text=True)
    assert 'href="/reports/"' in home  # 통계 in the menu
    response = client.get("/reports/")
    assert response.status_code == 302 and response.headers["Location"].endswith(f"/reports/{level}")


@pytest.mark.parametrize("role, allowed", [
    ("lead", {"school"}), ("staff", {"school"}), ("coordinator", {"district"}), ("auditor", {"city"}),
    ("admin", {"city"}), ("guardian", set()), ("agency", set())])
def test_every_role_against_every_page(app, people, role, allowed):
    client = sign_in(app, people[role])
    for level in ("school", "district", "city"):
        for path in (f"/reports/{level}", f"/reports/{level}/export.csv", f"/reports/{level}/export.xlsx"):
            assert client.get(path).status_code == (200 if level in allowed else 403), (role, path)
    assert client.get("/reports/district/report").status_code == (200 if "district" in allowed else 403)
    denied = [e for e in events("permission_denied") if e["actor_id"] == people[role].id]
    assert len(denied) == 3 * (3 - len(allowed)) + (0 if "district" in allowed else 1)


def test_a_school_sees_its_own_small_counts(app, people, district):
    page = sign_in(app, people["lead"]).get("/reports/school?period=semester&year=2026&semester=1")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "가나초등학교" in html and "다라중학교" not in html
    assert "5 미만" not in html and "suppression-note" not in html


def test_a_district_page_is_de_identified_and_names_no_student(app, people, district):
    html = sign_in(app, people["coordinator"]).get(
        "/reports/district?period=semester&year=2026&semester=1").get_data(as_text=True)
    assert "가나초등학교" in html and "다라중학교" in html and "사아초등학교" not in html  # its own schools only
    assert "5 미만" in html and 'data-testid="suppression-note"' in html
    for case in (district.a1, district.a2, district.b1):
        assert case.uid not in html and case.student.uid not in html
    assert not re.search(r"/(cases|students)/[0-9a-f-]{36}", html)  # no link to a case or a student


def test_the_city_page_sets_offices_and_gu_side_by_side(app, people, district):
    client = sign_in(app, people["auditor"])
    offices = client.get("/reports/city?period=year&year=2025").get_data(as_text=True)
    assert "서부교육지원청" in offices and "강남서초교육지원청" in offices
    by_gu = client.get("/reports/city?group=gu&period=year&year=2025").get_data(as_text=True)
    assert "마포" in by_gu and "송파" in by_gu


def test_the_filters_live_in_the_url_and_bad_ones_get_a_message(app, people, district):
    client = sign_in(app, people["coordinator"])
    html = client.get("/reports/district?period=month&month=2026-04&school_level=middle").get_data(as_text=True)
    assert "2026년 4월" in html and 'selected value="middle">중학교' in html
    assert "export.xlsx?period=month&amp;month=2026-04&amp;school_level=middle" in html
    bad = client.get("/reports/district?period=custom&from=2026-09&to=2026-03")
    assert bad.status_code == 400 and "끝 월은 시작 월과 같거나 그 뒤여야 합니다." in bad.get_data(as_text=True)
    assert "2026학년도" in bad.get_data(as_text=True)  # the page falls back to this school year


def test_views_and_downloads_are_audited_with_their_filters(app, people, district):
    client = sign_in(app, people["coordinator"])
    client.get("/reports/district?period=semester&year=2026&semester=1&domain=welfare")
    client.get("/reports/district/export.csv?period=semester&year=2026&semester=1")
    client.get("/reports/district/report?period=year&year=2026")
    (viewed,), (exported,), (printed,) = events("report_viewed"), events("report_exported"), events("report_printed")
    assert viewed["object_id"] == "district" and viewed["domain"] == "welfare" and viewed["from"] == "2026-03-01"
    assert exported["format"] == "csv" and printed["period"] == "year"


def test_the_downloads_carry_the_published_figures_only(app, people, district):
    client = sign_in(app, people["coordinator"])
    args = "period=semester&year=2026&semester=1"
    book = openpyxl.load_workbook(io.BytesIO(client.get(f"/reports/district/export.xlsx?{args}").data))
    info = {row[0]: row[1] for row in book["정보"].iter_rows(values_only=True) if row and row[0]}
    assert info["대상"] == "서부교육지원청" and info["기간"] == "2026학년도 1학기" and "비식별 처리" in info
    cells = [c for sheet in book.worksheets[1:] for row in sheet.iter_rows(values_only=True) for c in row]
    assert "5 미만" in cells and not [c for c in cells if isinstance(c, int) and 0 < c < 5]
    text = client.get(f"/reports/district/export.csv?{args}").data.decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text)))
    assert ["대상", "서부교육지원청"] in rows and any(r and r[0] == "[상태별 사례]" for r in rows)


def test_the_printed_report_has_a_summary_charts_and_tables(app, people, district):
    html = sign_in(app, people["coordinator"]).get(
        "/reports/district/report?period=semester&year=2026&semester=1").get_data(as_text=True)
    assert "2026학년도 1학기 지원 요청" in html and "<svg" in html and "<table" in html
    assert "print.css" in html and "<nav" not in html


def test_a_cached_district_page_renders_its_tables_once_per_language(app, build, people, district):
    """The ~16 tables of a district page are rendered once for the cached figures: a second view,
    by another coordinator of the office, reuses that HTML; another language renders its own."""
    from flask import template_rendered
    from .test_english import english
    app.config["REPORT_CACHE_SECONDS"] = 600
    colleague = build.user("district_coordinator", organisation=district.office)
    rendered = []

    def seen(_sender, template, **_extra):
        rendered.append(template.name)
    url = "/reports/district?period=semester&year=2026&semester=1"
    with template_rendered.connected_to(seen, app):
        first = sign_in(app, people["coordinator"]).get(url).get_data(as_text=True)
        second = sign_in(app, colleague).get(url).get_data(as_text=True)
        in_english = english(sign_in(app, colleague)).get(url).get_data(as_text=True)
    assert rendered.count("reports/_sections.html") == 2 and rendered.count("reports/dashboard.html") == 3
    sections = first[first.index('<section class="ieum-report-section"'):first.rindex("</section>")]
    assert sections and sections in second and sections not in in_english
    assert "Cases" in in_english[in_english.index('<section class="ieum-report-section"'):]
    assert len(events("report_viewed")) == 3  # every view is audited, cached or not
