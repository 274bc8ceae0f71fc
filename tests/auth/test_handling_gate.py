"""The clearance gate under freezegun: an approved account whose yearly training lapses can still
sign in, but every page that shows personal data sends it to /account/clearance, which shows no
student; each blocked request is audited.  One world of every feature (tests/test_lifecycle_matrix.py)."""
from __future__ import annotations

import datetime as dt
import json

import pytest
from freezegun import freeze_time
from sqlalchemy import select

from app.audit.models import AuditEvent
from app.db import today_kst, utcnow
from app.extensions import db
from tests.factories import DEFAULT_PASSWORD
from tests.test_lifecycle_matrix import world  # noqa: F401  (the fixture)

#: the password tests/guardians/conftest.make_eligible_guardian gives the guardian logins it makes
GUARDIAN_PASSWORD = "Guardian-pass-2026!"
#: (who, path) — every page that can show personal data, for the role that opens it
PAGES = [
    ("lead", "/"), ("lead", "/home/lead"), ("staff", "/home/school"), ("coordinator", "/home/district"),
    ("guardian_user", "/home/guardian"), ("agency_user", "/home/agency"), ("auditor", "/home/auditor"),
    ("admin", "/home/admin"),
    ("lead", "/cases/"), ("lead", "/cases/{case}"), ("coordinator", "/cases/{case}"),
    ("lead", "/students/"), ("lead", "/students/{student}"),
    ("coordinator", "/guardians/"), ("coordinator", "/guardians/{guardian}"),
    ("guardian_user", "/guardians/me"), ("guardian_user", "/guardians/me/{assignment}"),
    ("agency_user", "/agencies/inbox"), ("agency_user", "/agencies/inbox/{referral}"),
    ("lead", "/agencies/referrals/{referral}"),
    ("lead", "/conferences/"), ("lead", "/conferences/{conference}"), ("staff", "/conferences/{conference}"),
    ("lead", "/notifications/"), ("guardian_user", "/notifications/"),
    ("auditor", "/audit/"), ("auditor", "/audit/review"), ("auditor", "/audit/overrides"), ("auditor", "/audit/export"),
    ("admin", "/handling/"),
]
#: pages that show the student's name (or, to a guardian, given name) to a cleared account
SHOWS_STUDENT = {"/home/lead", "/cases/", "/cases/{case}", "/students/", "/students/{student}",
                 "/guardians/{guardian}", "/guardians/me", "/guardians/me/{assignment}", "/agencies/inbox",
                 "/agencies/inbox/{referral}", "/agencies/referrals/{referral}", "/conferences/{conference}"}


@pytest.fixture
def people(world, build):  # noqa: F811
    """The world's accounts plus an auditor and an admin, all trained today; and the page ids."""
    world.auditor = build.user("auditor", organisation=build.organisation("city_office"))
    world.admin = build.user("admin", organisation=build.organisation("city_office"))
    ids = {"case": world.case.uid, "student": world.case.student.uid, "guardian": world.guardian.uid,
           "assignment": world.assignment.uid, "referral": world.in_service.uid, "conference": world.conference.uid}
    names = (world.case.student.name, world.case.student.given_name)
    return world, ids, names


def _sign_in(client, user) -> None:
    client.post("/logout")
    password = GUARDIAN_PASSWORD if user.role == "guardian" else DEFAULT_PASSWORD
    response = client.post("/login", data={"login": user.login, "password": password})
    assert response.status_code == 302, response.get_data(as_text=True)


def _blocked(since: int) -> list[AuditEvent]:
    return list(db.session.execute(select(AuditEvent).where(
        AuditEvent.id > since, AuditEvent.action == "clearance_blocked")).scalars())


def _last_event_id() -> int:
    return db.session.execute(select(AuditEvent.id).order_by(AuditEvent.id.desc()).limit(1)).scalar_one()


@pytest.mark.parametrize("who, path", PAGES, ids=[f"{who}:{path}" for who, path in PAGES])
def test_a_lapsed_training_shows_no_personal_data(client, people, who, path):
    w, ids, names = people
    user = getattr(w, who)
    url = path.format(**ids)
    trained_on = user.training_on
    assert trained_on == today_kst()
    # cleared: the page opens (and shows the student where it does)
    _sign_in(client, user)
    response = client.get(url, follow_redirects=True)
    assert response.status_code == 200 and response.request.path != "/account/clearance", url
    if path in SHOWS_STUDENT:
        assert names[1] in response.get_data(as_text=True), url
    # a year and a day later (15:00 UTC = midnight in Seoul) the training has lapsed
    lapsed = dt.datetime.combine(trained_on + dt.timedelta(days=366), dt.time(15)) - dt.timedelta(days=1)
    with freeze_time(lapsed):
        assert today_kst() == trained_on + dt.timedelta(days=366)
        _sign_in(client, user)  # signing in still works
        since = _last_event_id()
        response = client.get(url)
        assert response.status_code == 303 and response.headers["Location"] == "/account/clearance", url
        followed = client.get(url, follow_redirects=True)
        page = followed.get_data(as_text=True)
        assert followed.status_code == 200 and followed.request.path == "/account/clearance"
        assert "개인정보 보호 교육의 유효기간이" in page and "교육 유효기간" in page
        for name in names:
            assert name not in page, (url, name)
        blocked = _blocked(since)
        assert len(blocked) == 2  # one per blocked request, never one per redirect hop
        assert all(e.outcome == "denied" and e.actor_id == user.id for e in blocked)
        assert json.loads(blocked[0].details)["reason"] == "training_lapsed"


