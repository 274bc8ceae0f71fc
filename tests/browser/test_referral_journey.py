"""Journey in real Chromium: a school lead refers a consented case to an agency sharing two items;
the agency coordinator sees exactly those, accepts, records a service and completes; the school
reads the outcome in the case chronology."""
import re

import pytest
from playwright.sync_api import expect

from app.db import today_kst
from app.extensions import db
from tests.factories import Builder, consent_both

from .conftest import BROWSER_TIMEOUT_MS, sign_in

ADDRESS = "서울 마포구 비밀길 12"
OUTCOME = "8회기 개별 상담 후 또래 관계 개선"


def choose(scope, name: str, value: str) -> None:
    """Tick a checkbox the way a user does: KRDS draws it on the label."""
    control = scope.locator(f"input[name='{name}'][value='{value}']")
    scope.locator(f"label[for='{control.get_attribute('id')}']").click()
    expect(control).to_be_checked()


@pytest.mark.browser
def test_referral_closed_loop(live_server, browser_page, chromium, screenshot):
    with live_server.app.app_context():
        build = Builder()
        school = build.school(name="이음초등학교")
        lead = build.user("school_lead", organisation=school, login="kim-lead", display_name="김교감")
        student = build.student(school, actor=lead, name="한바다", address=ADDRESS)
        case = build.case(school, status="in_support", lead=lead, student=student)
        consent_both(case, lead, purposes=("agency_referral",), agency_kinds=["청소년상담복지센터"])
        agency = build.agency(name="마포구청소년상담복지센터")
        build.user("agency_coordinator", organisation=agency, login="han-agency", display_name="한서연")
        db.session.commit()
        case_uid = case.uid
        case_url = live_server(f"/cases/{case_uid}")

    # 1. the school refers the case, sharing two items only
    page = browser_page
    sign_in(page, live_server, "kim-lead", "/home/lead")
    page.goto(case_url)
    page.get_by_test_id("new-referral").click()
    form = page.get_by_test_id("referral-form")
    form.get_by_label("의뢰할 기관").select_option(label="마포구청소년상담복지센터")
    form.get_by_label("의뢰 사유").fill("또래 관계 어려움으로 개별 상담 연계 요청")
    choose(form, "shared_items", "student_name")
    choose(form, "shared_items", "needs")
    form.get_by_test_id("send").click()
    expect(page).to_have_url(re.compile(r"/agencies/referrals/[0-9a-f-]{36}$"))

    # 2. the agency coordinator, in their own browser session
    context = chromium.new_context(locale="ko-KR", timezone_id="Asia/Seoul", viewport={"width": 1280, "height": 900})
    context.set_default_timeout(BROWSER_TIMEOUT_MS)
    agency_page = context.new_page()
    try:
        sign_in(agency_page, live_server, "han-agency", "/home/agency")
        expect(agency_page.get_by_test_id("home-waiting")).to_contain_text("한바다")
        agency_page.get_by_role("navigation", name="주 메뉴").get_by_role("link", name="받은 의뢰").click()
        agency_page.get_by_test_id("inbox").get_by_role("link", name="한바다").click()
        shared = agency_page.get_by_test_id("shared-item")
        expect(shared).to_have_count(2)
        assert [shared.nth(i).get_attribute("data-item") for i in range(2)] == ["student_name", "needs"]
        body = agency_page.locator("main").inner_text()
        assert ADDRESS not in body and "주소" not in body and "생년월일" not in body
        agency_page.get_by_role("button", name="의뢰 접수").click()
        expect(agency_page.get_by_role("status").first).to_contain_text("의뢰를 접수했습니다")

        record = agency_page.get_by_test_id("form-record")
        record.get_by_label("제공 날짜").fill(today_kst().isoformat())
        record.get_by_label("서비스 유형").select_option(label="상담")
        record.get_by_label("내용", exact=True).fill("첫 개별 상담: 관계 형성")
        record.get_by_role("button", name="서비스 기록 저장").click()
        expect(agency_page.get_by_test_id("service-record")).to_have_count(1)

        outcome = agency_page.get_by_test_id("form-outcome")
        outcome.get_by_label("최종 결과").fill(OUTCOME)
        outcome.get_by_role("button", name="서비스 완료").click()
        expect(agency_page.get_by_test_id("outcome-note")).to_have_text(OUTCOME)
        expect(agency_page.get_by_test_id("referral-status")).to_have_text("완료")
        screenshot(agency_page, "referral-agency")
    finally:
        context.close()

    # 3. the school sees every status change and the outcome on the case page
    page.goto(case_url)
    chronology = page.get_by_test_id("case-chronology")
    for line in ("의뢰됨 → 접수", "접수 → 서비스 중", "서비스 중 → 완료"):
        expect(chronology).to_contain_text(line)
    expect(page.get_by_test_id("case-referrals")).to_contain_text(OUTCOME)
    screenshot(page, "referral-school")
