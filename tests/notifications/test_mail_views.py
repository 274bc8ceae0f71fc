"""The e-mail alert screens (issue 17): 알림 받는 방법 for every role (address with its check, the
digest hour, a mode per kind, locked kinds a crafted POST cannot change), the verification link
(someone else's, expired, tampered) and the administrator's 메일 발송 현황 (counts, failures,
no recipient and no content; every other role refused and audited)."""
from __future__ import annotations

import datetime as dt
import html as htmllib
import json
import re

import pytest
from flask import g
from freezegun import freeze_time
from sqlalchemy import func, select, text as sql

from app.audit.models import AuditEvent
from app.extensions import db
from app.db import utcnow
from app.notifications.mail_models import MailPreference, MailSettings, OutboxMessage
from app.notifications.mail_outbox import ALWAYS_IMMEDIATE_KINDS, mode_for
from app.notifications.mail_worker import deliver_due
from app.notifications.services import KINDS, notify
from app.permissions import ROLES

from ..factories import DEFAULT_PASSWORD
from ..factories import Builder
from .conftest import BASE_URL, mail_config, outbox

ADDRESS = "hong.gildong@school-mail.test"
#: the kinds a school lead or coordinator cannot switch off (those the app sends today)
LOCKED = [kind for kind in KINDS if kind in ALWAYS_IMMEDIATE_KINDS]


def page_text(response) -> str:
    return htmllib.unescape(response.get_data(as_text=True))


def sign_in(app, user):
    """A new client signed in as ``user``."""
    g.pop("_login_user", None)
    client = app.test_client()
    response = client.post("/login", data={"login": user.login, "password": DEFAULT_PASSWORD})
    assert response.status_code == 302, response.get_data(as_text=True)[:300]
    return client


def last_event_id() -> int:
    return db.session.execute(select(func.coalesce(func.max(AuditEvent.id), 0))).scalar_one()


def events_after(before: int) -> list[AuditEvent]:
    db.session.rollback()
    return list(db.session.execute(select(AuditEvent).where(AuditEvent.id > before).order_by(AuditEvent.id)).scalars())


def settings_of(user) -> MailSettings | None:
    db.session.expire_all()
    return db.session.execute(select(MailSettings).filter_by(user_id=user.id)).scalar_one_or_none()


def all_modes(**overrides) -> dict:
    """A full choices form: every kind at ``digest`` unless overridden."""
    return {"digest_hour": "8", **{f"mode_{kind}": "digest" for kind in KINDS}, **overrides}


def token_of(row: OutboxMessage) -> str:
    return row.link.rsplit("/", 1)[1]


@pytest.fixture
def build_in():
    """Builders for an app of the test's own (``build`` needs the ``app`` fixture's)."""
    return Builder()


# -- 알림 받는 방법 ---------------------------------------------------------------------------------

def test_every_role_opens_the_settings_page_linked_from_account_and_alerts(app, build):
    for role in ROLES:
        user = build.user(role)
        client = sign_in(app, user)
        page = page_text(client.get("/notifications/settings"))
        assert "<h1 class=\"ieum-page-title\">알림 받는 방법</h1>" in page, role
        assert page.count('data-testid="mode-row"') == len(KINDS), role
        # no server in the test config: the page says so and the address form is disabled
        assert 'data-testid="mail-not-configured"' in page and "<fieldset disabled>" in page, role
        for where in ("/account", "/notifications/"):
            assert 'href="/notifications/settings"' in client.get(where).get_data(as_text=True), (role, where)
    anonymous = app.test_client().get("/notifications/settings")
    assert anonymous.status_code == 302 and "/login" in anonymous.headers["Location"]


@pytest.mark.parametrize("typed", ["", "hong", "hong@", "@school.test", "hong@school", "hong gil@school.test",
                                   "hong@school..test", ".hong@school.test", "hong@school.test\r\nBcc: x@evil.test",
                                   "a@b.c", "x" * 250 + "@school.test"])
