"""Journey in real Chromium (issue 18): an auditor signs in with their second factor, opens
접속기록 조회 from the menu, finds a student by name and birth date (정보주체 찾기), narrows the
trail to one action chosen in the grouped select and reads rows in words (labels, school and
grade, never the name or a raw code as the reading); then marks last month reviewed with a
comment on 접속기록 점검 and exports last month as CSV with a reason.  The file is the one the app
writes (BOM, headings, the events, the "#정보" trailer), and the review and the export are in the
audit trail."""
import csv
import datetime as dt
import io
import json
import re

import pytest
from freezegun import freeze_time
from playwright.sync_api import expect
from sqlalchemy import select

from app.audit.chain import verify_chain
from app.audit.export import SHEET_HEADINGS
from app.audit.models import AuditEvent, AuditReview
from app.audit.review import current_month, month_label, previous_month
from app.audit.services import record
from app.config import Config
from app.extensions import db
from tests.auth.test_totp import enrolled
from tests.factories import Builder

from .conftest import sign_in_with_code

NAME, BIRTH = "한바다", dt.date(2014, 5, 17)
SCHOOL = "이음초등학교"
WHERE = f"학생 · {SCHOOL} · 5학년 3반"  # how the trail names the student: school, grade and class
COMMENT = "야간 접속 없음, 열람 건수 평소 수준 확인"
REASON = "개인정보 접속기록 월간 정기 점검 보관용"


@pytest.fixture
def live_app(make_app):
    """Production's 2FA rule (an auditor must sign in with a code), with CSRF on."""
    return make_app(WTF_CSRF_ENABLED=True, TOTP_REQUIRED_ROLES=Config.TOTP_REQUIRED_ROLES)


@pytest.fixture
def problems(browser_page):
    """Console errors (CSP violations land there), page errors and failed responses."""
    seen = []
    browser_page.on("console", lambda m: seen.append(f"console: {m.text}") if m.type == "error" else None)
    browser_page.on("pageerror", lambda e: seen.append(f"page error: {e}"))
    browser_page.on("response", lambda r: seen.append(f"{r.status} {r.url}") if r.status >= 400 else None)
    return seen


def events(action: str) -> list[AuditEvent]:
    return list(db.session.scalars(select(AuditEvent).filter_by(action=action).order_by(AuditEvent.id)))


