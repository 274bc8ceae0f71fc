"""Auditor pages: permissions, search filters, keyset pagination, no decrypted names."""
from __future__ import annotations

import json
import re

import pytest
from flask import g
from freezegun import freeze_time
from sqlalchemy import func, select

from app.audit import views
from app.audit.models import AuditEvent, AuditReview
from app.audit.services import record
from app.db import today_kst, utcnow
from app.permissions import ROLES

from ..factories import DEFAULT_PASSWORD

GET_ENDPOINTS = ["/audit/", "/audit/review", "/audit/export"]
POST_ENDPOINTS = [
    ("/audit/review/mark", {"mark-month": "2026-01", "mark-comment": "점검함"}),
    ("/audit/export", {"start": "2026-01-01", "end": "2026-01-31", "fmt": "csv", "reason": "점검"}),
]
SECRET_NAME = "비밀스러운홍길동"


def event_ids(page: str) -> list[int]:
    return [int(i) for i in re.findall(r'data-event-id="(\d+)"', page)]


def events(db, action: str) -> list[AuditEvent]:
    return list(db.session.execute(select(AuditEvent).filter_by(action=action).order_by(AuditEvent.id)).scalars())


def sign_in(app, user):
    """A new client logged in as ``user``.

    The ``app`` fixture keeps one app context pushed, so ``g`` (and Flask-Login's cached
    user in it) outlives a request; drop it so the next client starts anonymous.
    """
    g.pop("_login_user", None)
    other = app.test_client()
    other.post("/login", data={"login": user.login, "password": DEFAULT_PASSWORD})
    return other


def at(when: str, action: str, actor=None, **fields) -> int:
    """Record one event at a UTC instant and commit it; returns its id."""
    from app.extensions import db
    with freeze_time(when):
        event_id = record(action, actor=actor, **fields).id
    db.session.commit()
    return event_id


# -- permissions -----------------------------------------------------------------------------

@pytest.mark.parametrize("url", GET_ENDPOINTS)
@pytest.mark.parametrize("role", sorted(ROLES))
def test_only_the_auditor_may_open_audit_pages(role, url, client, build, login, db):
    user = build.user(role)
    login(user)
    response = client.get(url)
    if role == "auditor":
        assert response.status_code == 200
    else:
        assert response.status_code == 403
        denied = events(db, "permission_denied")
        assert [(e.actor_id, e.outcome) for e in denied] == [(user.id, "denied")]
        assert denied[0].object_id.startswith("audit.")


@pytest.mark.parametrize("url,data", POST_ENDPOINTS)
@pytest.mark.parametrize("role", sorted(set(ROLES) - {"auditor"}))
def test_other_roles_cannot_mark_or_export(role, url, data, client, build, login, db):
    user = build.user(role)
    login(user)
    response = client.post(url, data=data)
    assert response.status_code == 403
    assert db.session.scalar(select(func.count()).select_from(AuditReview)) == 0
    assert events(db, "access_review_marked") == [] and events(db, "audit_exported") == []
    assert len(events(db, "permission_denied")) == 1


@pytest.mark.parametrize("url", GET_ENDPOINTS)
def test_anonymous_is_sent_to_login(url, client):
    response = client.get(url)
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_nav_shows_audit_entries_to_the_auditor_only(client, build, login, app):
    login(build.user("auditor"))
    page = client.get("/audit/").get_data(as_text=True)
    for label in ("접속기록 조회", "접속기록 점검", "접속기록 내보내기"):
        assert label in page
    other = sign_in(app, build.user("school_lead"))
    home = other.get("/", follow_redirects=True).get_data(as_text=True)
    assert "/audit/" not in home


# -- search ------------------------------------------------------------------------------------

@pytest.fixture
def scene(build, db):
    """Two users' events around a KST day boundary, and an anonymous failed login."""
    alice, bob = build.user("school_staff"), build.user("district_coordinator")
    ids = {
        # 2026-03-31 23:30 KST
        "a_view_march": at("2026-03-31 14:30:00", "student_viewed", alice, subject="subj-1"),
        # 2026-04-01 00:30 KST, although still March 31 in UTC
        "a_view_april": at("2026-03-31 15:30:00", "student_viewed", alice, subject="subj-2"),
        "b_view": at("2026-04-02 01:00:00", "student_viewed", bob, subject="subj-1"),
        "b_denied": at("2026-04-02 02:00:00", "permission_denied", bob, outcome="denied"),
        "anon_failed": at("2026-04-03 03:00:00", "login_failed", None, outcome="denied"),
    }
    return alice, bob, ids


@pytest.fixture
def auditor(build, login):
    user = build.user("auditor", login="paging-auditor")
    login(user)
    return user


def search(client, **args):
    response = client.get("/audit/", query_string=args)
    return response, response.get_data(as_text=True)


def test_filters_narrow_results(scene, auditor, client):
    alice, bob, ids = scene
    _, page = search(client, actor=alice.login)
    assert event_ids(page) == [ids["a_view_april"], ids["a_view_march"]]
    _, page = search(client, action="student_viewed", subject="subj-1")
    assert event_ids(page) == [ids["b_view"], ids["a_view_march"]]
    _, page = search(client, outcome="denied", start="2026-03-01", end="2026-04-30")
    assert event_ids(page) == [ids["anon_failed"], ids["b_denied"]]
    _, page = search(client, actor=bob.login, outcome="allowed", action="student_viewed")
    assert event_ids(page) == [ids["b_view"]]