def test_the_last_valid_day_still_opens(client, people):
    w, ids, names = people
    last_day = w.lead.training_on + dt.timedelta(days=365)
    # 23:59 in Seoul on the last valid day
    with freeze_time(dt.datetime.combine(last_day, dt.time(14, 59))):
        _sign_in(client, w.lead)
        response = client.get(f"/cases/{ids['case']}")
        assert response.status_code == 200 and names[0] in response.get_data(as_text=True)
    with freeze_time(dt.datetime.combine(last_day, dt.time(15, 0))):  # midnight: lapsed
        assert client.get(f"/cases/{ids['case']}").status_code == 303


def test_posts_are_stopped_too(client, people):
    w, ids, _names = people
    with freeze_time(utcnow() + dt.timedelta(days=400)):
        _sign_in(client, w.lead)
        response = client.post(f"/cases/{ids['case']}/notes", data={"kind": "observation", "body": "기록"})
        assert response.status_code == 303 and response.headers["Location"] == "/account/clearance"


@pytest.mark.parametrize("missing", ["approval", "training"])
def test_an_account_without_clearance_keeps_its_own_pages(client, login, build, missing):
    """Sign-in, the account page, password change, language, logout and the notice stay open."""
    user = build.user("school_staff", cleared=False)
    if missing == "training":
        user.handling_approved_at = utcnow()
        db.session.commit()
    response = login(user)
    assert response.status_code == 302
    home = client.get("/", follow_redirects=True)
    assert home.request.path == "/account/clearance"
    page = home.get_data(as_text=True)
    reason = "취급승인을 받지 않았습니다" if missing == "approval" else "교육 이수 기록이 없습니다"
    assert reason in page and "시스템 관리자에게" in page and 'data-testid="clearance-blocked"' in page
    assert 'href="/cases/"' not in page  # no menu to pages it cannot open
    assert client.get("/account").status_code == 200
    assert client.get("/account/clearance").status_code == 200
    assert client.post("/lang/en", data={"back": "/account"}).status_code == 302
    assert client.post("/account/password", data={"current": DEFAULT_PASSWORD, "new": "Quiet-lantern-river-58",
                                                  "confirm": "Quiet-lantern-river-58"}).status_code == 302
    for url in ("/home/school", "/cases/", "/students/", "/notifications/", "/conferences/"):
        assert client.get(url).headers["Location"] == "/account/clearance", url
    events = list(db.session.execute(select(AuditEvent).filter_by(action="clearance_blocked")).scalars())
    assert len(events) == 6 and {json.loads(e.details)["reason"] for e in events} == {
        "not_approved" if missing == "approval" else "no_training"}
    assert client.post("/logout").headers["Location"] == "/login"


def test_a_cleared_account_sees_its_dates_on_the_notice(client, login, build):
    user = build.user("school_staff")
    login(user)
    page = client.get("/account/clearance").get_data(as_text=True)
    until = user.training_on + dt.timedelta(days=365)
    assert 'data-testid="clearance-ok"' in page and f"{until.year}. {until.month}. {until.day}." in page
    assert not list(db.session.execute(select(AuditEvent).filter_by(action="clearance_blocked")).scalars())


def test_a_guardian_is_told_to_ask_the_district_office(client, login, build):
    user = build.user("guardian", cleared=False)
    login(user)
    page = client.get("/home/guardian", follow_redirects=True).get_data(as_text=True)
    assert "소속 교육지원청 담당자에게 개인정보 취급승인을 요청해 주세요" in page


def test_the_admin_approval_screens_need_clearance_too(client, login, build):
    admin = build.user("admin", organisation=build.organisation("city_office"), cleared=False)
    other = build.user("school_staff", cleared=False)
    login(admin)
    for method, url in (("get", "/handling/"), ("get", f"/handling/{other.uid}"),
                        ("post", f"/handling/{other.uid}/approve")):
        assert getattr(client, method)(url).headers["Location"] == "/account/clearance", url
    db.session.refresh(other)
    assert other.handling_approved_at is None
