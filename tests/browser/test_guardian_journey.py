"""Journey in real Chromium (issue 5): a coordinator clears both record checks for a guardian and
activates them; the guardian is matched to a case; the guardian logs in, accepts, and logs a meeting
with a concern; the school's teacher sees the concern on their home page."""
import app.guardians.portal_views  # noqa: F401  (routes exist before apps are created)

import re

import pytest
from playwright.sync_api import expect

from app.cases.plan import add_plan_action
from app.db import today_kst
from app.extensions import db
from app.guardians import services as gs
from tests.factories import Builder, DEFAULT_PASSWORD
from tests.guardians.conftest import guardian_fields

from .conftest import sign_in as browser_sign_in
from .test_case_journey import choose


def sign_in(page, live_server, login: str, home: str) -> None:
    """The next person at the same browser: sign the previous one out first."""
    if page.get_by_test_id("logout").count():
        page.get_by_test_id("logout").click()
    browser_sign_in(page, live_server, login, home)


def clear_check(page, kind: str, reference: str) -> None:
    """Record a request for one kind of check, then its clear result."""
    today = today_kst().isoformat()
    request = page.get_by_test_id("request-form")
    choose(request, "kind", kind)
    request.get_by_label("본인 동의일").fill(today)
    request.get_by_label("조회 요청일").fill(today)
    request.get_by_role("button", name="요청 기록").click()
    result = page.get_by_test_id("result-form")
    choose(result, "result", "clear")
    result.get_by_label("조회일").fill(today)
    result.get_by_label("회보서 번호").fill(reference)
    result.get_by_role("button", name="결과 기록").click()
    expect(page.get_by_test_id("result-form")).to_have_count(0)


@pytest.mark.browser
def test_vetting_matching_accept_log_concern(live_server, browser_page, screenshot):
    with live_server.app.app_context():
        build = Builder()
        school = build.school(name="망원초등학교")
        teacher = build.user("school_lead", organisation=school, login="park-lead", display_name="박교감")
        coordinator = build.user("district_coordinator", organisation=build.organisation("district_office"),
                                 login="seo-coord", display_name="서담당")
        student = build.student(school, actor=teacher, name="한바다", phone="010-5555-6666")
        case = build.case(school=school, status="in_support", student=student, lead=teacher)
        add_plan_action(case, teacher, goal="두 자리 수 덧셈 익히기", action="주 2회 연습", shared_with_guardian=True)
        guardian = gs.register_guardian(coordinator, guardian_fields(build, name="이후견"))
        for step in ("screening", "trained"):
            gs.change_guardian_status(coordinator, guardian, step)
        gs.create_guardian_login(coordinator, guardian, "lee-guardian", DEFAULT_PASSWORD).password_temporary = False
        db.session.commit()
        guardian_uid, case_uid = guardian.uid, case.uid
    page = browser_page

    # 1. the coordinator clears both checks and activates the guardian
    sign_in(page, live_server, "seo-coord", "/home/district")
    page.goto(live_server(f"/guardians/{guardian_uid}"))
    clear_check(page, "sex_offence", "REF-0001")
    clear_check(page, "child_abuse", "REF-0002")
    status = page.get_by_test_id("status-form")
    status.get_by_label("변경할 상태").select_option("active")
    status.get_by_role("button", name="변경").click()
    expect(page.get_by_test_id("guardian-status")).to_have_text("활동")
    # the login the coordinator made sees nothing until approved for handling, with its training recorded
    approve = page.get_by_test_id("form-handling-approve")
    approve.get_by_label("메모").fill("보안 서약서 확인")
    approve.get_by_role("button", name="취급승인").click()
    expect(page.get_by_test_id("handling-approved")).to_contain_text("승인")
    page.get_by_test_id("form-handling-training").get_by_role("button", name="이수일 기록").click()
    expect(page.get_by_test_id("handling-clearance")).to_have_text("가능")

    # 2. matching: the case's ranked suggestions, and a proposal to this guardian
    page.goto(live_server(f"/guardians/match/{case_uid}"))
    row = page.get_by_test_id("suggestions").locator("tr", has_text="이후견")
    row.get_by_role("button", name="연계 제안").click()
    expect(page.get_by_role("status").first).to_contain_text("연계를 제안했습니다")

    # 3. the guardian logs in, sees the proposal with minimal fields, accepts
    sign_in(page, live_server, "lee-guardian", "/home/guardian")
    card = page.get_by_test_id("assignment-card")
    expect(card).to_contain_text("바다")
    expect(card).to_contain_text("망원초등학교")
    expect(card).to_contain_text("두 자리 수 덧셈 익히기")
    assert "한바다" not in page.content() and "010-5555-6666" not in page.content()
    card.get_by_role("button", name="수락").click()
    expect(page.get_by_role("status").first).to_contain_text("배정을 수락했습니다")

    # 4. a meeting with a concern
    page.get_by_test_id("assignment-card").get_by_role("link", name="바다").click()
    expect(page).to_have_url(re.compile(r"/guardians/me/[0-9a-f-]{36}$"))
    form = page.get_by_test_id("form-activity")
    form.get_by_label("활동 날짜").fill(today_kst().isoformat())
    form.get_by_label("활동 시간(분)").fill("60")
    form.get_by_label("활동 유형").select_option("emotional")
    form.get_by_label("활동 내용").fill("학교 이야기를 나눔. 집에 가기 싫다고 함")
    choose(form, "concern", "y")
    form.get_by_label("우려 내용").fill("집에 가기 싫다고 하며 보호자가 밤늦게 온다고 말함")
    form.get_by_role("button", name="활동일지 저장").click()
    expect(page.get_by_role("status").first).to_contain_text("우려 사항을 학교 지원팀과 교육지원청에 알렸습니다")
    expect(page.get_by_test_id("activity-log")).to_have_count(1)
    expect(page.get_by_test_id("activity-log")).to_contain_text("우려")
    screenshot(page, "guardian-journey-log")

    # 5. the guardian cannot open the case page
    response = page.goto(live_server(f"/cases/{case_uid}"))
    assert response.status in (403, 404)

    # 6. the teacher sees the concern at once; it opens the concern, which leads to the case
    sign_in(page, live_server, "park-lead", "/home/lead")
    alert = page.get_by_test_id("home-notifications").get_by_test_id("notification")
    expect(alert).to_have_count(1)
    expect(alert.get_by_test_id("concern-badge")).to_have_text("우려")
    screenshot(page, "guardian-journey-teacher")
    alert.get_by_role("link").click()
    expect(page).to_have_url(re.compile(r"/guardians/concerns/[0-9a-f-]{36}$"))
    expect(page.locator("main")).to_contain_text("보호자가 밤늦게 온다고 말함")
    page.goto(live_server(f"/cases/{case_uid}"))
    expect(page.get_by_test_id("case-chronology")).to_contain_text("교육후견인 우려 보고")
    page.goto(live_server("/home/lead"))
    page.get_by_test_id("home-notifications").get_by_role("button", name="확인").click()
    expect(page.get_by_test_id("home-notifications")).to_contain_text("새 알림이 없습니다")
