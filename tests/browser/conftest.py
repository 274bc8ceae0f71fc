"""Browser fixtures: a live server running a test app, and a Playwright page in Debian's Chromium.

Later features reuse these: ask for ``live_server`` (its ``.app`` is the served app: create data
inside ``with live_server.app.app_context():`` and commit) and ``browser_page``.  A module can
override ``live_app`` to serve an app with other settings.  ``sign_in`` and ``sign_in_with_code``
are the one way journeys sign in through the login form (a password; then a TOTP code).
"""
from __future__ import annotations

import os
import re
import threading
from pathlib import Path

import pytest
from playwright.sync_api import expect
from werkzeug.serving import make_server

from app.auth.models import User
from app.auth.totp import code_for_step, current_step
from app.extensions import db
from tests.factories import DEFAULT_PASSWORD

CHROMIUM = Path(os.environ.get("IEUM_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--no-first-run", "--disable-sync"]
SHOTS = Path(os.environ.get("IEUM_SHOTS", "/tmp/ieum-shots"))
#: how long an action or an auto-waiting assertion may wait: a bound for a hang, never a speed
#: target.  Beside stress-ng on two cores a page of the dev server took over 10 s (issue 18).
BROWSER_TIMEOUT_MS = 60_000
expect.set_options(timeout=BROWSER_TIMEOUT_MS)


def buffered(wsgi_app):
    """Read every response whole and close it before sending.  The development server never
    closes a response whose client went away (Chromium drops font and CSS downloads it no longer
    needs), and an open static file then surfaces as a ResourceWarning that filterwarnings=error
    turns into a failed test on a loaded machine.  Buffering leaves nothing open; the
    application's own warnings still fail tests."""
    def app(environ, start_response):
        result = wsgi_app(environ, start_response)
        try:
            return [b"".join(result)]
        finally:
            close = getattr(result, "close", None)
            if close is not None:
                close()
    return app


class LiveServer:
    """A Flask app served by werkzeug on 127.0.0.1 and a free port, in a daemon thread."""

    def __init__(self, app) -> None:
        self.app = app
        self._server = make_server("127.0.0.1", 0, buffered(app), threaded=True)
        # keep track of request threads so stop() can let them finish: a thread still inside a
        # request when the app's engine is disposed would drop its database connection unclosed
        self._server.daemon_threads, self._server.block_on_close = False, True
        self.url = f"http://127.0.0.1:{self._server.server_port}"
        self._thread = threading.Thread(target=self._server.serve_forever, name="live-server", daemon=True)

    def start(self) -> "LiveServer":
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._thread.join(timeout=10)
        # _threads is a no-op placeholder until the server has handled a request: not iterable then
        threads = getattr(self._server, "_threads", None)
        requests = list(threads) if isinstance(threads, (list, tuple, set)) or hasattr(threads, "__iter__") else []
        for thread in requests:
            thread.join(timeout=5)
        if any(thread.is_alive() for thread in requests):
            self._server.block_on_close = False  # never hang the suite on a stuck client
        self._server.server_close()

    def __call__(self, path: str = "/") -> str:
        """The absolute URL of ``path`` on this server."""
        return self.url + path


@pytest.fixture
def live_app(make_app):
    """The app a browser test talks to; CSRF is on, as in production, so real forms are tested."""
    return make_app(WTF_CSRF_ENABLED=True)


@pytest.fixture
def live_server(live_app):
    server = LiveServer(live_app).start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def chromium():
    """One headless Chromium per test process; skipped (or failed, with IEUM_REQUIRE_BROWSER=1)
    when Debian's chromium is missing.  Never downloads a browser."""
    if not CHROMIUM.exists():
        message = f"{CHROMIUM} is missing (apt-get install chromium)"
        if os.environ.get("IEUM_REQUIRE_BROWSER") == "1":
            pytest.fail(message)
        pytest.skip(message)
    from playwright.sync_api import sync_playwright
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def browser_page(chromium):
    """A fresh page (own cookies) in a Korean-locale context, 1280x900."""
    context = chromium.new_context(locale="ko-KR", timezone_id="Asia/Seoul",
                                   viewport={"width": 1280, "height": 900})
    context.set_default_timeout(BROWSER_TIMEOUT_MS)
    page = context.new_page()
    yield page
    context.close()


@pytest.fixture
def screenshot():
    """Save a full-page screenshot to /tmp/ieum-shots/<name>.png; returns the path."""
    def _shot(page, name: str) -> Path:
        SHOTS.mkdir(parents=True, exist_ok=True)
        path = SHOTS / f"{name}.png"
        page.screenshot(path=str(path), full_page=True)
        return path
    return _shot


# -- signing in -------------------------------------------------------------------------------

def sign_in(page, live_server, login: str, home: str | None = None, password: str = DEFAULT_PASSWORD) -> None:
    """Sign in through the Korean login form; wait for ``home`` (a path), or for any page but the login."""
    page.goto(live_server("/login"))
    page.get_by_label("아이디").fill(login)
    page.get_by_label("비밀번호").fill(password)
    page.locator("main").get_by_role("button", name="로그인").click()
    if home:
        expect(page).to_have_url(live_server(home))
    else:
        expect(page).not_to_have_url(re.compile(r"/login"))


def fresh_code(app, login: str, secret: str) -> str:
    """The code an app shows now, or the next step's when this step's was used already (the
    one-step window accepts it): a live server cannot move the clock on."""
    with app.app_context():
        last = db.session.execute(db.select(User.totp_last_step).filter_by(login=login)).scalar_one()
    return code_for_step(secret, max(current_step(), (last or 0) + 1))


def sign_in_with_code(page, live_server, login: str, secret: str) -> None:
    """Password, then the second factor's code on /login/code."""
    page.goto(live_server("/login"))
    page.get_by_label("아이디").fill(login)
    page.get_by_label("비밀번호").fill(DEFAULT_PASSWORD)
    page.locator("main").get_by_role("button", name="로그인").click()
    expect(page).to_have_url(live_server("/login/code"))
    expect(page.get_by_role("heading", level=1)).to_have_text("2단계 인증")
    page.get_by_label("인증 코드").fill(fresh_code(live_server.app, login, secret))
    page.get_by_role("button", name="확인").click()
