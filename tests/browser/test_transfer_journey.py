"""Journey in real Chromium (전학): a school lead sends a consented case to the school the student
moves to; the new school's lead finds it on their home, accepts it and reads the whole
chronology; the old school sees the receipt and no longer opens the case."""
import re

import pytest
from playwright.sync_api import expect

from app.extensions import db
from tests.factories import Builder, consent_both

from .conftest import BROWSER_TIMEOUT_MS, sign_in


def tick(scope, name: str, value: str | None = None) -> None:
    """Tick a radio or checkbox the way a user does: KRDS draws it on the label."""
    control = scope.locator(f"input[name='{name}']" + (f"[value='{value}']" if value else ""))
    scope.locator(f"label[for='{control.get_attribute('id')}']").click()
    expect(control).to_be_checked()


@pytest.mark.browser
def test_transfer_journey(live_server, browser_page, chromium, screenshot):
    with live_server.app.app_context():
        build = Builder()
        old = build.school(name="망원전출초등학교")
        new = build.school(gu="강남구", name="대치전입초등학교")
        old_lead = build.user("school_lead", organisation=old, login="old-lead", display_name="김보냄")
        build.user("school_lead", organisation=new, login="new-lead", display_name="박받음")
        student = build.student(old, actor=old_lead, name="한가람")
        case = build.case(old, status="in_support", lead=old_lead, student=student)
        consent_both(case, old_lead, purposes=("transfer",))
        db.session.commit()
        case_url = live_server(f"/cases/{case.uid}")
        new_uid = new.uid

    # 1. the old school's lead sends the case from its page
    page = browser_page
    sign_in(page, live_server, "old-lead", "/home/lead")
    page.goto(case_url)
    page.get_by_test_id("new-transfer").click()
    expect(page.get_by_test_id("with-data")).to_be_visible()
    page.get_by_label("학교 이름").fill("대치")
    page.get_by_test_id("school-search").get_by_role("button", name="찾기").click()
    form = page.get_by_test_id("send-transfer")
    tick(form, "to_school", new_uid)
    form.get_by_label("연락처 (선택: 전화·이메일)").fill("02-300-1234")
    form.get_by_role("button", name="전학 이관 보내기").click()
    expect(page).to_have_url(re.compile(r"/records/transfers/[0-9a-f-]{36}$"))
    expect(page.get_by_test_id("transfer-status")).to_have_text("회신 대기")
    transfer_url = page.url

    # 2. the new school's lead, in their own session: home, accept, the chronology
    context = chromium.new_context(locale="ko-KR", timezone_id="Asia/Seoul", viewport={"width": 1280, "height": 900})
    context.set_default_timeout(BROWSER_TIMEOUT_MS)
    new_page = context.new_page()
    try:
        sign_in(new_page, live_server, "new-lead", "/home/lead")
        incoming = new_page.get_by_test_id("home-transfers-incoming")
        expect(incoming).to_contain_text("한가람")
        incoming.get_by_role("link").first.click()
        expect(new_page.get_by_test_id("contact")).to_contain_text("02-300-1234")
        accept = new_page.get_by_test_id("accept-form")
        tick(accept, "confirm")
        accept.get_by_role("button", name="접수").click()
        expect(new_page.get_by_role("status").first).to_contain_text("전학 이관을 접수했습니다")
        expect(new_page.get_by_test_id("transfer-status")).to_have_text("접수")
        new_page.get_by_test_id("case-link").click()
        expect(new_page).to_have_url(case_url)
        body = new_page.locator("main")
        expect(body).to_contain_text("전학 이관 보냄: 대치전입초등학교")
        expect(body).to_contain_text("전학 이관 접수: 대치전입초등학교 박받음")
        expect(body).to_contain_text("동의 기록")  # a line the old school wrote
        screenshot(new_page, "transfer-new-school-case")
    finally:
        context.close()

    # 3. the old school: the receipt, and the case is gone
    page.goto(transfer_url)
    expect(page.get_by_test_id("answered-by")).to_contain_text("박받음")
    expect(page.get_by_test_id("answered-at")).not_to_be_empty()
    expect(page.get_by_test_id("moved-note")).to_be_visible()
    screenshot(page, "transfer-old-school-receipt")
    response = page.goto(case_url)
    assert response.status == 404