def test_an_invalid_address_is_refused_next_to_the_field_and_changes_nothing(mail_app, build, typed):
    user = build.user("school_staff")
    client = sign_in(mail_app, user)
    before = last_event_id()
    response = client.post("/notifications/settings/address", data={"address": typed})
    assert response.status_code == 400
    page = page_text(response)
    field_error = re.search(r'<p class="form-hint-invalid" id="address-error">([^<]*)</p>', page)
    assert field_error and re.search(r"[가-힣]", field_error.group(1)), page[:2000]
    assert 'aria-invalid="true"' in page
    assert settings_of(user) is None and outbox() == []
    assert [e.action for e in events_after(before)] == []


def test_without_a_mail_server_an_address_cannot_be_entered(app, build):
    user = build.user("school_lead")
    client = sign_in(app, user)
    response = client.post("/notifications/settings/address", data={"address": ADDRESS})
    assert response.status_code == 400
    assert "메일 서버가 설정되지 않아" in page_text(response)
    assert settings_of(user) is None and outbox() == []


def test_an_address_is_used_only_after_its_link_is_opened(mail_app, build, smtp_server):
    user = build.user("school_staff")
    client = sign_in(mail_app, user)
    page = page_text(client.get("/notifications/settings"))
    assert 'data-testid="mail-not-configured"' not in page and "<fieldset>" in page
    response = client.post("/notifications/settings/address", data={"address": f"  {ADDRESS} "})
    assert response.status_code == 302
    page = page_text(client.get(response.headers["Location"]))
    assert "h***@school-mail.test 주소로 확인 메일을 보냅니다" in page
    assert re.search(r'data-testid="pending-address">h\*\*\*@school-mail\.test', page)
    assert ADDRESS not in page  # masked on the screen
    assert settings_of(user).verified_at is None
    # an alert meanwhile goes nowhere by mail: the address is not verified yet
    notify(user.id, "referral", "의뢰 알림")
    db.session.commit()
    assert [row.purpose for row in outbox()] == ["verify"]

    assert deliver_due()["sent"] == 1
    [message] = smtp_server.to(ADDRESS)
    link = next(line for line in message.body.splitlines() if "/notifications/settings/verify/" in line).strip()
    assert link.startswith(BASE_URL + "/notifications/settings/verify/")
    opened = client.get(link[len(BASE_URL):])
    assert opened.status_code == 302 and opened.headers["Location"].endswith("/notifications/settings")
    page = page_text(client.get("/notifications/settings"))
    assert "메일 주소를 확인했습니다." in page
    assert re.search(r'data-testid="verified-address">h\*\*\*@school-mail\.test', page)
    assert 'data-testid="pending-address"' not in page
    settings = settings_of(user)
    assert settings.address == ADDRESS and settings.verified_at is not None and settings.pending is None
    raw = db.session.execute(sql("SELECT address_enc FROM mail_settings WHERE user_id = :u"), {"u": user.id}).scalar()
    assert raw and ADDRESS.encode() not in (raw.encode() if isinstance(raw, str) else bytes(raw))
    # opening it again changes nothing
    again = client.get(link[len(BASE_URL):], follow_redirects=True)
    assert again.status_code == 200 and again.request.path == "/notifications/settings"
    assert settings_of(user).address == ADDRESS and settings_of(user).pending is None


def test_a_link_opened_by_another_account_is_refused_and_audited(mail_app, build):
    owner, other = build.user("school_staff"), build.user("school_staff")
    sign_in(mail_app, owner).post("/notifications/settings/address", data={"address": ADDRESS})
    [row] = outbox(purpose="verify")
    intruder = sign_in(mail_app, other)
    before = last_event_id()
    page = page_text(intruder.get(f"/notifications/settings/verify/{token_of(row)}", follow_redirects=True))
    assert "이 링크는 지금 확인을 기다리는 메일 주소의 링크가 아닙니다" in page
    assert ("mail_address_verify_refused", other.id, "denied") in {
        (e.action, e.actor_id, e.outcome) for e in events_after(before)}
    assert settings_of(owner).verified_at is None and settings_of(owner).pending == ADDRESS
    assert settings_of(other) is None


