"""Journey in real Chromium: a teacher (the school's 교감, who may select) logs a request for a
new student, records both consents, selects the student, adds a plan action, and reads it all
back in the case chronology."""
import re

import pytest
from playwright.sync_api import expect

from app.db import today_kst
from app.extensions import db
from tests.factories import Builder, DEFAULT_PASSWORD


def choose(scope, name: str, value: str) -> None:
    """Tick a radio or checkbox the way a user does: KRDS draws it on the label."""
    # forms on the case page carry a prefix (consent-party); the request form does not
    control = scope.locator(f"input[name='{name}'][value='{value}'], input[name$='-{name}'][value='{value}']")
    scope.locator(f"label[for='{control.get_attribute('id')}']").click()
    expect(control).to_be_checked()


@pytest.mark.browser
def test_teacher_request_consent_select_plan_chronology(live_server, browser_page, screenshot):
    with live_server.app.app_context():
        school = Builder().school(name="이음초등학교")
        lead = Builder().user("school_lead", organisation=school, login="kim-lead", display_name="김교감")
        db.session.commit()
    page = browser_page
    page.goto(live_server("/login"))
    page.get_by_label("아이디").fill("kim-lead")
    page.get_by_label("비밀번호").fill(DEFAULT_PASSWORD)
    page.locator("main").get_by_role("button", name="로그인").click()
    expect(page).to_have_url(live_server("/home/lead"))

    # 1. one screen: a new student, who asked, one need, risk
    page.get_by_role("navigation", name="주 메뉴").get_by_role("link", name="지원 요청").click()
    choose(page, "student_mode", "new")
    page.get_by_label("학생 이름").fill("한바다")
    page.get_by_label("생년월일").fill("2015-06-01")
    page.get_by_label("학년", exact=True).fill("5")
    page.get_by_label("반", exact=True).fill("3")
    page.get_by_label("번호", exact=True).fill("12")
    choose(page, "requested_by", "parent")
    choose(page, "needs", "learning")
    page.get_by_label("학습 영역 내용").fill("수학 기초 연산 미도달")
    choose(page, "risk_level", "intensive")
    page.get_by_label("요청 내용").fill("보호자가 학습 지원을 요청함")
    page.get_by_role("button", name="지원 요청 등록").first.click()
    expect(page).to_have_url(re.compile(r"/cases/[0-9a-f-]{36}$"))
    expect(page.get_by_role("heading", level=1)).to_contain_text("한바다")

    # 2. both consents
    for party in ("student", "parent"):
        page.locator("#d-consent summary").click()
        form = page.get_by_test_id("form-consent")
        choose(form, "party", party)
        choose(form, "purposes", "guardian_matching")
        choose(form, "purposes", "conference_sharing")
        form.get_by_role("button", name="동의 기록").click()
        expect(page.get_by_role("status").first).to_be_visible()
    expect(page.get_by_test_id("case-header")).to_contain_text("학생·보호자 동의 완료")

    # 3. screening, then selection with its evidence
    page.get_by_test_id("transition-start_screening").click()
    page.locator("#d-select summary").click()
    select = page.get_by_test_id("form-select")
    select.get_by_label("협의 날짜").fill(today_kst().isoformat())
    select.get_by_label("참석자").fill("교감, 담임, 상담교사")
    select.get_by_label("담임·교과 교사 의견").fill("담임: 수학 기초 연산 지원 필요")
    select.get_by_role("button", name="선정").click()
    expect(page.get_by_test_id("case-header")).to_contain_text("지원 대상 선정")

    # 4. planning and one plan action
    page.get_by_test_id("transition-start_planning").click()
    page.locator("#d-plan summary").click()
    plan = page.get_by_test_id("form-plan")
    plan.get_by_label("목표", exact=True).fill("두 자리 수 덧셈 익히기")
    plan.get_by_label("실행 내용").fill("방과 후 주 2회 보충 학습")
    plan.get_by_label("기한").fill("2099-12-31")
    plan.get_by_role("button", name="계획에 추가").click()

    # 5. everything in the chronology, newest first (once the page has come back with the plan line)
    events = page.get_by_test_id("case-chronology").get_by_test_id("event")
    expect(events.first).to_contain_text("지원 계획 추가")
    texts = [t for t in events.all_inner_texts()]
    joined = "\n".join(texts)
    for expected in ("지원 요청 접수", "학생 동의 기록", "보호자 동의 기록", "요청 접수 → 검토 중",
                     "검토 중 → 지원 대상 선정", "지원 계획 추가: 두 자리 수 덧셈 익히기"):
        assert expected in joined, expected
    assert "지원 계획 추가" in texts[0] and "지원 요청 접수" in texts[-1]
    screenshot(page, "case-journey")
