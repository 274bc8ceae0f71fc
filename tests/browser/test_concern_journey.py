"""Journey in real Chromium (issue 10): a guardian raises a concern on an activity log; the school
lead finds it at the top of their home and in their alerts, opens it, reads it in full and
acknowledges it with the response taken (and a new plan action); the district coordinator sees it
acknowledged; the guardian sees that it was acknowledged, never the response."""
import app.guardians.portal_views  # noqa: F401  (routes exist before apps are created)

import re

import pytest
from playwright.sync_api import expect

from app.cases.plan import add_plan_action
from app.db import today_kst
from app.extensions import db
from app.guardians.assignments import accept_assignment, propose_assignment
from app.i18n import korean_date
from tests.factories import DEFAULT_PASSWORD, Builder
from tests.guardians.conftest import make_eligible_guardian

from .test_case_journey import choose
from .test_guardian_journey import sign_in

DESCRIPTION = "학생이 요즘 저녁을 거의 혼자 먹고 보호자가 며칠째 집에 들어오지 않았다고 말했습니다."
RESPONSE = "담임이 보호자와 통화하여 상황을 확인함. 지역아동센터 돌봄 연계를 진행하기로 함"
NEW_GOAL = "방과 후 돌봄 공백 없애기"


def eligible_guardian(build, coordinator, *, name: str, login: str):
    """An active guardian of the coordinator's office with both record checks clear and a login."""
    return make_eligible_guardian(build, coordinator, login=login, password=DEFAULT_PASSWORD, name=name)


def matched_case(build, *, school_name: str, student_name: str, guardian_name: str):
    """A school with its lead, the office's coordinator, a case in support (both parties consented
    to guardian matching) and an eligible guardian who accepted the assignment."""
    school = build.school(name=school_name)
    lead = build.user("school_lead", organisation=school, login="park-lead", display_name="박교감")
    coordinator = build.user("district_coordinator", organisation=build.organisation("district_office"),
                             login="seo-coord", display_name="서담당")
    student = build.student(school, actor=lead, name=student_name, phone="010-5555-6666")
    case = build.case(school=school, status="in_support", student=student, lead=lead)  # consent_both: matching
    add_plan_action(case, lead, goal="두 자리 수 덧셈 익히기", action="주 2회 함께 연습", shared_with_guardian=True)
    guardian, guardian_user = eligible_guardian(build, coordinator, name=guardian_name, login="lee-guardian")
    assignment = propose_assignment(case, guardian, coordinator)
    db.session.commit()
    accept_assignment(assignment, guardian_user)
    db.session.commit()
    return school, lead, coordinator, case, guardian, assignment