def test_a_link_for_an_address_replaced_since_is_refused(mail_app, build):
    user = build.user("agency_coordinator")
    client = sign_in(mail_app, user)
    client.post("/notifications/settings/address", data={"address": ADDRESS})
    client.post("/notifications/settings/address", data={"address": "second@school-mail.test"})
    first, second = outbox(purpose="verify")
    page = page_text(client.get(f"/notifications/settings/verify/{token_of(first)}", follow_redirects=True))
    assert "지금 확인을 기다리는 메일 주소의 링크가 아닙니다" in page and settings_of(user).verified_at is None
    client.get(f"/notifications/settings/verify/{token_of(second)}")
    assert settings_of(user).address == "second@school-mail.test"


def test_a_link_opened_signed_out_works_after_signing_in(mail_app, build):
    user = build.user("school_staff")
    sign_in(mail_app, user).post("/notifications/settings/address", data={"address": ADDRESS})
    path = f"/notifications/settings/verify/{token_of(outbox(purpose='verify')[0])}"
    g.pop("_login_user", None)
    browser = mail_app.test_client()
    first = browser.get(path)
    assert first.status_code == 302 and "/login" in first.headers["Location"] and "next=" in first.headers["Location"]
    assert settings_of(user).verified_at is None
    signed_in = browser.post("/login", data={"login": user.login, "password": DEFAULT_PASSWORD, "next": path})
    assert signed_in.headers["Location"].endswith(path)
    assert "메일 주소를 확인했습니다." in page_text(browser.get(path, follow_redirects=True))
    assert settings_of(user).address == ADDRESS


@pytest.mark.parametrize("hours, verified", [(47, True), (49, False)])
def test_a_link_works_for_48_hours(mail_app, build, hours, verified):
    start = dt.datetime(2026, 12, 1, 1, 0)
    user = build.user("school_staff")
    with freeze_time(start):
        response = sign_in(mail_app, user).post("/notifications/settings/address", data={"address": ADDRESS})
        assert response.status_code == 302
    [row] = outbox(purpose="verify")
    with freeze_time(start + dt.timedelta(hours=hours)):
        client = sign_in(mail_app, user)  # the first session is long idle
        page = page_text(client.get(f"/notifications/settings/verify/{token_of(row)}", follow_redirects=True))
    assert ("메일 주소를 확인했습니다." in page) is verified
    assert ("유효 시간(48시간)이 지났습니다" in page) is not verified
    assert (settings_of(user).verified_at is not None) is verified


@pytest.mark.parametrize("tamper", ["flip", "foreign_key", "garbage"])
def test_a_tampered_link_is_refused(mail_app, build, tamper):
    from itsdangerous import URLSafeTimedSerializer
    user = build.user("guardian")
    client = sign_in(mail_app, user)
    client.post("/notifications/settings/address", data={"address": ADDRESS})
    token = token_of(outbox(purpose="verify")[0])
    body, signature = token.rsplit(".", 1)
    forged = {
        "flip": f"{body}.{signature[:-2]}{'AA' if signature[-2:] != 'AA' else 'BB'}",
        "foreign_key": URLSafeTimedSerializer("another-secret", salt="ieum-mail-verify").dumps({"u": user.uid}),
        "garbage": "x" * 40,
    }[tamper]
    response = client.get(f"/notifications/settings/verify/{forged}", follow_redirects=True)
    assert response.status_code == 200 and "확인 링크가 올바르지 않습니다." in page_text(response)
    assert settings_of(user).verified_at is None and settings_of(user).pending == ADDRESS


def test_choices_are_saved_and_audited(app, build):
    user = build.user("school_staff")
    client = sign_in(app, user)
    assert mode_for(user, "referral") == "immediate" and mode_for(user, "case") == "digest"
    before = last_event_id()
    response = client.post("/notifications/settings", data=all_modes(digest_hour="18", mode_referral="none",
                                                                      mode_case="immediate"))
    assert response.status_code == 302
    assert "알림 받는 방법을 저장했습니다." in page_text(client.get("/notifications/settings"))
    db.session.expire_all()
    assert mode_for(user, "referral") == "none" and mode_for(user, "case") == "immediate"
    assert mode_for(user, "concern") == "digest"  # a teacher may change concerns
    assert settings_of(user).digest_hour == 18
    [event] = [e for e in events_after(before) if e.action == "mail_preferences_changed"]
    details = json.loads(event.details)
    assert event.actor_id == user.id and details["digest_hour"] == 18
    assert details["modes"]["referral"] == "none" and details["modes"]["case"] == "immediate"
    # the page shows what was saved
    page = page_text(client.get("/notifications/settings"))
    assert re.search(r'<option selected value="18">18시</option>', page)
    assert re.search(r'name="mode_referral"[^>]*>(?:(?!</select>).)*<option selected value="none">', page, re.S)


