"""Journey in real Chromium: a school lead schedules a conference about two cases with a guardian
and an agency participant, records decisions and action items; the guardian and the agency
coordinator then each see only their own student's case."""
import datetime as dt
import re

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from app.conferences.models import Conference
from app.db import today_kst, utcnow
from app.extensions import db as _db
from tests.conferences.conftest import (agency_with_service, conference_world, coordinator,  # noqa: F401
                                        eligible_guardian)

from .conftest import sign_in


@pytest.fixture
def live_app(app):
    """Serve the test's own app (the conference world lives in its database), with CSRF on."""
    app.config["WTF_CSRF_ENABLED"] = True
    return app


def choose(scope, name: str, value) -> None:
    """Tick a radio or checkbox the way a user does: KRDS draws it on the label."""
    control = scope.locator(f"input[name='{name}'][value='{value}']")
    scope.locator(f"label[for='{control.get_attribute('id')}']").click()
    expect(control).to_be_checked()


@pytest.mark.browser
def test_conference_schedule_record_and_each_sees_their_part(live_server, browser_page, conference_world,  # noqa: F811
                                                             screenshot):
    w = conference_world
    mine, theirs = w.guardian_case.student.name, w.referral_case.student.name
    mine_given = w.guardian_case.student.given_name  # what a guardian may see of their student
    logins = {"lead": w.lead.login, "guardian": w.guardian_user.login, "agent": w.agent.login}
    ids = {"g": w.guardian_case.id, "r": w.referral_case.id, "gu": w.guardian_case.uid, "ru": w.referral_case.uid,
           "guardian": w.guardian_user.id, "agent": w.agent.id, "agency": w.agency.id}
    _db.session.commit()  # end this thread's read transaction: SQLite lets the server write only then
    page = browser_page

    # 1. the lead schedules: kind, when, where, both cases, the guardian and the agency coordinator
    sign_in(page, live_server, logins["lead"])
    page.get_by_role("navigation", name="주 메뉴").get_by_role("link", name="사례회의").click()
    page.get_by_role("link", name="사례회의 예약").first.click()
    form = page.get_by_test_id("form-schedule")
    choose(form, "kind", "school_meeting")
    form.get_by_label("날짜").fill((today_kst() + dt.timedelta(days=3)).isoformat())
    form.get_by_label("시각").fill("15:00")
    form.get_by_label("장소", exact=True).fill("망원초 상담실")
    for case_id in (ids["g"], ids["r"]):
        choose(form, "case_ids", case_id)
    for user_id in (ids["guardian"], ids["agent"]):
        choose(form, "participant_user_ids", user_id)
    form.get_by_label("외부 참석자 1 이름").fill("홍보건")
    form.get_by_label("외부 참석자 1 소속").fill("마포구보건소")
    form.get_by_role("button", name="예약").click()
    expect(page).to_have_url(re.compile(r"/conferences/[0-9a-f-]{36}$"))
    conference_url = page.url
    expect(page.get_by_test_id("participants")).to_contain_text("홍보건")

    # 2. once the meeting has started (moved into the past, as time would have made it), record it
    conference = _db.session.execute(select(Conference)).scalar_one()
    conference.starts_at = utcnow() - dt.timedelta(hours=1)
    _db.session.commit()
    page.reload()
    page.get_by_test_id("record-link").click()
    record = page.get_by_test_id("form-record")
    record.get_by_label("회의록").fill("두 학생의 지원 경과를 공유함")
    due = (today_kst() + dt.timedelta(days=7)).isoformat()
    g = record.get_by_test_id(f"record-case-{ids['gu']}")
    choose(g, f"c{ids['g']}_decision", "continue")
    g.get_by_label("결정 내용").fill("후견인 학습 멘토링 유지")
    g.get_by_label("실행 과제 1", exact=True).fill("주 2회 학습 멘토링")
    g.get_by_label("실행 과제 1 담당 구분").select_option("user")
    g.get_by_label("실행 과제 1 담당자").select_option(str(ids["guardian"]))
    g.get_by_label("실행 과제 1 기한").fill(due)
    r = record.get_by_test_id(f"record-case-{ids['ru']}")
    choose(r, f"c{ids['r']}_decision", "modify")
    r.get_by_label("결정 내용").fill("기관 상담 주기 조정")
    r.get_by_label("실행 과제 1", exact=True).fill("상담 결과 회신")
    r.get_by_label("실행 과제 1 담당 구분").select_option("agency")
    r.get_by_label("실행 과제 1 담당 기관").select_option(str(ids["agency"]))
    r.get_by_label("실행 과제 1 기한").fill(due)
    record.get_by_role("button", name="회의 결과 저장").click()
    expect(page).to_have_url(conference_url)
    cases = page.get_by_test_id("conference-cases")
    expect(cases).to_contain_text("지원 유지")
    expect(cases).to_contain_text("계획 수정")
    expect(page.get_by_test_id("minutes")).to_contain_text("두 학생의 지원 경과를 공유함")
    screenshot(page, "conference-lead")
    page.get_by_test_id("logout").click()

    # 3. the guardian: their student as the portal shows them (given name, no decision notes),
    #    their task only, no minutes about the other student
    sign_in(page, live_server, logins["guardian"])
    expect(page.get_by_test_id("home-conference-actions")).to_contain_text("주 2회 학습 멘토링")
    page.goto(conference_url)
    cases = page.get_by_test_id("conference-cases")
    expect(cases).to_contain_text(mine_given)
    body = page.locator("main").inner_text()
    assert mine not in body and "후견인 학습 멘토링 유지" not in body
    assert theirs not in body and "기관 상담 주기 조정" not in body and "두 학생의 지원 경과" not in body
    page.get_by_test_id("print-link").click()
    printed = page.locator("body").inner_text()
    assert mine_given in printed and mine not in printed and theirs not in printed and "주 메뉴" not in printed
    screenshot(page, "conference-guardian-print")
    page.goto(live_server("/"))
    page.get_by_test_id("logout").click()

    # 4. the agency coordinator: the referred student only, as the referral shared them
    sign_in(page, live_server, logins["agent"])
    expect(page.get_by_test_id("home-conference-actions")).to_contain_text("상담 결과 회신")
    page.goto(conference_url)
    # the referral shared the needs only: the agency sees no name and no decision notes
    cases = page.get_by_test_id("conference-cases")
    expect(cases).to_contain_text("이름 비공개 학생")
    body = page.locator("main").inner_text()
    assert theirs not in body and "기관 상담 주기 조정" not in body
    assert mine not in body and "후견인 학습 멘토링 유지" not in body
    screenshot(page, "conference-agency")
