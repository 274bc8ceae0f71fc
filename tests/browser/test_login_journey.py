"""Journey in real Chromium: demo-school logs in, sees the Korean home page, logs out."""
import re

import pytest
from playwright.sync_api import expect

PASSWORD = "Demo-password-2026"


@pytest.fixture
def problems(browser_page):
    """Console errors (CSP violations land there), page errors and failed responses."""
    seen = []
    browser_page.on("console", lambda m: seen.append(f"console: {m.text}") if m.type == "error" else None)
    browser_page.on("pageerror", lambda e: seen.append(f"page error: {e}"))
    browser_page.on("response", lambda r: seen.append(f"{r.status} {r.url}") if r.status >= 400 else None)
    return seen


@pytest.mark.browser
def test_demo_school_logs_in_sees_korean_home_and_logs_out(live_server, browser_page, problems, screenshot):
    seeded = live_server.app.test_cli_runner().invoke(args=["demo", "seed", "--password", PASSWORD])
    assert seeded.exit_code == 0, seeded.output
    page = browser_page

    page.goto(live_server("/"))
    expect(page).to_have_url(re.compile(r"/login\?next="))
    expect(page.locator("html")).to_have_attribute("lang", "ko")
    expect(page.get_by_role("heading", level=1)).to_have_text("로그인")
    page.keyboard.press("Tab")  # the skip link is the first stop for keyboard users
    expect(page.get_by_role("link", name="본문 바로가기")).to_be_focused()
    screenshot(page, "login")

    page.get_by_label("아이디").fill("demo-school")
    page.get_by_label("비밀번호").fill(PASSWORD)
    page.locator("main").get_by_role("button", name="로그인").click()

    expect(page).to_have_url(live_server("/home/school"))
    expect(page.get_by_role("heading", level=1)).to_have_text("학교 지원팀 홈")
    header_user = page.get_by_test_id("current-user")
    for text in ("김하늘 (담임)", "이음초등학교", "학교 지원팀"):
        expect(header_user).to_contain_text(text)
    for panel in ("내 담당 사례", "기한이 지난 지원 계획"):
        expect(page.get_by_role("heading", level=2, name=panel)).to_be_visible()
    expect(page.get_by_role("navigation", name="주 메뉴").get_by_role("link", name="홈")).to_have_attribute(
        "aria-current", "page")
    # KRDS and the Pretendard GOV font really are in use
    assert "Pretendard GOV" in page.evaluate("getComputedStyle(document.body).fontFamily")
    assert page.evaluate("document.fonts.check('16px \"Pretendard GOV\"', '학교')")
    screenshot(page, "home-school")

    page.get_by_role("button", name="로그아웃").click()
    expect(page).to_have_url(live_server("/login"))
    expect(page.get_by_text("로그아웃되었습니다.")).to_be_visible()
    page.goto(live_server("/home/school"))
    expect(page).to_have_url(re.compile(r"/login\?next=%2Fhome%2Fschool$"))

    assert problems == []
