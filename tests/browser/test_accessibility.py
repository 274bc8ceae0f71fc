"""axe-core (installed from npm, see package.json) on the key pages of every role (issue 15).

The test fails on any serious or critical violation of a WCAG 2.0/2.1 A or AA rule.  axe is
injected with a context that bypasses the Content-Security-Policy (script-src 'self' forbids an
injected script); that is the only thing the bypass changes, and only in this test.
The ``world`` fixture (one record of each kind, a login per role) is shared with test_mobile.py.
"""
import app.guardians.portal_views  # noqa: F401  (routes exist before apps are created)

from pathlib import Path

import pytest
from playwright.sync_api import expect

from app.agencies.referrals import create_referral, send_referral
from app.cases.plan import add_plan_action
from app.db import today_kst
from app.extensions import db
from app.guardians.activity import log_activity
from app.guardians.assignments import accept_assignment, propose_assignment
from tests.factories import DEFAULT_PASSWORD, Builder, consent_both
from tests.guardians.conftest import make_eligible_guardian

from .conftest import BROWSER_TIMEOUT_MS, sign_in


AXE = Path(__file__).resolve().parents[2] / "node_modules" / "axe-core" / "axe.min.js"
WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
BLOCKING = {"serious", "critical"}


@pytest.fixture
def world(live_server):
    """A school with a lead and a case in support (consented, referred, with a guardian who logged
    meetings), the district coordinator, the agency's coordinator and an auditor."""
    with live_server.app.app_context():
        build = Builder()
        school = build.school(name="이음초등학교")
        lead = build.user("school_lead", organisation=school, login="kim-lead", display_name="김교감")
        office = build.organisation("district_office")
        coordinator = build.user("district_coordinator", organisation=office, login="seo-coord",
                                 display_name="서담당")
        build.user("auditor", organisation=office, login="oh-audit", display_name="오감사")
        agency = build.agency(name="마포구청소년상담복지센터")
        build.user("agency_coordinator", organisation=agency, login="han-agency", display_name="한서연")
        student = build.student(school, actor=lead, name="한바다")
        case = build.case(school=school, status="in_support", student=student, lead=lead)
        consent_both(case, lead, purposes=("agency_referral",), agency_kinds=["청소년상담복지센터"])
        add_plan_action(case, lead, goal="두 자리 수 덧셈 익히기", action="주 2회 함께 연습",
                        shared_with_guardian=True)
        referral = create_referral(case, lead, agency=agency, reason="또래 관계 어려움으로 상담 연계 요청",
                                   shared_items=["student_name", "needs"])
        send_referral(referral, lead)
        guardian, guardian_user = make_eligible_guardian(build, coordinator, login="lee-guardian",
                                                         password=DEFAULT_PASSWORD, name="이후견")
        assignment = propose_assignment(case, guardian, coordinator)
        db.session.commit()
        accept_assignment(assignment, guardian_user)
        for minutes, kind, notes in ((50, "learning", "받아쓰기 연습과 독서 기록장 함께 쓰기"),
                                     (90, "emotional", "학교생활 이야기 나누기, 도서관 방문")):
            log_activity(assignment, guardian_user, occurred_on=today_kst(), minutes=minutes, kind=kind,
                         notes=notes)
        db.session.commit()
        return {"case": case.uid, "assignment": assignment.uid}


#: the key pages of every role: name -> (login or None, path; {case} and {assignment} from ``world``)
KEY_PAGES = {
    "login": (None, "/login"),
    "lead-home": ("kim-lead", "/home/lead"),
    "case-list": ("kim-lead", "/cases/"),
    "case-page": ("kim-lead", "/cases/{case}"),
    "request-form": ("kim-lead", "/cases/new"),
    "district-home": ("seo-coord", "/home/district"),
    "guardian-roster": ("seo-coord", "/guardians/"),
    "statistics": ("seo-coord", "/reports/district"),
    "agency-inbox": ("han-agency", "/agencies/inbox"),
    "guardian-portal": ("lee-guardian", "/guardians/me"),
    "guardian-activity": ("lee-guardian", "/guardians/me/{assignment}"),
    "audit-search": ("oh-audit", "/audit/"),
}

#: pages whose remaining violations lie in templates outside this test's files: name -> the
#: precise list (file, element, rule); those pages are xfail(strict=True)
KNOWN: dict[str, str] = {}