@pytest.mark.parametrize("change", [{"digest_hour": "24"}, {"digest_hour": "-1"}, {"digest_hour": "soon"},
                                    {"mode_referral": "hourly"}, {"mode_case": None}])
def test_an_invalid_choice_changes_nothing(app, build, change):
    user = build.user("school_staff")
    client = sign_in(app, user)
    data = all_modes(**{"mode_referral": "none", **change})
    data = {key: value for key, value in data.items() if value is not None}
    response = client.post("/notifications/settings", data=data)
    assert response.status_code == 400
    assert re.search(r'class="form-hint-invalid"[^>]*>[^<]*[가-힣]', page_text(response))
    db.session.expire_all()
    assert db.session.execute(select(func.count()).select_from(MailPreference)).scalar_one() == 0
    assert settings_of(user) is None


@pytest.mark.parametrize("role", ["school_lead", "district_coordinator"])
def test_locked_kinds_are_shown_fixed_and_a_crafted_post_cannot_change_them(app, build, role):
    user = build.user(role)
    client = sign_in(app, user)
    page = page_text(client.get("/notifications/settings"))
    for kind in LOCKED:
        row = re.search(rf'<tr data-testid="mode-row" data-kind="{kind}" data-locked="1">(.*?)</tr>', page, re.S)
        assert row and "즉시 (끌 수 없음)" in row.group(1) and "<select" not in row.group(1), kind
    assert 'name="mode_referral"' in page
    crafted = all_modes(**{f"mode_{kind}": "none" for kind in LOCKED})
    assert client.post("/notifications/settings", data=crafted).status_code == 302
    db.session.expire_all()
    for kind in LOCKED:
        assert mode_for(user, kind) == "immediate", kind
        assert db.session.get(MailPreference, (user.id, kind)) is None, kind
    assert mode_for(user, "referral") == "digest"  # the rest of the form was saved


def test_removing_the_address_stops_mail(mail_app, build, with_address):
    user = build.user("school_staff")
    with_address(user, ADDRESS)
    notify(user.id, "referral", "의뢰 알림")
    db.session.commit()
    client = sign_in(mail_app, user)
    assert re.search(r'data-testid="verified-address">h\*\*\*@', page_text(client.get("/notifications/settings")))
    response = client.post("/notifications/settings/address/remove", follow_redirects=True)
    assert "메일 주소를 지웠습니다." in page_text(response)
    settings = settings_of(user)
    assert settings.address is None and settings.verified_at is None
    assert [(row.status, row.last_error) for row in outbox()] == [("failed", "address_removed")]
    assert 'data-testid="form-remove-address"' not in page_text(client.get("/notifications/settings"))


# -- 메일 발송 현황 ---------------------------------------------------------------------------------

def test_only_administrators_see_the_outbox_and_others_are_audited(app, build):
    for role in ROLES:
        if role == "admin":
            continue
        user = build.user(role)
        client = sign_in(app, user)
        before = last_event_id()
        assert client.get("/notifications/outbox").status_code == 403, role
        assert [(e.action, e.actor_id) for e in events_after(before)] == [("permission_denied", user.id)], role
        assert "/notifications/outbox" not in client.get("/notifications/").get_data(as_text=True), role
    admin = build.user("admin")
    client = sign_in(app, admin)
    assert 'href="/notifications/outbox"' in client.get("/home/admin").get_data(as_text=True)  # the menu
    before = last_event_id()
    page = page_text(client.get("/notifications/outbox"))
    assert [(e.action, e.actor_id) for e in events_after(before)] == [("mail_outbox_viewed", admin.id)]
    assert 'data-testid="mail-not-configured"' in page and "메일 서버가 설정되지 않았습니다" in page


def count_in(page: str, testid: str) -> int:
    found = re.search(rf'data-testid="{testid}"[^>]*>.*?<td class="num">(\d+)</td>', page, re.S)
    assert found, testid
    return int(found.group(1))


