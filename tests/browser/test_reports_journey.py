"""Journey in real Chromium (issue 14): a district coordinator opens 통계 from the menu, narrows the
district page to 2026학년도 1학기, reads a figure from a chart's table, downloads the page as XLSX
and prints the 성과보고서 to PDF.  The data is the reports' ``district`` fixture (records with
explicit 2026 dates) plus six named students' cases, so that one cell is large enough to publish;
no page or file shows a student's name, a case's uid or a small count."""
import re

import openpyxl
import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from app.cases.models import CaseNeed, SupportCase
from app.extensions import db as _db
from app.reports.dashboards import build as build_dashboard
from tests.reports.conftest import D, data, district, semester1  # noqa: F401  (fixtures)

from .test_conference_journey import sign_in

SEMESTER = "2026학년도 1학기"
SCHOOL, STATUS = "다라중학교", "지원 중"
ADDED = 6  # cases in support at 다라중학교 requested in May 2026: the one published cell we read


@pytest.fixture
def frozen():
    """No frozen clock here: freezegun would stop Playwright's event loop as well.  The figures the
    journey reads depend on the records' own dates only (and are worked out in this process too)."""
    yield


@pytest.fixture
def live_app(app):
    """Serve the test's own app (the district lives in its database), with CSRF on."""
    app.config["WTF_CSRF_ENABLED"] = True
    return app