def test_date_range_is_in_korean_time(scene, auditor, client):
    _alice, _bob, ids = scene
    _, page = search(client, start="2026-04-01", end="2026-04-01")
    assert event_ids(page) == [ids["a_view_april"]]
    _, page = search(client, end="2026-03-31", action="student_viewed")
    assert event_ids(page) == [ids["a_view_march"]]
    assert "2026. 4. 1. 00:30:00" in search(client, subject="subj-2")[1]


def test_search_is_recorded_with_its_filters(scene, auditor, client, db):
    alice, _bob, _ids = scene
    search(client, actor=alice.login, outcome="allowed", start="2026-03-01")
    (searched,) = events(db, "audit_searched")
    assert searched.actor_id == auditor.id
    assert json.loads(searched.details) == {"actor": alice.login, "outcome": "allowed",
                                            "start": "2026-03-01", "rows": 2}


def test_unknown_login_and_reversed_dates_are_explained(auditor, client, db):
    response, page = search(client, actor="nobody-here")
    assert response.status_code == 400
    assert re.search(r'id="actor-error">그 아이디의 사용자가 없습니다', page)
    response, page = search(client, start="2026-04-02", end="2026-04-01")
    assert response.status_code == 400
    assert re.search(r'id="end-error">종료일은 시작일과 같거나 그 뒤여야 합니다', page)
    assert events(db, "audit_searched") == []


def link(page: str, label: str) -> str:
    return re.search(rf'href="([^"]+)"[^>]*>{label}', page).group(1).replace("&amp;", "&")


@pytest.mark.parametrize("extra", [{}, {"start": "2026-05-01", "end": "2026-05-01"}, {"subject": "subj-p"},
                                   {"actor": "paging-auditor"}],
                         ids=["by-id", "by-time", "by-subject", "by-actor"])
def test_keyset_pagination_next_and_previous(extra, auditor, client, db, monkeypatch):
    monkeypatch.setattr(views, "SEARCH_PAGE_SIZE", 5)
    # pairs of events share an instant, so the time order must break ties by id
    ids = [at(f"2026-05-01 01:{i // 2:02d}:00", "paging_probe", auditor, subject="subj-p") for i in range(12)]
    late = at("2026-05-02 01:00:00", "paging_probe", auditor, subject="subj-p")  # outside the date range
    expected = ([] if "start" in extra else [late]) + ids[::-1]
    _, page1 = search(client, action="paging_probe", **extra)
    assert event_ids(page1) == expected[:5]
    assert ">이전<" not in page1 and "최근 기록으로" not in page1
    assert f"before={expected[4]}" in link(page1, "다음") and "action=paging_probe" in link(page1, "다음")
    page2 = client.get(link(page1, "다음")).get_data(as_text=True)
    assert event_ids(page2) == expected[5:10]
    page3 = client.get(link(page2, "다음")).get_data(as_text=True)
    assert event_ids(page3) == expected[10:]
    assert ">다음<" not in page3 and "최근 기록으로" in page3
    back = client.get(link(page3, "이전")).get_data(as_text=True)
    assert event_ids(back) == expected[5:10]
    first = client.get(link(back, "이전")).get_data(as_text=True)
    assert event_ids(first) == expected[:5]
    assert ">이전<" not in first


def test_empty_search_shows_empty_state(auditor, client):
    _, page = search(client, action="never_happened")
    assert "조건에 맞는 접속기록이 없습니다." in page and 'data-event-id' not in page


def test_auditor_never_sees_a_decrypted_name(build, app, db):
    staff = build.user("school_staff", display_name=SECRET_NAME)
    own = sign_in(app, staff).get("/audit/")  # a denial with the named user as actor
    assert SECRET_NAME in own.get_data(as_text=True)  # the name is real: its owner sees it
    client = sign_in(app, build.user("auditor"))
    pages = [client.get(url).get_data(as_text=True) for url in (
        "/audit/", f"/audit/?actor={staff.login}", "/audit/review?month=" + _this_month(),
        "/audit/review", "/audit/export", "/home/auditor")]
    assert staff.login in pages[1]  # the user's events are there, by login and id
    assert f"#{staff.id}" in pages[1]
    assert f'data-actor="{staff.login}"' in pages[2]
    for page in pages:
        assert SECRET_NAME not in page


def _this_month() -> str:
    return today_kst().strftime("%Y-%m")


def test_auditor_home_links_and_last_month_status(build, client, login, db):
    from app.audit.review import current_month, previous_month
    last = previous_month(current_month())
    auditor = build.user("auditor")
    login(auditor)
    page = client.get("/home/auditor").get_data(as_text=True)
    assert f"{last.year}년 {last.month}월" in page and "점검 전" in page
    for href in ("/audit/", f"/audit/review?month={last:%Y-%m}", "/audit/export"):
        assert f'href="{href}"' in page
    db.session.add(AuditReview(month=f"{last:%Y-%m}", reviewer_id=auditor.id,
                               reviewed_at=utcnow(), comment="이상 없음"))
    db.session.commit()
    page = client.get("/home/auditor").get_data(as_text=True)
    assert "점검 완료" in page and auditor.login in page
