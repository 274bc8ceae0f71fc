"""Journey in real Chromium (issue 10): a school lead closes a case that has an active guardian
assignment, a referral in service at an agency and an overdue plan action.  The close form asks
how each ends; without the referral's cancel reason it is refused and nothing changes; with it the
case closes.  Afterwards the guardian's portal and the agency's inbox no longer show the student,
and no home (lead, school staff, district coordinator) lists the case as overdue."""
import app.guardians.portal_views  # noqa: F401  (routes exist before apps are created)

import datetime as dt

import pytest
from playwright.sync_api import expect

from app.agencies import referrals as r
from app.cases.plan import add_plan_action
from app.db import today_kst
from app.extensions import db
from tests.factories import Builder, consent_both

from .test_concern_journey import matched_case
from .test_guardian_journey import sign_in

AGENCY = "마포구청소년상담복지센터"
OVERDUE_GOAL = "주간 학습 점검표 확인"
CANCEL_REASON = "학교 지원 종결로 상담 의뢰를 마칩니다. 필요하면 보호자가 직접 이어서 신청하기로 함"


def overdue_panel(page):
    """The home's "기한이 지난 지원 계획" panel (lead, school staff and coordinator homes)."""
    return page.locator("section[aria-labelledby=p-overdue_actions]")


def assert_home_lists_overdue(page, live_server, login: str, home: str) -> None:
    sign_in(page, live_server, login, home)
    expect(page.get_by_test_id("home-overdue")).to_contain_text(f"한바다 — {OVERDUE_GOAL}")


def assert_home_lists_no_overdue(page, live_server, login: str, home: str) -> None:
    sign_in(page, live_server, login, home)
    expect(page.get_by_test_id("home-overdue")).to_have_count(0)
    expect(overdue_panel(page)).not_to_contain_text("한바다")
    expect(overdue_panel(page)).not_to_contain_text(OVERDUE_GOAL)