def open_page(page, live_server, world, name: str):
    login, path = KEY_PAGES[name]
    if login:
        sign_in(page, live_server, login)
    response = page.goto(live_server(path.format(**world)))
    assert response.status == 200, f"{name}: {path} answered {response.status}"
    return page


def run_axe(page) -> list[dict]:
    if not page.evaluate("() => typeof window.axe === 'object'"):
        page.add_script_tag(content=AXE.read_text(encoding="utf-8"))
    result = page.evaluate(
        "tags => axe.run(document, {runOnly: {type: 'tag', values: tags}, resultTypes: ['violations']})",
        WCAG_TAGS)
    return [v for v in result["violations"] if v["impact"] in BLOCKING]


def describe(violations: list[dict]) -> str:
    lines = []
    for v in violations:
        targets = "; ".join(" ".join(node["target"]) if isinstance(node["target"], list) else str(node["target"])
                            for node in v["nodes"][:5])
        lines.append(f"{v['id']} ({v['impact']}): {targets}")
    return "\n".join(lines)


@pytest.fixture
def axe_context(chromium):
    """A Korean desktop context that bypasses the CSP, so that axe can be injected."""
    if not AXE.exists():
        pytest.fail(f"{AXE} is missing: run scripts/setup (npm ci installs axe-core)")
    context = chromium.new_context(locale="ko-KR", timezone_id="Asia/Seoul",
                                   viewport={"width": 1280, "height": 900}, bypass_csp=True)
    context.set_default_timeout(BROWSER_TIMEOUT_MS)
    yield context
    context.close()


@pytest.mark.browser
@pytest.mark.parametrize("name", [
    pytest.param(name, marks=pytest.mark.xfail(strict=True, reason=KNOWN[name])) if name in KNOWN else name
    for name in KEY_PAGES])
def test_axe_finds_no_serious_violation(live_server, world, axe_context, name):
    """On the desktop, then on a phone with the main menu opened by its button."""
    page = open_page(axe_context.new_page(), live_server, world, name)
    violations = run_axe(page)
    assert not violations, f"axe-core on {name}:\n{describe(violations)}"
    page.set_viewport_size({"width": 375, "height": 812})
    toggle = page.locator("[data-menu-toggle]")
    if toggle.count():
        toggle.click()
        expect(toggle).to_have_attribute("aria-expanded", "true")  # CSP-safe (no string evaluation)
    violations = run_axe(page)
    assert not violations, f"axe-core on {name} at 375 px, menu open:\n{describe(violations)}"


@pytest.mark.browser
def test_axe_itself_reports_a_violation(live_server, axe_context):
    """The check can fail: an image without alternative text is a critical violation."""
    page = axe_context.new_page()
    page.goto(live_server("/login"))
    page.evaluate("() => { const i = document.createElement('img'); i.src = '/static/x.png';"
                  " document.querySelector('main').append(i); }")
    assert [v["id"] for v in run_axe(page)] == ["image-alt"]


#: every visible KRDS select: its colour, its contrast on white, and whether it shows a chosen value
SELECT_COLOURS = """() => {
  const lum = rgb => rgb.map(v => v / 255).map(v => v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4)
    .reduce((sum, v, i) => sum + v * [0.2126, 0.7152, 0.0722][i], 0);
  return [...document.querySelectorAll('select.krds-form-select:not([multiple])')]
    .filter(s => s.getClientRects().length)
    .map(s => {
      const rgb = getComputedStyle(s).color.match(/\\d+/g).slice(0, 3).map(Number);
      return {name: s.name, colour: `rgb(${rgb.join(', ')})`, contrast: 1.05 / (lum(rgb) + 0.05),
              chosen: s.value !== '', placeholder: s.required && s.value === ''};
    });
}"""
TEXT_BASIC = "rgb(30, 33, 36)"  # KRDS --krds-light-color-text-basic (gray-90)


@pytest.mark.browser
@pytest.mark.parametrize("name", ["statistics", "guardian-activity"])
def test_a_chosen_select_value_reads_as_text_not_as_a_placeholder(live_server, world, browser_page, name):
    selects = open_page(browser_page, live_server, world, name).evaluate(SELECT_COLOURS)
    assert selects, "no select on the page"
    for select in selects:
        assert select["contrast"] >= 4.5, select
        if not select["placeholder"]:
            assert select["colour"] == TEXT_BASIC, select
    if name == "guardian-activity":  # the empty "선택해 주세요" of a required select stays lighter
        assert any(s["placeholder"] and s["colour"] != TEXT_BASIC for s in selects), selects
