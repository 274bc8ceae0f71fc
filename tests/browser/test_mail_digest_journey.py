"""Journey in real Chromium (issue 17): an agency coordinator opens 내 계정 → 알림 받는 방법 and
enters an e-mail address; the verification message arrives at a real SMTP server (aiosmtpd on
127.0.0.1) and the browser opens its link; the coordinator then takes new referrals as a daily
digest at 18시.  Two schools' referrals are sent through the real services; the worker run before
18:00 KST sends nothing, the run after it sends one digest whose links start with IEUM_BASE_URL,
name no student, and open each referral's own page in the browser.  Both mail screens also pass
axe-core (tests/browser/test_accessibility.py)."""
from __future__ import annotations

import datetime as dt
import re

import pytest
from flask_login import login_user
from playwright.sync_api import expect
from sqlalchemy import select

from app.agencies.referrals import create_referral, send_referral
from app.auth.models import Organisation
from app.extensions import db
from app.notifications.mail_models import OutboxMessage
from app.notifications.mail_worker import deliver_due
from app.notifications.models import Notification
from app.notifications.mail_outbox import ALWAYS_IMMEDIATE_KINDS
from app.notifications.services import KINDS
from tests.browser.test_accessibility import axe_context, describe, run_axe  # noqa: F401  (fixture)
from tests.factories import Builder, consent_both
from tests.notifications.conftest import SmtpServer, mail_config

from .conftest import sign_in

ADDRESS = "seoyeon.han@agency-mail.test"
STUDENTS = ("한바다", "윤하늘")
KST = dt.timedelta(hours=9)
LOCKED_KINDS = [kind for kind in KINDS if kind in ALWAYS_IMMEDIATE_KINDS]


@pytest.fixture
def smtp():
    with SmtpServer() as server:
        yield server


@pytest.fixture
def live_app(make_app, smtp):
    """CSRF on, as in production, and mail going to the test's SMTP server."""
    return make_app(WTF_CSRF_ENABLED=True, **mail_config(smtp))


@pytest.fixture
def live_mail(live_server):
    """Links in messages start with the live server's address (known once it listens)."""
    live_server.app.config["IEUM_BASE_URL"] = live_server.url
    return live_server


def send_referrals(app, agency_id: int) -> list[str]:
    """Each of two schools' leads sends one referral to the agency (real services, in a request
    signed in as the lead, as the referral screen does); returns the referrals' uids in order."""
    uids = []
    with app.app_context():
        build = Builder()
        agency = db.session.get(Organisation, agency_id)
        for n, name in enumerate(STUDENTS):
            school = build.school(name=f"이음{n + 1}초등학교")
            lead = build.user("school_lead", organisation=school, display_name=f"교감{n + 1}")
            student = build.student(school, actor=lead, name=name)
            case = build.case(school, status="in_support", lead=lead, student=student)
            consent_both(case, lead, purposes=("agency_referral",), agency_kinds=["청소년상담복지센터"])
            db.session.commit()
            with app.test_request_context():
                login_user(lead)
                referral = create_referral(case, lead, agency=agency, reason="또래 관계 상담 연계",
                                           shared_items=["student_name", "needs"])
                send_referral(referral, lead)
                db.session.commit()
                uids.append(referral.uid)
    return uids


def expected_digest_time(created_at: dt.datetime) -> dt.datetime:
    """The first 18:00 in Seoul after ``created_at`` (naive UTC both)."""
    local = created_at + KST
    due = dt.datetime.combine(local.date(), dt.time(18))
    return (due if due > local else due + dt.timedelta(days=1)) - KST


