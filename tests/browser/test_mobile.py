"""Five key pages on a 375x812 phone screen (issue 15): nothing overflows the page sideways, the
header and the folded menu fit in one compact bar, the menu button opens the menu (by mouse and
keyboard; without script the menu stays open) and no two table cells overlap."""
import pytest
from playwright.sync_api import expect

from .conftest import BROWSER_TIMEOUT_MS
from .test_accessibility import sign_in, world  # noqa: F401  (the shared data of every role)

WIDTH, HEIGHT = 375, 812
BAR_MAX = 120  # px: the header with the menu folded

PAGES = {
    "login": (None, "/login"),
    "lead-home": ("kim-lead", "/home/lead"),
    "case-page": ("kim-lead", "/cases/{case}"),
    "guardian-activity": ("lee-guardian", "/guardians/me/{assignment}"),
    "statistics": ("seo-coord", "/reports/district"),
}

#: pairs of cells (of one table) whose boxes or spilled-over content overlap; [] when none
OVERLAPS = """() => {
  const found = [];
  const box = el => el.getBoundingClientRect();
  const cross = (a, b) => a.left < b.right - 1 && b.left < a.right - 1 && a.top < b.bottom - 1 && b.top < a.bottom - 1;
  document.querySelectorAll('table').forEach((table, t) => {
    const cells = [...table.querySelectorAll('th, td')].filter(c => c.getClientRects().length);
    cells.forEach((cell, i) => {
      if (cell.scrollWidth > cell.clientWidth + 1) {
        found.push(`table ${t}: content spills out of "${cell.innerText.trim().slice(0, 30)}" (${cell.scrollWidth} > ${cell.clientWidth})`);
      }
      for (const other of cells.slice(i + 1)) {
        if (cross(box(cell), box(other))) {
          found.push(`table ${t}: "${cell.innerText.trim().slice(0, 30)}" overlaps "${other.innerText.trim().slice(0, 30)}"`);
        }
      }
    });
  });
  return found;
}"""


@pytest.fixture
def phone(chromium):
    context = chromium.new_context(locale="ko-KR", timezone_id="Asia/Seoul", is_mobile=True, has_touch=True,
                                   viewport={"width": WIDTH, "height": HEIGHT}, device_scale_factor=2)
    context.set_default_timeout(BROWSER_TIMEOUT_MS)
    yield context
    context.close()


def open_page(context, live_server, world, name: str):  # noqa: F811
    login, path = PAGES[name]
    page = context.new_page()
    if login:
        sign_in(page, live_server, login)
    response = page.goto(live_server(path.format(**world)))
    assert response.status == 200, f"{name}: {path} answered {response.status}"
    return page


def header_height(page) -> float:
    return page.locator("#krds-header").bounding_box()["height"]


@pytest.mark.browser
@pytest.mark.parametrize("name", list(PAGES))
def test_a_key_page_fits_a_phone(live_server, world, phone, screenshot, name):  # noqa: F811
    page = open_page(phone, live_server, world, name)
    screenshot(page, f"mobile-{name}")
    scroll_width = page.evaluate("document.scrollingElement.scrollWidth")
    assert scroll_width <= WIDTH, f"{name}: the page is {scroll_width}px wide"
    assert header_height(page) <= BAR_MAX
    main_top = page.locator("main").bounding_box()["y"]
    assert main_top <= BAR_MAX + 1, f"{name}: the content starts at {main_top}px"
    if name == "guardian-activity":
        assert page.locator("main table tbody tr").count() >= 2  # the activity table is there
    assert page.evaluate(OVERLAPS) == []

    toggle = page.get_by_role("button", name="메뉴")
    if name == "login":
        expect(toggle).to_have_count(0)  # no menu before signing in
        return
    menu = page.get_by_role("navigation", name="주 메뉴")
    expect(menu).to_be_hidden()
    expect(toggle).to_have_attribute("aria-expanded", "false")
    toggle.click()
    expect(toggle).to_have_attribute("aria-expanded", "true")
    expect(menu.get_by_role("link", name="홈")).to_be_visible()
    expect(page.get_by_test_id("logout")).to_be_visible()
    screenshot(page, f"mobile-{name}-menu")
    assert page.evaluate("document.scrollingElement.scrollWidth") <= WIDTH
    toggle.click()
    expect(menu).to_be_hidden()


@pytest.mark.browser
def test_the_menu_button_works_with_the_keyboard(live_server, world, phone):  # noqa: F811
    page = open_page(phone, live_server, world, "lead-home")
    toggle = page.get_by_role("button", name="메뉴")
    expect(toggle).to_have_attribute("aria-controls", "ieum-utility ieum-nav")
    menu = page.get_by_role("navigation", name="주 메뉴")
    toggle.focus()
    page.keyboard.press("Enter")
    expect(toggle).to_have_attribute("aria-expanded", "true")
    expect(menu).to_be_visible()
    page.keyboard.press("Tab")  # into the opened menu: the account links come first
    page.keyboard.press("Escape")
    expect(menu).to_be_hidden()
    expect(toggle).to_be_focused()
    page.keyboard.press("Space")
    expect(menu).to_be_visible()


@pytest.mark.browser
def test_without_script_the_menu_stays_open_below_the_header(live_server, world, chromium):  # noqa: F811
    context = chromium.new_context(locale="ko-KR", timezone_id="Asia/Seoul", java_script_enabled=False,
                                   viewport={"width": WIDTH, "height": HEIGHT})
    context.set_default_timeout(BROWSER_TIMEOUT_MS)
    try:
        page = open_page(context, live_server, world, "lead-home")
        expect(page.get_by_role("button", name="메뉴")).to_be_hidden()
        expect(page.get_by_role("navigation", name="주 메뉴").get_by_role("link", name="홈")).to_be_visible()
        assert page.evaluate("document.scrollingElement.scrollWidth") <= WIDTH
    finally:
        context.close()


@pytest.mark.browser
def test_the_desktop_header_shows_the_menu_without_a_button(live_server, world, browser_page):  # noqa: F811
    page = browser_page
    sign_in(page, live_server, "kim-lead")
    expect(page.get_by_role("button", name="메뉴")).to_be_hidden()
    expect(page.get_by_role("navigation", name="주 메뉴").get_by_role("link", name="홈")).to_be_visible()
