"""Only the admin role opens the admin screens: every other role gets an audited 403 and changes
nothing; anonymous visitors are sent to the login page; the menu shows the entries to admins only."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select

from app.auth.models import GrantChange, Organisation, User
from app.permissions import ROLES

from .conftest import events

#: (method, url template, form data); {user} and {org} are filled with a target's uid
ENDPOINTS = [
    ("GET", "/admin/users", None),
    ("GET", "/admin/users/new", None),
    ("GET", "/admin/users/{user}", None),
    ("GET", "/admin/organisations", None),
    ("GET", "/admin/organisations/new/school", None),
    ("GET", "/admin/organisations/new/agency", None),
    ("GET", "/admin/organisations/{org}", None),
    ("POST", "/admin/users/new", {"login": "newbie", "display_name": "새사람", "role": "school_staff",
                                  "organisation": "{code}", "password_mode": "generate"}),
    ("POST", "/admin/users/{user}/grant", {"grant-role": "school_lead", "grant-organisation": "{code}",
                                           "grant-reason": "교감 발령"}),
    ("POST", "/admin/users/{user}/deactivate", {"deactivate-reason": "퇴직"}),
    ("POST", "/admin/users/{user}/reactivate", {"reactivate-reason": "복직"}),
    ("POST", "/admin/users/{user}/unlock", {"unlock-reason": ""}),
    ("POST", "/admin/users/{user}/password", {"reset-reason": "분실"}),
    ("POST", "/admin/users/{user}/approval", {"ha-reason": ""}),
    ("POST", "/admin/users/{user}/approval/withdraw", {"hw-reason": "업무 변경"}),
    ("POST", "/admin/users/{user}/training", {"ht-trained_on": "2026-03-02"}),
    ("POST", "/admin/users/{user}/totp-reset", {"totp-reason": "휴대폰 분실"}),
    ("POST", "/admin/organisations/new/school", {"code": "B123456789", "name": "새학교", "school_level": "middle",
                                                 "gu_id": "1"}),
    ("POST", "/admin/organisations/{org}", {"code": "{code}", "name": "바뀐이름", "school_level": "high",
                                            "gu_id": "1"}),
    ("POST", "/admin/organisations/{org}/deactivate", {}),
    ("POST", "/admin/organisations/{org}/reactivate", {}),
]
IDS = [f"{method} {url}" for method, url, _ in ENDPOINTS]
OTHER_ROLES = sorted(set(ROLES) - {"admin"})


@pytest.fixture
def target(build):
    """A school and one staff account in it: what the requests would change."""
    school = build.school(name="대상초등학교")
    staff = build.user("school_staff", organisation=school)
    return staff, school


def _fill(url: str, data, staff, school):
    url = url.format(user=staff.uid, org=school.uid)
    data = {k: v.format(code=school.code) for k, v in (data or {}).items()}
    return url, data


def _state(db):
    """What any admin action would change, to prove a refusal changed nothing."""
    db.session.expire_all()
    users = db.session.execute(select(User.login, User.role, User.organisation_id, User.active, User.session_version,
                                      User.password_hash, User.handling_approved_at, User.training_on)
                               .order_by(User.id)).all()
    orgs = db.session.execute(select(Organisation.code, Organisation.name, Organisation.active)
                              .order_by(Organisation.id)).all()
    return users, orgs, db.session.scalar(select(func.count()).select_from(GrantChange))


@pytest.mark.parametrize(("method", "url", "data"), ENDPOINTS, ids=IDS)
@pytest.mark.parametrize("role", OTHER_ROLES)
def test_every_other_role_is_refused_and_the_refusal_audited(role, method, url, data, client, build, login, db,
                                                             target):
    url, data = _fill(url, data, *target)
    user = build.user(role)
    assert login(user).status_code == 302
    before = _state(db)
    response = client.get(url) if method == "GET" else client.post(url, data=data)
    assert response.status_code == 403
    assert "접근 권한이 없습니다" in response.get_data(as_text=True)
    denied = events(db, "permission_denied")
    assert [(e.actor_id, e.outcome) for e in denied] == [(user.id, "denied")]
    assert denied[0].object_id.startswith("admin.")
    assert _state(db) == before


@pytest.mark.parametrize(("method", "url", "data"), ENDPOINTS, ids=IDS)
def test_anonymous_visitors_are_sent_to_login(method, url, data, client, db, target):
    url, data = _fill(url, data, *target)
    before = _state(db)
    response = client.get(url) if method == "GET" else client.post(url, data=data)
    assert response.status_code == 302 and response.headers["Location"].startswith("/login")
    assert _state(db) == before


@pytest.mark.parametrize(("method", "url", "data"), [e for e in ENDPOINTS if e[0] == "GET"],
                         ids=[i for i, e in zip(IDS, ENDPOINTS) if e[0] == "GET"])
def test_the_admin_opens_every_page(method, url, data, client, admin, target):
    url, _ = _fill(url, data, *target)
    response = client.get(url)
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"


def test_unknown_objects_are_not_found(client, admin):
    assert client.get("/admin/users/nope").status_code == 404
    assert client.get("/admin/organisations/nope").status_code == 404
    assert client.get("/admin/organisations/new/office").status_code == 404
    assert client.post("/admin/users/nope/deactivate", data={"deactivate-reason": "x"}).status_code == 404


def test_the_menu_shows_admin_entries_to_admins_only(app, client, admin, build):
    from .conftest import sign_in
    page = client.get("/home/admin").get_data(as_text=True)
    assert '<a href="/admin/users">사용자</a>' in page and '<a href="/admin/organisations">기관</a>' in page
    for role in OTHER_ROLES:
        other = sign_in(app, build.user(role))
        home = other.get("/", follow_redirects=True).get_data(as_text=True)
        assert "/admin/" not in home