@pytest.mark.browser
def test_auditor_searches_by_subject_and_action_marks_the_month_and_exports_with_a_reason(
        live_server, browser_page, problems, tmp_path, screenshot):
    last = previous_month(current_month())  # the review and the export default to last month
    last_end = current_month() - dt.timedelta(days=1)
    with live_server.app.app_context():
        build = Builder()
        school = build.school(name=SCHOOL)
        teacher = build.user("school_staff", organisation=school, login="lee-teacher", display_name="이담임")
        student = build.student(school, actor=teacher, name=NAME, birth_date=BIRTH, grade=5, class_no=3)
        other = build.student(school, actor=teacher, name="서다른", birth_date=dt.date(2014, 8, 2), grade=5, class_no=1)
        auditor = build.user("auditor", login="choi-auditor", display_name="최감사")
        secret = enrolled(db, auditor)
        # last month's trail (10:00 KST on the 10th): the teacher read the student twice, changed
        # them once and read another student; recorded before the browser starts, never while it runs
        with freeze_time(dt.datetime.combine(last.replace(day=10), dt.time(1, 0))):
            record("student_viewed", obj=student, subject=student, actor=teacher)
            record("student_viewed", obj=student, subject=student, actor=teacher)
            record("student_updated", obj=student, subject=student, actor=teacher)
            record("student_viewed", obj=other, subject=other, actor=teacher)
        db.session.commit()
        uid, other_uid, auditor_id = student.uid, other.uid, auditor.id
    page = browser_page

    # 1. the auditor signs in with a code and opens 접속기록 조회 from the menu
    sign_in_with_code(page, live_server, "choi-auditor", secret)
    expect(page).to_have_url(live_server("/home/auditor"))
    expect(page.get_by_test_id("home-review-status")).to_contain_text("점검 전")
    menu = page.get_by_role("navigation", name="주 메뉴")
    menu.get_by_role("link", name="접속기록 조회").click()
    expect(page).to_have_url(live_server("/audit/"))
    expect(page.get_by_role("heading", level=1)).to_have_text("접속기록 조회")

    # 2. 정보주체 찾기: the name and birth date a parent gave; one student, shown by school and class
    page.get_by_text("정보주체 찾기 (학생 이름과 생년월일)").click()
    lookup = page.get_by_test_id("subject-lookup")
    lookup.get_by_label("학생 이름").fill(NAME)
    lookup.get_by_label("생년월일").fill(BIRTH.isoformat())
    lookup.get_by_role("button", name="학생 찾기").click()
    expect(page).to_have_url(live_server("/audit/subject"))  # posted: no name in any URL
    candidates = page.get_by_test_id("subject-candidates").locator("li")
    expect(candidates).to_have_count(1)
    expect(candidates).to_contain_text(WHERE)
    filters = page.get_by_role("search", name="접속기록 검색 조건")
    expect(filters.get_by_label("정보주체 참조번호")).to_have_value(uid)
    expect(page.get_by_test_id("audit-results")).to_contain_text("학생 등록")  # every action about them, at first

    # 3. one action, chosen by its label in its feature's group; the subject stays
    action = filters.get_by_label("행위", exact=True)
    expect(action.locator("optgroup[label='학생'] option", has_text="학생 정보 열람")).to_have_count(1)
    action.select_option(label="학생 정보 열람")
    filters.get_by_role("button", name="조회").click()
    expect(page).to_have_url(re.compile(r"/audit/\?.*action=student_viewed"))
    assert f"subject={uid}" in page.url
    rows = page.get_by_test_id("audit-results").locator("tbody > tr")
    expect(rows).to_have_count(2)  # the other student's reading and the change are filtered out
    for i in range(2):
        row = rows.nth(i)
        expect(row.get_by_test_id("action-cell")).to_contain_text("학생 정보 열람")
        expect(row.get_by_test_id("object-cell")).to_have_text(WHERE)
        expect(row.locator("td").nth(1)).to_contain_text("lee-teacher")
        expect(row.locator("td").nth(1)).to_contain_text("학교 지원팀")  # the role's name, not school_staff
        expect(row.locator("td").nth(3)).to_have_text("허용")  # not "allowed"
    expect(rows.first.locator("td").nth(0)).to_contain_text(f"{last.year}. {last.month}. 10. 10:00")
    body = page.locator("main").inner_text()
    assert NAME not in body and other_uid not in page.content()
    assert "school_staff" not in body and "allowed" not in body
    screenshot(page, "auditor-search")

    # 4. 접속기록 점검: last month per user; mark it reviewed with a comment
    menu.get_by_role("link", name="접속기록 점검").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(f"접속기록 점검 · {last.year}년 {last.month}월")
    expect(page.get_by_test_id("review-status")).to_contain_text("점검 전")
    teacher_row = page.get_by_test_id("review-rows").locator("tr[data-actor='lee-teacher']")
    expect(teacher_row.locator("td")).to_have_text(["학교 지원팀", "4", "2", "0", "0", "0", "-"])
    expect(page.get_by_label("점검 대상 달")).to_have_value(f"{last:%Y-%m}")
    page.get_by_label("점검 의견").fill(COMMENT)
    page.get_by_role("button", name="점검 완료로 표시").click()
    expect(page).to_have_url(re.compile(rf"/audit/review\?month={last:%Y-%m}$"))
    expect(page.get_by_role("status").first).to_contain_text(f"{last.year}년 {last.month}월 접속기록을 점검 완료로 표시했습니다.")
    status = page.get_by_test_id("review-status")
    expect(status).to_contain_text("점검 완료")
    expect(status).to_contain_text("choi-auditor")
    expect(page.get_by_text(COMMENT, exact=True)).to_be_visible()
    expect(page.get_by_role("button", name="점검 완료로 표시")).to_have_count(0)  # marked once only
    screenshot(page, "auditor-review-marked")

    # 5. 접속기록 내보내기: last month as CSV, with a reason; a download, not a page
    menu.get_by_role("link", name="접속기록 내보내기").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("접속기록 내보내기")
    expect(page.get_by_label("시작일")).to_have_value(last.isoformat())
    expect(page.get_by_label("종료일")).to_have_value(last_end.isoformat())
    page.get_by_label("파일 형식").select_option(label="CSV")
    page.get_by_label("내보내는 사유").fill(REASON)
    with page.expect_download() as info:
        page.get_by_role("button", name="내려받기").click()
    download = info.value
    filename = f"ieum-audit-{last.isoformat()}_{last_end.isoformat()}.csv"
    assert download.suggested_filename == filename
    path = tmp_path / filename
    download.save_as(path)
    raw = path.read_bytes()
    assert raw.startswith("\ufeff일시(KST),번호,일시(UTC),".encode("utf-8"))  # UTF-8 with a BOM, for Excel
    records = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"), newline="")))
    assert records[0] == list(SHEET_HEADINGS)
    blank = records.index([])
    exported, info_rows = records[1:blank], records[blank + 1:]
    column = {name: i for i, name in enumerate(records[0])}
    assert [r[column["행위 설명"]] for r in exported] == ["학생 정보 열람", "학생 정보 열람", "학생 정보 수정",
                                                          "학생 정보 열람"]
    assert [r[column["정보주체 참조"]] for r in exported] == [uid, uid, uid, other_uid]
    assert {r[column["로그인"]] for r in exported} == {"lee-teacher"}
    assert {r[column["일시(KST)"]] for r in exported} == {f"{last.replace(day=10).isoformat()} 10:00:00"}
    assert all(r[0] == "#정보" for r in info_rows)
    about = {r[1]: r[2] for r in info_rows}
    assert about["rows"] == "4" and about["verified"] == "1"
    assert about["reason"] == REASON and about["exported_by"] == "choi-auditor"
    assert NAME not in raw.decode("utf-8-sig")
    # the page stays where it was: a download does not navigate
    expect(page.get_by_role("heading", level=1)).to_have_text("접속기록 내보내기")

    # 6. the home page shows the month reviewed
    page.goto(live_server("/home/auditor"))
    expect(page.get_by_test_id("home-review-status")).to_contain_text("점검 완료")
    expect(page.get_by_test_id("home-review-status")).to_contain_text("choi-auditor")
    assert problems == []

    # 7. the trail has what the auditor did: the lookup (no name), the search, the mark, the export
    with live_server.app.app_context():
        (looked_up,) = events("audit_subject_looked_up")
        details = json.loads(looked_up.details)
        assert details["found"] == 1 and details["subjects"] == [uid] and looked_up.actor_id == auditor_id
        assert NAME not in looked_up.details and BIRTH.isoformat() not in looked_up.details
        searched = [json.loads(e.details) for e in events("audit_searched")]
        assert any(d.get("action") == "student_viewed" and d.get("subject") == uid and d.get("rows") == 2
                   for d in searched), searched
        (review,) = db.session.scalars(select(AuditReview)).all()
        assert (review.month, review.reviewer_id, review.comment) == (f"{last:%Y-%m}", auditor_id, COMMENT)
        (marked,) = events("access_review_marked")
        assert marked.actor_id == auditor_id and marked.reason == COMMENT
        assert json.loads(marked.details) == {"month": f"{last:%Y-%m}"}
        (export,) = events("audit_exported")
        assert export.actor_id == auditor_id and export.reason == REASON and export.object_id == filename
        details = json.loads(export.details)
        assert details["format"] == "csv" and details["rows"] == 4
        assert (details["from"], details["to"]) == (last.isoformat(), last_end.isoformat())
        assert export.id > marked.id > looked_up.id  # in the order the auditor worked
        assert verify_chain().ok