def small(value) -> bool:
    """A count 0–4, as a number or as text: what should have read "5 미만"."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return 0 <= value < 5
    return isinstance(value, str) and value.strip() in {"0", "1", "2", "3", "4"}


def hidden_small_counts(workbook) -> list:
    """Every small count in any sheet (the 정보 sheet's 근거 건수 included)."""
    return [(sheet.title, cell.coordinate, cell.value) for sheet in workbook.worksheets for row in sheet.iter_rows()
            for cell in row if small(cell.value)]


def cell_of(table, row_label: str, column: str):
    """The cell of ``table`` in the row headed ``row_label`` and the column headed ``column``."""
    headers = [h.strip() for h in table.locator("thead th").all_inner_texts()]
    row = table.locator("tbody tr").filter(has=table.page.get_by_role("rowheader", name=row_label, exact=True))
    return row.locator("th, td").nth(headers.index(column))


#: how many of the tables are painted: displayed, and not clipped away by an ancestor that hides its
#: overflow (a closed KRDS disclosure keeps its table laid out but clips it to a height of 0, which
#: Playwright's visibility check does not see)
PAINTED = """tables => tables.filter(t => {
  if (!t.checkVisibility({contentVisibilityAuto: true, visibilityProperty: true})) return false;
  let {top, bottom, left, right} = t.getBoundingClientRect();
  for (let a = t.parentElement; a; a = a.parentElement) {
    const s = getComputedStyle(a), b = a.getBoundingClientRect();
    if (s.overflowY !== "visible") { top = Math.max(top, b.top); bottom = Math.min(bottom, b.bottom); }
    if (s.overflowX !== "visible") { left = Math.max(left, b.left); right = Math.min(right, b.right); }
  }
  return bottom - top >= 1 && right - left >= 1;
}).length"""


def assert_no_person(page, names: list[str], uids: list[str]) -> None:
    html = page.content()
    leaked = [v for v in names + uids if v in html]
    assert not leaked, f"personal values on {page.url}: {leaked}"


@pytest.mark.browser
def test_district_statistics_filter_table_xlsx_and_printed_report(live_server, browser_page, build, data, district,
                                                                  tmp_path, screenshot):
    # six named students of 다라중학교 in support, requested mid-semester (May), so that the period
    # one month shorter at either end counts them the same and the cell may be published
    staff = build.user("school_staff", organisation=district.B)
    students = [build.student(district.B, actor=staff, grade=2) for _ in range(ADDED)]  # a middle school: 1-3
    for i, student in enumerate(students):
        case = data.add(SupportCase(school_id=district.B.id, student_id=student.id, status="in_support",
                                    risk_level="general", requested_by="staff", requested_on=D(f"2026-05-{10 + i}")))
        data.add(CaseNeed(case_id=case.id, domain="counselling"))
    _db.session.commit()
    names = [s.name for s in students]
    uids = list(_db.session.scalars(select(SupportCase.uid)))
    assert len(uids) == 8 + ADDED and all(names)
    # the figure as the dashboard publishes it, worked out here from the same database
    expected = build_dashboard(district.scope, semester1()).panel("cases_by_status").table
    row = expected.source.rows.index(SCHOOL)
    figure = expected.cells[row][expected.source.columns.index(STATUS)]
    assert figure.shown and figure.value == ADDED, figure  # b1 (selected) and b2 (withdrawn) are not in support
    coordinator = data.user.login
    _db.session.commit()  # end this thread's read transaction: SQLite lets the server write only then
    page = browser_page

    # 1. 통계 from the main menu opens the district's own page (the current school year at first)
    sign_in(page, live_server, coordinator)
    page.get_by_role("navigation", name="주 메뉴").get_by_role("link", name="통계").click()
    expect(page).to_have_url(live_server("/reports/district"))
    expect(page.get_by_role("heading", level=1)).to_have_text("교육지원청 통계")
    scope = page.get_by_test_id("report-scope")
    expect(scope).to_contain_text("서부교육지원청 · ")
    expect(scope).not_to_contain_text(SEMESTER)
    expect(page.get_by_test_id("suppression-note")).to_be_visible()

    # 2. the filter form: 학기 / 2026학년도 / 1학기
    form = page.get_by_test_id("report-filters")
    form.get_by_label("기간", exact=True).select_option(label="학기")
    form.get_by_label("학년도", exact=True).select_option(label="2026학년도")
    form.get_by_label("학기", exact=True).select_option(value="1")
    form.get_by_role("button", name="조회").click()
    expect(page).to_have_url(re.compile(r"/reports/district\?period=semester&year=2026&semester=1(&|$)"))
    expect(scope).to_contain_text(f"서부교육지원청 · {SEMESTER}")
    expect(scope).to_contain_text("(2026. 3. 1.–2026. 8. 31.)")
    expect(form.get_by_label("기간", exact=True)).to_have_value("semester")

    # 3. a chart's numbers, one click away: 상태별 사례 → 표로 보기
    panel = page.get_by_test_id("report-panel-cases_by_status")
    expect(panel.locator(".report-figure svg")).to_be_visible()
    table = panel.locator("details table")
    expect(table).to_be_hidden()
    panel.locator("summary", has_text="표로 보기").click()
    expect(table).to_be_visible()
    expect(cell_of(table, SCHOOL, STATUS)).to_have_text(f"{ADDED:,}")
    expect(table.locator("td[data-hidden=small]").first).to_have_text("5 미만")
    screenshot(page, "reports-journey-1-district")
    assert_no_person(page, names, uids)

    # 4. the page as XLSX: the chosen semester, the same published cell, no small count anywhere
    with page.expect_download() as info:
        page.get_by_role("link", name="엑셀(XLSX) 내려받기").click()
    download = info.value
    assert download.suggested_filename == "ieum-stats-district-202603-202608.xlsx"
    path = tmp_path / download.suggested_filename
    download.save_as(path)
    workbook = openpyxl.load_workbook(path)
    about = {row[0]: row[1] for row in workbook["정보"].iter_rows(values_only=True) if row and row[0]}
    assert about["기간"] == SEMESTER and about["대상"] == "서부교육지원청"
    assert about["기간(일자)"] == "2026-03-01 ~ 2026-08-31"
    rows = list(workbook["상태별 사례"].iter_rows(values_only=True))
    header, school_row = rows[0], next(r for r in rows if r[0] == SCHOOL)
    assert school_row[header.index(STATUS)] == ADDED
    assert hidden_small_counts(workbook) == []
    sheets_text = " ".join(str(c) for sheet in workbook.worksheets for r in sheet.iter_rows(values_only=True)
                           for c in r if c is not None)
    assert not [v for v in names + uids if v in sheets_text]

    # 4b. the dashboard itself printed (Ctrl+P): every table is drawn, no "표로 보기" button left
    page.emulate_media(media="print")
    drawn = page.locator(".report-panel table.report-table").evaluate_all(PAINTED)
    assert drawn == page.locator(".report-panel table.report-table").count() >= 10
    expect(page.locator("details.report-table-toggle > summary:visible")).to_have_count(0)
    page.emulate_media(media="screen")

    # 5. 성과보고서 인쇄: the same semester on paper; printed, every panel's table shows, no
    #    "표로 보기" button nor any disclosure is left on the paper
    page.get_by_role("link", name="성과보고서 인쇄").click()
    expect(page).to_have_url(re.compile(r"/reports/district/report\?period=semester&year=2026&semester=1(&|$)"))
    expect(page.get_by_test_id("report-title")).to_have_text(f"학생맞춤통합지원 성과보고서 — {SEMESTER}")
    expect(page.get_by_test_id("report-summary").locator("li").first).to_be_visible()
    assert_no_person(page, names, uids)
    with_tables = page.locator(".report-panel").filter(has=page.locator("table.report-table"))
    tables = with_tables.count()
    assert tables >= 10, tables  # a panel with no record shows "자료가 없습니다" instead of a table
    page.emulate_media(media="print")
    expect(page.locator(".print-screen-only")).to_be_hidden()  # the print rules apply
    copy = page.get_by_test_id("report-panel-cases_by_status").locator(".report-print-only")
    expect(copy).to_be_visible()
    expect(cell_of(copy.locator("table"), SCHOOL, STATUS)).to_have_text(f"{ADDED:,}")
    expect(page.locator(".report-print-only table.report-table:visible")).to_have_count(tables)
    assert page.locator(".report-panel table.report-table").evaluate_all(PAINTED) == tables
    expect(page.locator("details:visible")).to_have_count(0)
    expect(page.locator("summary:visible")).to_have_count(0)
    screenshot(page, "reports-journey-2-report-print")
    pdf = page.pdf(format="A4", print_background=True)
    assert pdf.startswith(b"%PDF-")
    pages = len(re.findall(rb"/Type\s*/Page(?![s\w])", pdf))
    assert pages >= 1, "the printed report has no page"