def test_the_outbox_page_shows_the_state_but_no_recipient_and_no_content(mail_app, build, with_address,
                                                                         smtp_server):
    mail_app.config["MAIL_PASSWORD"] = "smtp-secret-pw"
    staff = [build.user("school_staff") for _ in range(4)]
    addresses = [with_address(user, f"teacher{i}@private-mail.test") for i, user in enumerate(staff)]
    secret = "김비밀 학생의 가정 사정"
    notify(staff[0].id, "referral", secret)  # refused for good
    db.session.commit()
    smtp_server.refuse(1, 550)
    assert deliver_due()["failed"] == 1
    notify(staff[1].id, "referral", secret)  # refused for now: retried later
    db.session.commit()
    smtp_server.refuse(1, 451)
    assert deliver_due()["retry"] == 1
    notify(staff[2].id, "case", secret)  # waits for the digest hour
    notify(staff[3].id, "referral", secret)  # due now: no worker ran yet
    db.session.commit()

    admin = build.user("admin")
    client = sign_in(mail_app, admin)
    page = page_text(client.get("/notifications/outbox"))
    assert 'data-testid="mail-configured"' in page
    assert f"127.0.0.1:{smtp_server.port}" in page and "ieum@ieum.test" in page and BASE_URL in page
    assert "smtp-secret-pw" not in page
    states = dict(re.findall(r'data-testid="state-count" data-state="(\w+)">.*?<td class="num">(\d+)</td>', page, re.S))
    assert states == {"pending": "3", "sent": "0", "failed": "1"}
    assert (count_in(page, "due-now"), count_in(page, "waiting-digest"), count_in(page, "waiting-retry"),
            count_in(page, "verified-users")) == (1, 1, 1, 4)
    failures = page[page.index('data-testid="outbox-failures"'):page.index('data-testid="outbox-rows"')]
    assert failures.count('data-testid="failure-row"') == 1 and "SMTPDataError:550" in failures
    assert "기관 의뢰" in failures
    assert page.count('data-testid="outbox-row"') == 4
    for private in [secret, "김비밀", *addresses, "private-mail", *(u.login for u in staff)]:
        assert private not in page, private
    for user in staff:
        assert not re.search(rf"{user.display_name}(?!\d)", page), user.display_name
    # the filter, and a worker that stopped: rows due long ago are pointed out
    only_failed = page_text(client.get("/notifications/outbox?status=failed"))
    assert only_failed.count('data-testid="outbox-row"') == 1
    assert 'data-testid="outbox-stale"' not in page
    with freeze_time(utcnow() + dt.timedelta(minutes=20)):
        later = page_text(sign_in(mail_app, admin).get("/notifications/outbox"))
    assert 'data-testid="outbox-stale"' in later


def test_the_outbox_list_is_paginated(mail_app, build, with_address):
    from app.notifications import mail_views
    users = [build.user("school_staff") for _ in range(3)]
    for user in users:
        with_address(user)
        for i in range(12):
            notify(user.id, "referral", f"알림 {i}")
    db.session.commit()
    client = sign_in(mail_app, build.user("admin"))
    first = page_text(client.get("/notifications/outbox"))
    assert first.count('data-testid="outbox-row"') == mail_views.OUTBOX_PAGE_SIZE and "page=2" in first
    second = page_text(client.get("/notifications/outbox?page=2"))
    assert second.count('data-testid="outbox-row"') == 36 - mail_views.OUTBOX_PAGE_SIZE



def test_verification_mails_are_limited_per_user(make_app, build_in):
    """Each request sends a message to an address the user typed: five an hour, then 429."""
    app = make_app(RATELIMIT_ENABLED=True, **mail_config(port=2525))
    with app.app_context():
        user, other = build_in.user("school_staff"), build_in.user("school_staff")
        client = sign_in(app, user)
        answers = [client.post("/notifications/settings/address", data={"address": f"n{i}@school-mail.test"})
                   .status_code for i in range(6)]
        assert answers == [302] * 5 + [429]
        assert len(outbox(purpose="verify")) == 5
        assert sign_in(app, other).post("/notifications/settings/address",
                                        data={"address": ADDRESS}).status_code == 302
