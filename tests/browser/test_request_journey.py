"""Journey in real Chromium (issue 16, part 2): a school lead records a parent's 열람 request from the
student's page, sees its 10-day deadline on the home, opens the printable copy (which holds the
case summary and lists what was withheld), answers it; then records a 정정 request, corrects the
address and finds the before and after in the case's chronology."""
from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.factories import Builder

from .conftest import sign_in
from .test_case_journey import choose


@pytest.mark.browser
def test_access_and_correction_requests(live_server, browser_page, screenshot):
    with live_server.app.app_context():
        build = Builder()
        school = build.school(name="망원초등학교")
        lead = build.user("school_lead", organisation=school, login="park-lead", display_name="박교감")
        student = build.student(school, actor=lead, name="한바다", address="서울 마포구 옛길 1")
        case = build.case(school=school, status="planning", student=student, lead=lead)
        student_uid, case_uid = student.uid, case.uid
    page = browser_page
    sign_in(page, live_server, "park-lead", "/home/lead")
    page.goto(live_server(f"/students/{student_uid}"))
    page.get_by_test_id("subject-request-link").get_by_role("link", name="열람·정정 요청 기록").click()
    form = page.get_by_test_id("subject-request-form")
    # the identity check is required: the form says so beside the field
    choose(form, "kind", "access")
    choose(form, "requested_by", "parent")
    form.get_by_role("button", name="요청 기록").click()
    expect(page.get_by_test_id("error-summary")).to_contain_text("본인 확인 방법을 선택해 주세요")
    form = page.get_by_test_id("subject-request-form")
    form.get_by_label("본인 확인 방법").select_option("parent_record")
    form.get_by_role("button", name="요청 기록").click()
    expect(page.get_by_test_id("request-status")).to_have_text("처리 중")
    request_url = page.url
    page.goto(live_server("/home/lead"))
    expect(page.get_by_test_id("home-subject-requests")).to_contain_text("한바다")
    expect(page.get_by_test_id("home-subject-requests")).to_contain_text("10일 남음")
    page.goto(request_url)
    page.get_by_test_id("copy-html").click()
    expect(page.get_by_test_id("copy-student")).to_contain_text("서울 마포구 옛길 1")
    expect(page.get_by_test_id("subject-copy")).to_contain_text("수업 중 집중이 어렵고 결석이 잦음")
    expect(page.get_by_test_id("copy-withheld")).to_contain_text("접속기록")
    screenshot(page, "request-copy")
    page.goto(request_url)
    page.get_by_test_id("complete-form").get_by_role("button", name="처리 완료").click()
    expect(page.get_by_test_id("request-status")).to_contain_text("완료")
    page.goto(live_server("/home/lead"))
    expect(page.get_by_test_id("home-subject-requests")).to_have_count(0)

    # 정정: the address
    page.goto(live_server(f"/cases/{case_uid}"))
    page.get_by_test_id("case-subject-requests").get_by_role("link", name="열람·정정 요청 기록").click()
    form = page.get_by_test_id("subject-request-form")
    choose(form, "kind", "correction")
    choose(form, "requested_by", "student")
    form.get_by_label("본인 확인 방법").select_option("student_in_person")
    form.get_by_label("정정을 요청한 내용").fill("이사해서 주소가 바뀌었습니다")
    form.get_by_role("button", name="요청 기록").click()
    correction = page.get_by_test_id("correction-form")
    correction.get_by_label("주소").fill("서울 마포구 새길 2")
    correction.get_by_role("button", name="정정 저장").click()
    page.get_by_test_id("complete-form").get_by_role("button", name="처리 완료").click()
    expect(page.get_by_test_id("request-status")).to_contain_text("완료")
    page.goto(live_server(f"/cases/{case_uid}"))
    chronology = page.locator("main")
    expect(chronology).to_contain_text("서울 마포구 옛길 1")
    expect(chronology).to_contain_text("서울 마포구 새길 2")
    screenshot(page, "request-correction-chronology")
