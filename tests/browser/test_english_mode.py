"""English mode shows no Hangul outside user data on the key pages of every role (issue 15).

Each role's demo user signs in (the Korean sign-in form), switches to English with the language
switcher in the page header, then opens the home page, every entry of the main menu, a few other
key pages (tests/i18n_pages.extra_pages) and one detail page of each kind of record those pages
link to.  On each page every text node of the document (including text a screen reader reads or
a click reveals) and the attributes placeholder, title, aria-label, alt and value are collected;
user data (every text the test database holds, decrypted through the models) is taken out and
no Hangul may remain.  The failure lists each page with the Hangul left and some context.

The English catalogue is the compiled app/translations/en/LC_MESSAGES/messages.mo.
"""
from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.i18n_pages import (CATALOGUE, DEMO_LOGINS, MAX_DETAILS, SKIP_LINK, Stripper, detail_links, extra_pages,
                              page_leftovers, seed_demo, user_data_strings)

PASSWORD = "Demo-password-2026"

#: every text node of the document and the read attributes of every element (no scripts, styles
#: or hidden form fields); the links of the page and of its main menu
COLLECT = """() => {
  const skip = new Set(['SCRIPT', 'STYLE', 'TEMPLATE', 'NOSCRIPT']);
  const out = [document.title];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  while (walker.nextNode()) {
    const node = walker.currentNode;
    if (node.parentElement && !skip.has(node.parentElement.tagName) && node.textContent.trim()) {
      out.push(node.textContent);
    }
  }
  for (const el of document.body.querySelectorAll('*')) {
    if (skip.has(el.tagName) || (el.tagName === 'INPUT' && el.type === 'hidden')) continue;
    for (const name of ['placeholder', 'title', 'aria-label', 'alt', 'value']) {
      // a value is shown only on buttons; on options, checkboxes and text fields it is a code or typed data
      if (name === 'value' && !(el.tagName === 'INPUT' && ['submit', 'button', 'reset'].includes(el.type))) continue;
      const value = el.getAttribute(name);
      if (value && value.trim()) out.push(value);
    }
  }
  const hrefs = sel => [...document.querySelectorAll(sel)].map(a => a.getAttribute('href'));
  return {segments: out, links: hrefs('a[href]:not([download])'), menu: hrefs('#ieum-nav a[href]')};
}"""


@pytest.fixture
def demo(live_server):
    """The demo data (flask demo seed) in the served app, and the stripper of its user data."""
    mo, po = CATALOGUE / "messages.mo", CATALOGUE / "messages.po"
    if not mo.exists() or mo.stat().st_mtime < po.stat().st_mtime:
        pytest.fail(f"{mo} is missing or older than messages.po: run .venv/bin/pybabel compile -d app/translations")
    with live_server.app.app_context():
        seed_demo(PASSWORD)
        return Stripper(user_data_strings())


def switch_to_english(page) -> None:
    """Press the header's language switcher, as a person does."""
    page.locator("form.ieum-language button[lang='en']").click()
    # an auto-waiting assertion, not wait_for_function: its polling evaluates a string, which the
    # app's Content-Security-Policy (no 'unsafe-eval') refuses whenever the first check is false
    expect(page.locator("html")).to_have_attribute("lang", "en")


def sign_in(page, live_server, login: str) -> None:
    page.goto(live_server("/login"))
    page.locator("input[name='login']").fill(login)
    page.locator("input[name='password']").fill(PASSWORD)
    page.locator("main button[type='submit']").click()
    page.wait_for_url(lambda url: "/login" not in url)


def visit(page, live_server, path: str, stripper: Stripper, found: dict) -> dict:
    response = page.goto(live_server(path))
    collected = page.evaluate(COLLECT)
    assert page.evaluate("document.documentElement.lang") == "en", f"{path} is not in English"
    left = page_leftovers(collected["segments"], stripper)
    if response is not None and response.status != 200:  # a key page must open
        left.insert(0, f"(answered {response.status})")
    if left:
        found[path] = left
    return collected


def describe(found: dict) -> str:
    lines = [f"{sum(map(len, found.values()))} Hangul snippets left on {len(found)} pages:"]
    for path, snippets in found.items():
        lines.append(f"  {path}")
        lines += [f"      {snippet!r}" for snippet in snippets]
    return "\n".join(lines)


@pytest.mark.browser
def test_sign_in_page_in_english_has_no_hangul(live_server, demo, browser_page):
    browser_page.goto(live_server("/login"))
    switch_to_english(browser_page)
    found: dict = {}
    visit(browser_page, live_server, "/login", demo, found)
    assert not found, describe(found)


@pytest.mark.browser
@pytest.mark.parametrize("login", list(DEMO_LOGINS))
def test_key_pages_in_english_have_no_hangul_outside_user_data(live_server, demo, browser_page, login):
    page, role = browser_page, DEMO_LOGINS[login]
    sign_in(page, live_server, login)
    switch_to_english(page)
    home = page.url.removeprefix(live_server.url)
    found: dict = {}
    first = visit(page, live_server, home, demo, found)
    paths = [home] + [h for h in first["menu"] if h not in (home, "/")] + extra_pages(role)
    links = list(first["links"])
    for path in paths[1:]:
        links += visit(page, live_server, path, demo, found)["links"]
    details = [p for p in detail_links(links) if p not in paths and not SKIP_LINK.search(p)][:MAX_DETAILS]
    for path in details:
        visit(page, live_server, path, demo, found)
    assert len(paths) + len(details) >= 4, f"{login}: too few key pages found: {paths + details}"
    assert not found, f"{login} ({role}) in English:\n" + describe(found)