@pytest.mark.browser
def test_concern_raised_read_acknowledged_and_seen(live_server, browser_page, screenshot):
    with live_server.app.app_context():
        build = Builder()
        _school, _lead, _coordinator, case, _guardian, assignment = matched_case(
            build, school_name="망원초등학교", student_name="한바다", guardian_name="이후견")
        case_uid, assignment_uid = case.uid, assignment.uid
    page = browser_page
    today = korean_date(today_kst())

    # 1. the guardian logs a meeting with a concern; without a description it is refused
    sign_in(page, live_server, "lee-guardian", "/home/guardian")
    page.get_by_test_id("assignment-card").get_by_role("link", name="바다").click()
    expect(page).to_have_url(live_server(f"/guardians/me/{assignment_uid}"))
    form = page.get_by_test_id("form-activity")
    form.get_by_label("활동 날짜").fill(today_kst().isoformat())
    form.get_by_label("활동 시간(분)").fill("60")
    form.get_by_label("활동 유형").select_option("daily_life")
    form.get_by_label("활동 내용").fill("숙제를 함께 하고 학교 생활 이야기를 나눔")
    choose(form, "concern", "y")
    form.get_by_role("button", name="활동일지 저장").click()
    expect(page.locator("#concern_description-error")).to_have_text("우려 내용을 한 문장 이상 적어 주세요.")
    expect(page.get_by_test_id("activity-log")).to_have_count(0)

    form = page.get_by_test_id("form-activity")
    expect(form.locator("input[name=concern]")).to_be_checked()  # kept, with what was typed
    expect(form.get_by_label("활동 내용")).to_have_value("숙제를 함께 하고 학교 생활 이야기를 나눔")
    form.get_by_label("우려 내용").fill(DESCRIPTION)
    form.get_by_role("button", name="활동일지 저장").click()
    expect(page.get_by_role("status").first).to_contain_text("우려 사항을 학교 지원팀과 교육지원청에 알렸습니다")
    log = page.get_by_test_id("activity-log")
    expect(log).to_have_count(1)
    expect(log.get_by_test_id("concern-state")).to_have_text("확인 대기")
    screenshot(page, "concern-journey-1-guardian-logged")

    # the district coordinator has it at the top of their home too, until someone acknowledges it
    sign_in(page, live_server, "seo-coord", "/home/district")
    expect(page.locator(".ieum-home-grid > section").first).to_have_attribute("data-testid", "home-concerns")
    expect(page.get_by_test_id("home-concern")).to_contain_text("한바다")
    expect(page.get_by_test_id("home-notifications").locator("[data-kind=concern]")).to_have_count(1)

    # 2. the school lead: the concern heads the home page, and an alert points to it
    sign_in(page, live_server, "park-lead", "/home/lead")
    panels = page.locator(".ieum-home-grid > section")
    expect(panels.first).to_have_attribute("data-testid", "home-concerns")
    waiting = page.get_by_test_id("home-concerns").get_by_test_id("home-concern")
    expect(waiting).to_have_count(1)
    expect(waiting).to_contain_text("한바다")
    expect(waiting).to_contain_text("망원초등학교")
    alert = page.get_by_test_id("home-notifications").locator("[data-testid=notification][data-kind=concern]")
    expect(alert).to_have_count(1)
    expect(alert.get_by_test_id("concern-badge")).to_have_text("우려")
    expect(alert).to_contain_text(f"교육후견인 우려 보고: 한바다 (망원초등학교) — {today}")
    assert DESCRIPTION not in page.content()  # the home names it; the text is on the audited page
    screenshot(page, "concern-journey-2-lead-home")

    # 3. the alert opens the concern in full
    alert.get_by_role("link").click()
    expect(page).to_have_url(re.compile(r"/guardians/concerns/[0-9a-f-]{36}$"))
    concern_url = page.url
    expect(page.get_by_test_id("concern-status")).to_have_text("확인 대기")
    description = page.get_by_test_id("concern-description")
    expect(description).to_contain_text(DESCRIPTION)
    expect(description).to_contain_text("이후견")
    expect(description).to_contain_text("숙제를 함께 하고 학교 생활 이야기를 나눔")
    expect(page.locator("main")).to_contain_text("한바다 (망원초등학교)")

    # 4. … and acknowledges it with the response taken and a new plan action
    ack = page.get_by_test_id("form-acknowledge")
    ack.get_by_label("취한 조치").fill(RESPONSE)
    ack.get_by_label("새 지원 계획: 목표").fill(NEW_GOAL)
    ack.get_by_label("새 지원 계획: 실행 내용").fill("지역아동센터 돌봄 연계, 담임이 주 1회 확인")
    ack.get_by_role("button", name="확인 완료").click()
    expect(page.get_by_role("status").first).to_contain_text("우려 보고를 확인하고 조치를 기록했습니다")
    expect(page).to_have_url(concern_url)
    expect(page.get_by_test_id("concern-status")).to_have_text("확인 완료")
    expect(page.get_by_test_id("concern-response")).to_contain_text(RESPONSE)
    expect(page.get_by_test_id("concern-response")).to_contain_text("박교감")
    expect(page.get_by_test_id("form-acknowledge")).to_have_count(0)
    screenshot(page, "concern-journey-3-acknowledged")

    # the case page: the new plan action, the concern acknowledged, both in the chronology
    page.get_by_role("link", name="사례 보기").click()
    expect(page).to_have_url(live_server(f"/cases/{case_uid}"))
    expect(page.get_by_test_id("case-concerns").get_by_test_id("case-concern")).to_have_attribute(
        "data-status", "acknowledged")
    chronology = page.get_by_test_id("case-chronology")
    expect(chronology).to_contain_text("교육후견인 우려 보고")
    expect(chronology).to_contain_text(f"교육후견인 우려 확인 ({today} 보고) — 조치 기록")
    expect(chronology).to_contain_text(f"지원 계획 추가: {NEW_GOAL}")

    # the lead's home: nothing waiting any more, the alert resolved by itself
    page.goto(live_server("/home/lead"))
    expect(page.get_by_test_id("home-concerns")).to_have_count(0)
    expect(page.get_by_test_id("home-notifications").locator("[data-kind=concern]")).to_have_count(0)

    # 5. the district coordinator sees it acknowledged (no longer waiting, alert resolved), with the response
    sign_in(page, live_server, "seo-coord", "/home/district")
    expect(page.get_by_test_id("home-concerns")).to_have_count(0)
    expect(page.get_by_test_id("home-notifications").locator("[data-kind=concern]")).to_have_count(0)
    page.goto(concern_url)
    expect(page.get_by_test_id("concern-status")).to_have_text("확인 완료")
    expect(page.get_by_test_id("concern-description")).to_contain_text(DESCRIPTION)
    expect(page.get_by_test_id("concern-response")).to_contain_text(RESPONSE)
    expect(page.get_by_test_id("form-acknowledge")).to_have_count(0)
    screenshot(page, "concern-journey-4-coordinator")

    # 6. the guardian: told it was acknowledged, never what was done; the concern page stays closed
    sign_in(page, live_server, "lee-guardian", "/home/guardian")
    news = page.get_by_test_id("home-notifications").locator("[data-kind=concern_acknowledged]")
    expect(news).to_have_count(1)
    expect(news).to_contain_text(f"{today}에 보고하신 바다 학생에 대한 우려를 학교·교육지원청에서 확인했습니다.")
    news.get_by_role("link").click()
    expect(page).to_have_url(live_server(f"/guardians/me/{assignment_uid}"))
    expect(page.get_by_test_id("activity-log").get_by_test_id("concern-state")).to_have_text("확인 완료")
    body = page.content()
    assert RESPONSE not in body and NEW_GOAL not in body and "박교감" not in body and "한바다" not in body
    screenshot(page, "concern-journey-5-guardian")
    response = page.goto(concern_url)
    assert response.status == 404
    assert RESPONSE not in page.content() and DESCRIPTION not in page.content()
