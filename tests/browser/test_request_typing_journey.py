"""Journey in real Chromium (issue 15): a teacher types the needs and the summary first, then
searches for the student by a part of the name and picks them; nothing typed is lost, Enter in a
one-line field submits nothing, the counter warns about an over-long text, and the request saves."""
import re

import pytest
from playwright.sync_api import expect

from app.extensions import db
from tests.factories import Builder, DEFAULT_PASSWORD


def choose(scope, name: str, value: str) -> None:
    """Tick a radio or checkbox the way a user does: KRDS draws it on the label."""
    control = scope.locator(f"input[name='{name}'][value='{value}']")
    scope.locator(f"label[for='{control.get_attribute('id')}']").click()
    expect(control).to_be_checked()


@pytest.mark.browser
def test_typed_needs_survive_the_student_search(live_server, browser_page, screenshot):
    with live_server.app.app_context():
        build = Builder()
        school = build.school(name="이음초등학교")
        build.user("school_staff", organisation=school, login="lee-teacher", display_name="이담임")
        for name in ("박서준", "이수아", "정하윤"):
            build.student(school, name=name)
        db.session.commit()
    page = browser_page
    page.goto(live_server("/login"))
    page.get_by_label("아이디").fill("lee-teacher")
    page.get_by_label("비밀번호").fill(DEFAULT_PASSWORD)
    page.locator("main").get_by_role("button", name="로그인").click()
    page.goto(live_server("/cases/new"))

    # 1. the needs and the summary first
    choose(page, "requested_by", "parent")
    page.get_by_label("학습 영역 내용").fill("수학 기초 연산 미도달")  # typing ticks the domain
    expect(page.locator("#needs-learning")).to_be_checked()
    choose(page, "risk_level", "intensive")
    page.get_by_label("요청 내용").fill("보호자가 학습 지원을 요청함")
    counter = page.locator("#summary-count")
    expect(counter).to_be_visible()
    expect(counter).to_have_text(re.compile(r"^15/2,000자$"))

    # 2. Enter in a one-line field submits nothing
    # (a submission fires "submit" while the key is pressed, before any navigation: counted on
    # this document, it is seen at once, with no pause that a slow machine could outrun)
    url = page.url
    page.evaluate("() => { window.__submits = 0;"
                  " window.addEventListener('submit', e => { if (!e.defaultPrevented) window.__submits++; }); }")
    page.get_by_label("학습 영역 내용").press("Enter")
    assert page.evaluate("() => window.__submits") == 0  # None if a new page had loaded
    assert page.url == url and page.get_by_test_id("error-summary").count() == 0

    # 3. a part of a name that matches nobody says so, and keeps everything typed
    page.get_by_label("이름 또는 학생 개인번호로 찾기").fill("김")
    page.get_by_label("이름 또는 학생 개인번호로 찾기").press("Enter")  # Enter in the search box searches
    expect(page.get_by_test_id("no-student-found")).to_contain_text("'김' 이름의 학생이 없습니다.")
    expect(page.get_by_label("학습 영역 내용")).to_have_value("수학 기초 연산 미도달")

    # 4. then the student by a part of the name, with the 찾기 button
    page.get_by_label("이름 또는 학생 개인번호로 찾기").fill("서준")
    page.get_by_test_id("find-student").click()
    expect(page.get_by_test_id("no-student-found")).to_have_count(0)
    picker = page.get_by_label("등록된 학생", exact=True)
    expect(picker.locator("option:checked")).to_have_text(re.compile(r"^박서준"))
    assert "이수아" not in picker.inner_text()
    assert "서준" not in page.url
    # nothing typed is lost
    expect(page.get_by_label("학습 영역 내용")).to_have_value("수학 기초 연산 미도달")
    expect(page.locator("#needs-learning")).to_be_checked()
    expect(page.get_by_label("요청 내용")).to_have_value("보호자가 학습 지원을 요청함")
    expect(page.locator("input[name='requested_by'][value='parent']")).to_be_checked()
    expect(page.locator("input[name='risk_level'][value='intensive']")).to_be_checked()

    # 5. an over-long text is named, not cut short
    page.get_by_label("요청 내용").fill("가" * 2001)
    expect(counter).to_have_text(re.compile("2,000자를 넘었습니다. 1자를 줄여 주세요."))
    page.get_by_label("요청 내용").fill("보호자가 학습 지원을 요청함")
    screenshot(page, "request-typing-journey")

    # 6. and it saves
    page.get_by_role("button", name="지원 요청 등록").click()
    expect(page).to_have_url(re.compile(r"/cases/[0-9a-f-]{36}$"))
    expect(page.get_by_role("heading", level=1)).to_contain_text("박서준")
