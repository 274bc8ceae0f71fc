"""Approval screens: the admin's list and account page (/handling/…), and the guardian's page where
the office's coordinator approves the login a coordinator made; permissions, refusals, audit."""
from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import func, select

from app.audit.models import AuditEvent
from app.auth.models import GrantChange
from app.db import today_kst
from app.extensions import db as _db
from app.guardians import services as gs
from tests.guardians.conftest import guardian_fields

NEW_PASSWORD = "Correct-horse-42"


def _count(action: str, **filters) -> int:
    return _db.session.execute(
        select(func.count()).select_from(AuditEvent).filter_by(action=action, **filters)).scalar()


def _grants(user, kind: str) -> list[GrantChange]:
    return list(_db.session.execute(select(GrantChange).filter_by(user_id=user.id, kind=kind)).scalars())


@pytest.fixture
def admin(build):
    return build.user("admin", organisation=build.organisation("city_office"))


def test_admin_list_shows_who_needs_attention(client, login, build, admin):
    waiting = build.user("school_staff", cleared=False, login="waiting-one")
    lapsing = build.user("school_staff", login="lapsing-one", training_on=today_kst() - dt.timedelta(days=350))
    fine = build.user("school_staff", login="fine-one")
    login(admin)
    page = client.get("/handling/").get_data(as_text=True)
    assert "waiting-one" in page and "lapsing-one" in page and "fine-one" not in page and "15일 남음" in page
    assert "waiting-one" not in client.get("/handling/?state=expiring").get_data(as_text=True)
    assert "fine-one" in client.get("/handling/?state=all").get_data(as_text=True)
    assert "lapsing-one" not in client.get("/handling/?state=not_approved").get_data(as_text=True)
    assert client.get("/handling/?state=bogus").status_code == 200
    assert _count("handling_list_viewed") == 5
    assert fine and waiting and lapsing


def test_admin_approves_and_records_training_on_the_account_page(client, login, build, admin):
    user = build.user("school_staff", cleared=False)
    login(admin)
    page = client.get(f"/handling/{user.uid}").get_data(as_text=True)
    assert 'data-testid="form-handling-approve"' in page and 'data-testid="form-handling-withdraw"' not in page
    response = client.post(f"/handling/{user.uid}/approve", data={"ha-reason": "서약서 확인"})
    assert response.status_code == 302 and response.headers["Location"] == f"/handling/{user.uid}"
    day = today_kst() - dt.timedelta(days=1)
    response = client.post(f"/handling/{user.uid}/training", data={"ht-trained_on": day.isoformat()})
    assert response.status_code == 302
    _db.session.refresh(user)
    assert user.handling_approved_by_id == admin.id and user.training_on == day
    page = client.get(f"/handling/{user.uid}").get_data(as_text=True)
    assert "서약서 확인" in page and 'data-testid="form-handling-withdraw"' in page and "가능" in page
    assert _count("handling_viewed", object_id=user.uid) == 2


def test_refusals_re_render_with_korean_messages_and_change_nothing(client, login, build, admin):
    user = build.user("school_staff")
    before = user.training_on
    login(admin)
    response = client.post(f"/handling/{user.uid}/withdraw", data={"hw-reason": ""})
    assert response.status_code == 400 and "철회 사유를 입력해 주세요." in response.get_data(as_text=True)
    future = today_kst() + dt.timedelta(days=1)
    response = client.post(f"/handling/{user.uid}/training", data={"ht-trained_on": future.isoformat()})
    assert response.status_code == 400 and "교육 이수일은 오늘이나 그 전이어야 합니다." in response.get_data(as_text=True)
    response = client.post(f"/handling/{user.uid}/training", data={"ht-trained_on": "어제"})
    assert response.status_code == 400 and "교육 이수일: 올바르지 않은 날짜 값입니다." in response.get_data(as_text=True)
    response = client.post(f"/handling/{user.uid}/approve", data={})
    assert response.status_code == 400 and "이미 취급승인된 계정입니다." in response.get_data(as_text=True)
    _db.session.refresh(user)
    assert user.handling_approved_at is not None and user.training_on == before
    assert _grants(user, "approval_withdrawn") == [] and _grants(user, "training_recorded") == []


def test_admin_withdraws_with_a_reason(client, login, build, admin):
    user = build.user("school_lead")
    login(admin)
    response = client.post(f"/handling/{user.uid}/withdraw", data={"hw-reason": "휴직"})
    assert response.status_code == 302
    _db.session.refresh(user)
    assert user.handling_approved_at is None and _grants(user, "approval_withdrawn")[0].reason == "휴직"


def test_an_admin_does_not_decide_for_their_own_account(client, login, admin):
    login(admin)
    page = client.get(f"/handling/{admin.uid}").get_data(as_text=True)
    assert "다른 관리자가 승인" in page and 'data-testid="form-handling-training"' not in page
    assert client.post(f"/handling/{admin.uid}/training",
                       data={"ht-trained_on": today_kst().isoformat()}).status_code == 403
    assert client.post(f"/handling/{admin.uid}/withdraw", data={"hw-reason": "x"}).status_code == 403


