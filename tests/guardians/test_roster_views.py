"""Roster screens: who may see them, audited views, forms that refuse bad input."""
from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import func, select

from app.audit.models import AuditEvent
from app.db import today_kst
from app.extensions import db
from app.guardians.models import Guardian

OTHER_ROLES = ("school_staff", "school_lead", "agency_coordinator", "auditor", "admin", "guardian")


def _count(action: str, **filters) -> int:
    return db.session.execute(select(func.count()).select_from(AuditEvent).filter_by(action=action, **filters)).scalar()


def _pages(uid: str):
    return [("get", "/guardians/"), ("get", "/guardians/new"), ("post", "/guardians/new"), ("get", f"/guardians/{uid}"),
            ("get", f"/guardians/{uid}/edit"), ("post", f"/guardians/{uid}/status"),
            ("post", f"/guardians/{uid}/checks"), ("post", f"/guardians/{uid}/login")]


@pytest.mark.parametrize("role", OTHER_ROLES)
def test_other_roles_get_403(build, client, login, make_guardian, role):
    guardian = make_guardian()
    login(build.user(role))
    for method, url in _pages(guardian.uid):
        assert getattr(client, method)(url).status_code == 403, url


def test_foreign_coordinator_gets_audited_404(build, client, login, make_guardian):
    guardian = make_guardian()
    login(build.user("district_coordinator", organisation=build.organisation("district_office", "강남구")))
    for method, url in _pages(guardian.uid)[3:]:
        assert getattr(client, method)(url).status_code == 404, url
    assert _count("permission_denied", outcome="denied", object_id=guardian.uid) == 5
    assert _count("guardian_viewed") == 0
    assert guardian.uid not in client.get("/guardians/").get_data(as_text=True)


def test_roster_lists_office_guardians_with_what_is_missing(client, login, coordinator, make_guardian,
                                                           eligible_guardian):
    waiting = make_guardian(status="trained", training_hours=12)
    ready = eligible_guardian()
    login(coordinator)
    page = client.get("/guardians/").get_data(as_text=True)
    assert waiting.name in page and ready.name in page and "12시간 이수" in page and "조회 기록 없음" in page
    filtered = client.get("/guardians/?status=active").get_data(as_text=True)
    assert ready.name in filtered and waiting.name not in filtered
    assert _count("guardian_list_viewed") == 2


def test_detail_view_is_audited(client, login, coordinator, eligible_guardian):
    guardian = eligible_guardian()
    login(coordinator)
    response = client.get(f"/guardians/{guardian.uid}")
    assert response.status_code == 200 and guardian.phone in response.get_data(as_text=True)
    assert _count("guardian_viewed", object_id=guardian.uid, actor_id=coordinator.id) == 1


def _form(build, **overrides):
    data = {"name": "최후견", "phone": "010-1111-2222", "address": "서울 마포구", "birth_date": "1970-01-02",
            "gu_id": str(build.gu("마포구").id), "dong": "서교동", "gender": "male", "languages": "영어, 중국어",
            "experience": ["learning", "career"], "availability": ["mon_pm"], "capacity": "2", "training_hours": "30"}
    data.update(overrides)
    return data


def test_register_through_the_form(build, client, login, coordinator):
    login(coordinator)
    assert client.get("/guardians/new").status_code == 200
    response = client.post("/guardians/new", data=_form(build))
    guardian = db.session.execute(select(Guardian)).scalar_one()
    assert response.status_code == 302 and response.location.endswith(f"/guardians/{guardian.uid}")
    assert guardian.name == "최후견" and guardian.languages == ["영어", "중국어"] and guardian.experience == ["learning", "career"]


@pytest.mark.parametrize("overrides, message", [
    ({"capacity": "0"}, "1~4"),
    ({"experience": ["astrology"]}, "선택할 수 없는 항목"),
    ({"gu_id": "__GANGNAM__"}, "관할 자치구"),
    ({"birth_date": "2150-01-01"}, "미래"),
])
def test_register_form_refuses_bad_input(build, client, login, coordinator, overrides, message):
    if overrides.get("gu_id") == "__GANGNAM__":
        overrides["gu_id"] = str(build.gu("강남구").id)
    login(coordinator)
    response = client.post("/guardians/new", data=_form(build, **overrides))
    assert response.status_code == 400 and message in response.get_data(as_text=True)
    assert db.session.execute(select(func.count()).select_from(Guardian)).scalar() == 0


def test_vetting_through_the_detail_page(client, login, coordinator, make_guardian):
    guardian = make_guardian(status="trained")
    login(coordinator)
    refused = client.post(f"/guardians/{guardian.uid}/status", data={"status": "active"})
    assert refused.status_code == 400 and "활동 요건이 충족되지 않았습니다" in refused.get_data(as_text=True)
    today = today_kst().isoformat()
    for kind in ("sex_offence", "child_abuse"):
        assert client.post(f"/guardians/{guardian.uid}/checks",
                           data={"kind": kind, "consent_on": today, "requested_on": today}).status_code == 302
    db.session.expire_all()
    for check in guardian.checks:
        response = client.post(f"/guardians/{guardian.uid}/checks/{check.uid}/result",
                               data={f"r{check.id}-result": "clear", f"r{check.id}-checked_on": today,
                                     f"r{check.id}-reference": "R-1"})
        assert response.status_code == 302
    assert client.post(f"/guardians/{guardian.uid}/status", data={"status": "active"}).status_code == 302
    assert client.post(f"/guardians/{guardian.uid}/login",
                       data={"login": "guardian-new", "password": "Correct-horse-42"}).status_code == 302
    db.session.expire_all()
    assert guardian.status == "active" and guardian.user.role == "guardian"


def test_edit_form_shows_and_saves(build, client, login, coordinator, make_guardian):
    guardian = make_guardian(capacity=1)
    login(coordinator)
    page = client.get(f"/guardians/{guardian.uid}/edit").get_data(as_text=True)
    assert guardian.name in page
    response = client.post(f"/guardians/{guardian.uid}/edit", data=_form(build, capacity="3"))
    assert response.status_code == 302
    db.session.expire_all()
    assert guardian.capacity == 3 and _count("guardian_updated") == 1