@pytest.mark.browser
def test_close_with_guardian_and_referral_in_service(live_server, browser_page, screenshot):
    with live_server.app.app_context():
        build = Builder()
        school, lead, _coordinator, case, _guardian, assignment = matched_case(
            build, school_name="망원초등학교", student_name="한바다", guardian_name="이후견")
        staff = build.user("school_staff", organisation=school, login="choi-staff", display_name="최담임")
        consent_both(case, lead, purposes=("agency_referral",), agency_kinds=["청소년상담복지센터"])
        agency = build.agency(name=AGENCY)
        agent = build.user("agency_coordinator", organisation=agency, login="han-agency", display_name="한서연")
        referral = r.create_referral(case, lead, agency=agency, reason="또래 관계 어려움으로 개별 상담 연계 요청",
                                     shared_items=["student_name", "needs"])
        r.send_referral(referral, lead)
        r.accept_referral(referral, agent)
        r.add_service_record(referral, agent, today_kst(), "counselling", "첫 개별 상담")
        add_plan_action(case, lead, goal=OVERDUE_GOAL, action="담임이 매주 금요일 점검", owner_id=staff.id,
                        due_on=today_kst() - dt.timedelta(days=5))
        db.session.commit()
        assert referral.status == "in_service" and assignment.status == "active"
        case_uid, assignment_uid, referral_uid = case.uid, assignment.uid, referral.uid
        need_label = f"{case.needs[0].domain_label} 결과"
        assignment_field, referral_field = f"close-assignment_{assignment.id}", f"close-referral_{referral.id}"
    page = browser_page
    case_url = live_server(f"/cases/{case_uid}")

    # 0. before: the guardian and the agency see the student; three homes list the overdue action
    sign_in(page, live_server, "lee-guardian", "/home/guardian")
    expect(page.get_by_test_id("assignment-card")).to_contain_text("바다")
    sign_in(page, live_server, "han-agency", "/home/agency")
    expect(page.get_by_test_id("home-in-service")).to_contain_text("한바다")
    assert_home_lists_overdue(page, live_server, "choi-staff", "/home/school")
    assert_home_lists_overdue(page, live_server, "seo-coord", "/home/district")
    assert_home_lists_overdue(page, live_server, "park-lead", "/home/lead")

    # 1. the lead opens 종결: reason, per-need outcome, the assignment's closure code; no referral reason
    page.goto(case_url)
    expect(page.get_by_test_id("case-status")).to_have_text("지원 중")
    page.locator("#d-close summary").click()
    form = page.get_by_test_id("form-close")
    form.get_by_label("종결 사유").select_option(label="목표 달성")
    form.get_by_label(need_label, exact=True).select_option(label="호전")
    items = form.get_by_test_id("close-items")
    closure = items.get_by_label("교육후견인 이후견 배정 종료 사유")
    expect(closure).to_have_attribute("name", assignment_field)
    closure.select_option(label="목표 달성")
    cancel = items.get_by_label(f"{AGENCY} 의뢰 (서비스 중) 취소 사유")
    expect(cancel).to_have_attribute("name", referral_field)
    screenshot(page, "close-journey-1-form")
    form.get_by_role("button", name="종결").click()

    # refused: the message next to the referral's field, the case still open, the answers kept
    error = page.locator(f"#{referral_field}-error")
    expect(error).to_have_text(f"{AGENCY} 의뢰(서비스 중)가 진행 중입니다. "
                               "의뢰를 먼저 마무리하거나 취소 사유를 입력해 주세요.")
    expect(page.locator(f"#{referral_field}")).to_have_attribute("aria-invalid", "true")
    expect(page.get_by_test_id("case-status")).to_have_text("지원 중")
    expect(page.locator("#d-close")).to_have_attribute("open", "")
    form = page.get_by_test_id("form-close")
    expect(form.get_by_label("종결 사유")).to_have_value("goals_met")
    expect(form.locator(f"[name={assignment_field}]")).to_have_value("goals_met")
    screenshot(page, "close-journey-2-refused")
    page.goto(case_url)  # nothing was half-done
    expect(page.get_by_test_id("case-status")).to_have_text("지원 중")
    assignment_row = page.get_by_test_id("case-guardians").get_by_test_id("assignment")
    referral_row = page.get_by_test_id("case-referrals").get_by_test_id("referral")
    expect(assignment_row).to_have_attribute("data-status", "active")
    expect(referral_row).to_have_attribute("data-status", "in_service")
    expect(page.get_by_test_id("case-plan").get_by_test_id("overdue")).to_have_count(1)

    # 2. again, with the cancel reason: the case is closed, and everything tied to it with it
    page.locator("#d-close summary").click()
    form = page.get_by_test_id("form-close")
    form.get_by_label("종결 사유").select_option(label="목표 달성")
    form.get_by_label(need_label, exact=True).select_option(label="호전")
    form.locator(f"[name={assignment_field}]").select_option(label="목표 달성")
    form.locator(f"[name={referral_field}]").fill(CANCEL_REASON)
    form.get_by_role("button", name="종결").click()
    expect(page.get_by_role("status").first).to_contain_text("사례를 종결했습니다")
    expect(page).to_have_url(case_url)
    expect(page.get_by_test_id("case-status")).to_have_text("종결")
    expect(page.get_by_test_id("case-header")).to_contain_text("목표 달성")
    expect(assignment_row).to_have_attribute("data-status", "closed")
    expect(assignment_row).to_contain_text("목표 달성")
    expect(referral_row).to_have_attribute("data-status", "cancelled")
    expect(page.get_by_test_id("case-plan").get_by_test_id("overdue")).to_have_count(0)
    overdue_row = page.get_by_test_id("case-plan").get_by_test_id("plan-item").filter(has_text=OVERDUE_GOAL)
    expect(overdue_row).to_contain_text("사례 종결로 종료")
    expect(page.get_by_test_id("case-next-due")).not_to_contain_text("기한 지남")
    chronology = page.get_by_test_id("case-chronology")
    for line in ("지원 중 → 종결: 목표 달성", "교육후견인 연계 종료: 목표 달성", f"{AGENCY}: 서비스 중 → 취소 (사례 종결)",
                 "사례 종결로 진행 중인 지원 계획 2건 종료"):
        expect(chronology).to_contain_text(line)
    screenshot(page, "close-journey-3-closed")

    # 3. no home lists the case as overdue any more
    assert_home_lists_no_overdue(page, live_server, "park-lead", "/home/lead")
    assert_home_lists_no_overdue(page, live_server, "choi-staff", "/home/school")
    assert_home_lists_no_overdue(page, live_server, "seo-coord", "/home/district")
    screenshot(page, "close-journey-4-coordinator-home")

    # 4. the guardian: told it ended; the student is gone from the portal and the assignment page
    sign_in(page, live_server, "lee-guardian", "/home/guardian")
    ended = page.get_by_test_id("home-notifications").locator("[data-kind=assignment_ended]")
    expect(ended).to_contain_text("바다 학생과의 교육후견인 활동이 종료되었습니다 (목표 달성).")
    assignments = page.locator("section[aria-labelledby=p-assignments]")
    expect(assignments.get_by_test_id("assignment-card")).to_have_count(0)
    expect(assignments).to_contain_text("현재 배정된 학생이 없습니다.")
    expect(assignments).not_to_contain_text("바다")
    expect(page.locator("section[aria-labelledby=p-meetings]")).not_to_contain_text("바다")
    screenshot(page, "close-journey-5-guardian")
    page.goto(live_server("/guardians/me"))
    expect(page.get_by_test_id("assignment-card")).to_have_count(0)
    assert "바다" not in page.locator("main").inner_text()
    response = page.goto(live_server(f"/guardians/me/{assignment_uid}"))
    assert response.status == 404
    assert "바다" not in page.content() and "두 자리 수 덧셈 익히기" not in page.content()

    # 5. the agency: told it was cancelled; neither home, inbox nor referral page shows the student
    sign_in(page, live_server, "han-agency", "/home/agency")
    expect(page.get_by_test_id("home-in-service")).to_have_count(0)
    expect(page.get_by_test_id("home-notifications")).to_contain_text("의뢰를 취소했습니다 (학교의 지원 종결)")
    assert "한바다" not in page.locator("main").inner_text()
    page.get_by_role("navigation", name="주 메뉴").get_by_role("link", name="받은 의뢰").click()
    row = page.get_by_test_id("inbox-row")
    expect(row).to_have_count(1)
    expect(row).to_have_attribute("data-status", "cancelled")
    expect(row).to_contain_text("이름 비공개 학생")
    assert "한바다" not in page.locator("main").inner_text()
    row.get_by_role("link", name="이름 비공개 학생").click()
    expect(page).to_have_url(live_server(f"/agencies/inbox/{referral_uid}"))
    expect(page.get_by_test_id("items-hidden")).to_contain_text("공유된 정보를 더 이상 볼 수 없습니다")
    expect(page.get_by_test_id("shared-item")).to_have_count(0)
    expect(page.get_by_test_id("referral-reason")).to_have_count(0)
    body = page.locator("main").inner_text()
    assert "한바다" not in body and "또래 관계 어려움" not in body and "기초학력 지원 필요" not in body
    screenshot(page, "close-journey-6-agency")