@pytest.mark.parametrize("role", ["school_staff", "school_lead", "district_coordinator", "guardian",
                                  "agency_coordinator", "auditor"])
def test_only_admins_open_the_admin_screens(client, login, build, role):
    user = build.user("school_staff", cleared=False)
    login(build.user(role))
    for method, url in (("get", "/handling/"), ("get", f"/handling/{user.uid}"),
                        ("post", f"/handling/{user.uid}/approve"), ("post", f"/handling/{user.uid}/training"),
                        ("post", f"/handling/{user.uid}/withdraw")):
        assert getattr(client, method)(url).status_code == 403, url
    _db.session.refresh(user)
    assert user.handling_approved_at is None


def test_an_unknown_account_is_an_audited_404(client, login, admin):
    login(admin)
    assert client.get("/handling/not-a-uid").status_code == 404
    assert client.post("/handling/" + "x" * 80 + "/approve").status_code == 404
    assert _count("permission_denied", object_type="user_account") == 2


# -- the guardian's page -----------------------------------------------------------------

@pytest.fixture
def coordinator(build):
    return build.user("district_coordinator", organisation=build.organisation("district_office", "마포구"))


@pytest.fixture
def guardian_with_login(build, coordinator):
    guardian = gs.register_guardian(coordinator, guardian_fields(build))
    for step in ("screening", "trained"):
        gs.change_guardian_status(coordinator, guardian, step)
    user = gs.create_guardian_login(coordinator, guardian, "guardian-kim", NEW_PASSWORD)
    user.password_temporary = False
    _db.session.commit()
    return guardian, user


def test_the_coordinator_approves_the_guardian_login_on_its_page(client, login, coordinator, guardian_with_login):
    guardian, user = guardian_with_login
    login(user)
    assert client.get("/guardians/me").headers["Location"] == "/account/clearance"
    client.post("/logout")
    login(coordinator)
    page = client.get(f"/guardians/{guardian.uid}").get_data(as_text=True)
    assert 'data-testid="handling-section"' in page and "개인정보 취급승인을 받지 않았습니다." in page
    response = client.post(f"/guardians/{guardian.uid}/handling/approve", data={"ha-reason": "서약서 확인"})
    assert response.status_code == 302 and response.headers["Location"].startswith(f"/guardians/{guardian.uid}")
    response = client.post(f"/guardians/{guardian.uid}/handling/training",
                           data={"ht-trained_on": today_kst().isoformat(), "ht-reason": "기본 교육 중 개인정보 과정"})
    assert response.status_code == 302
    page = client.get(f"/guardians/{guardian.uid}").get_data(as_text=True)
    assert 'data-cleared="yes"' in page and 'data-testid="form-handling-withdraw"' in page
    [approval] = _grants(user, "approval_given")
    assert approval.actor_id == coordinator.id and approval.reason == "서약서 확인"
    client.post("/logout")
    login(user)
    assert client.get("/guardians/me").status_code == 200


def test_a_refusal_on_the_guardian_page_re_renders_it(client, login, coordinator, guardian_with_login):
    guardian, user = guardian_with_login
    login(coordinator)
    response = client.post(f"/guardians/{guardian.uid}/handling/training",
                           data={"ht-trained_on": (today_kst() + dt.timedelta(days=3)).isoformat()})
    page = response.get_data(as_text=True)
    assert response.status_code == 400 and "교육 이수일은 오늘이나 그 전이어야 합니다." in page and guardian.name in page
    response = client.post(f"/guardians/{guardian.uid}/handling/withdraw", data={"hw-reason": "x"})
    assert response.status_code == 400 and "취급승인되지 않은 계정입니다." in response.get_data(as_text=True)
    _db.session.refresh(user)
    assert user.training_on is None and user.handling_approved_at is None


def test_a_coordinator_of_another_office_is_refused(client, login, build, guardian_with_login):
    guardian, user = guardian_with_login
    login(build.user("district_coordinator", organisation=build.organisation("district_office", "강남구")))
    for action, data in (("approve", {}), ("training", {"ht-trained_on": today_kst().isoformat()}),
                         ("withdraw", {"hw-reason": "x"})):
        assert client.post(f"/guardians/{guardian.uid}/handling/{action}", data=data).status_code == 404, action
    _db.session.refresh(user)
    assert user.handling_approved_at is None and user.training_on is None
    assert _count("permission_denied", object_id=guardian.uid) == 3


@pytest.mark.parametrize("role", ["school_lead", "admin", "guardian"])
def test_other_roles_cannot_use_the_guardian_forms(client, login, build, guardian_with_login, role):
    guardian, user = guardian_with_login
    login(build.user(role))
    assert client.post(f"/guardians/{guardian.uid}/handling/approve", data={}).status_code == 403
    _db.session.refresh(user)
    assert user.handling_approved_at is None


def test_a_guardian_without_a_login_has_nothing_to_approve(client, login, build, coordinator):
    guardian = gs.register_guardian(coordinator, guardian_fields(build))
    _db.session.commit()
    login(coordinator)
    assert 'data-testid="handling-section"' not in client.get(f"/guardians/{guardian.uid}").get_data(as_text=True)
    assert client.post(f"/guardians/{guardian.uid}/handling/approve", data={}).status_code == 404