@pytest.mark.browser
def test_a_daily_digest_arrives_with_links_that_open_the_right_pages(live_mail, smtp, browser_page, screenshot):
    live_server = live_mail
    app = live_server.app
    with app.app_context():
        build = Builder()
        agency = build.agency(name="마포구청소년상담복지센터")
        user = build.user("agency_coordinator", organisation=agency, login="han-agency", display_name="한서연")
        agency_id, user_id = agency.id, user.id

    # 1. 내 계정 → 알림 받는 방법: the address
    page = browser_page
    sign_in(page, live_server, "han-agency", "/home/agency")
    page.get_by_test_id("account-link").click()
    page.get_by_test_id("account-mail").get_by_role("link", name="알림 받는 방법").click()
    expect(page).to_have_url(live_server("/notifications/settings"))
    expect(page.get_by_role("heading", level=1)).to_have_text("알림 받는 방법")
    page.get_by_role("textbox", name="메일 주소").fill(ADDRESS)
    page.get_by_role("button", name="주소 등록").click()
    expect(page.get_by_role("status").first).to_contain_text("s***@agency-mail.test 주소로 확인 메일을 보냅니다")
    expect(page.get_by_test_id("pending-address")).to_contain_text("s***@agency-mail.test")

    # 2. the worker sends the link; the browser opens it from the message
    with app.app_context():
        assert deliver_due() == {"sent": 1, "retry": 0, "failed": 0}
    [verify] = smtp.to(ADDRESS)
    links = re.findall(r"https?://\S+", verify.body)
    link = next(url for url in links if "/notifications/settings/verify/" in url)
    assert link.startswith(live_server.url + "/notifications/settings/verify/")
    page.goto(link)
    expect(page).to_have_url(live_server("/notifications/settings"))
    expect(page.get_by_role("status").first).to_contain_text("메일 주소를 확인했습니다.")
    expect(page.get_by_test_id("verified-address")).to_contain_text("s***@agency-mail.test")
    expect(page.get_by_test_id("pending-address")).to_have_count(0)

    # 3. new referrals once a day at 18시
    choices = page.get_by_test_id("form-choices")
    choices.get_by_label("모아 받는 시각 (한국 시간)").select_option(label="18시")
    choices.get_by_label("기관 의뢰", exact=True).select_option(label="하루 한 번 모아서")
    choices.get_by_role("button", name="저장").click()
    expect(page.get_by_role("status").first).to_contain_text("알림 받는 방법을 저장했습니다.")
    expect(page.get_by_test_id("form-choices").get_by_label("기관 의뢰", exact=True)).to_have_value("digest")
    screenshot(page, "mail-settings")

    # 4. two referrals arrive: two alerts in Ieum, two digest rows waiting for 18:00 KST
    uids = send_referrals(app, agency_id)
    with app.app_context():
        rows = list(db.session.execute(select(OutboxMessage).where(
            OutboxMessage.user_id == user_id, OutboxMessage.purpose == "alert")).scalars())
        assert [(row.kind, row.digest, row.status) for row in rows] == [("referral", True, "pending")] * 2
        due = expected_digest_time(max(row.created_at for row in rows))
        assert {row.due_at for row in rows} == {due}
        assert db.session.execute(select(Notification).where(
            Notification.user_id == user_id, Notification.kind == "referral")).scalars().all()
        assert deliver_due(now=due - dt.timedelta(minutes=1)) == {"sent": 0, "retry": 0, "failed": 0}
        assert len(smtp.to(ADDRESS)) == 1
        assert deliver_due(now=due + dt.timedelta(minutes=1)) == {"sent": 1, "retry": 0, "failed": 0}

    # 5. one digest: both referrals, the senders, links into Ieum, no student
    messages = smtp.to(ADDRESS)
    assert len(messages) == 2
    digest = messages[1]
    assert digest.subject == "[이음] 오늘의 알림 2건"
    assert "이음1초등학교" in digest.body and "이음2초등학교" in digest.body
    for private in (*STUDENTS, "또래 관계", "교감1", "한서연"):
        assert private not in digest.text, private
    item_links = [url for url in re.findall(r"https?://\S+", digest.body) if "/agencies/inbox/" in url]
    assert item_links == [f"{live_server.url}/agencies/inbox/{uid}" for uid in uids]
    assert all(url.startswith(app.config["IEUM_BASE_URL"]) for url in re.findall(r"https?://\S+", digest.body))

    # 6. each link opens its own referral in the signed-in browser
    for url, name in zip(item_links, STUDENTS):
        page.goto(url)
        expect(page).to_have_url(url)
        expect(page.get_by_test_id("referral-heading")).to_contain_text(name)
    screenshot(page, "mail-digest-link")
    settings_link = next(url for url in re.findall(r"https?://\S+", digest.body) if url.endswith("/settings"))
    page.goto(settings_link)
    expect(page.get_by_role("heading", level=1)).to_have_text("알림 받는 방법")


@pytest.mark.browser
def test_the_mail_screens_pass_axe(live_mail, axe_context):
    """알림 받는 방법 (a lead's, with locked kinds and an address refused next to its field) and
    메일 발송 현황: no serious or critical WCAG A/AA violation."""
    live_server = live_mail
    with live_server.app.app_context():
        build = Builder()
        build.user("school_lead", login="kim-lead")
        build.user("admin", login="park-admin")
    page = axe_context.new_page()
    sign_in(page, live_server, "kim-lead", "/home/lead")
    page.goto(live_server("/notifications/settings"))
    page.get_by_role("textbox", name="메일 주소").fill("not-an-address")
    page.get_by_role("button", name="주소 등록").click()
    expect(page.locator("#address-error")).to_contain_text("메일 주소 형식이 올바르지 않습니다")
    expect(page.get_by_test_id("locked-mode")).to_have_count(len(LOCKED_KINDS))
    violations = run_axe(page)
    assert not violations, f"axe-core on 알림 받는 방법:\n{describe(violations)}"
    page.context.clear_cookies()
    sign_in(page, live_server, "park-admin", "/home/admin")
    page.get_by_role("navigation", name="주 메뉴").get_by_role("link", name="메일 발송 현황").click()
    expect(page.get_by_test_id("mail-configured")).to_be_visible()
    violations = run_axe(page)
    assert not violations, f"axe-core on 메일 발송 현황:\n{describe(violations)}"
