"""The admin's user page and actions: create with a temporary password, role and organisation
change, deactivate and reactivate, unlock, password reset — each with its rules, Korean refusals
that change nothing, and a grant change that keeps before, after and why."""
from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import func, select

from app.auth.models import GrantChange, LoginThrottle, User
from app.db import today_kst, utcnow

from ..factories import DEFAULT_PASSWORD
from .conftest import NEW_PASSWORD, all_audit_text, events, fresh, grants, shown_password, sign_in


def lock(db, user):
    db.session.add(LoginThrottle(login=user.login_key, failures=5, locked_until=utcnow() + dt.timedelta(minutes=15)))
    db.session.commit()


# -- create ---------------------------------------------------------------------------------

def create(client, **data):
    form = {"login": "new.teacher", "display_name": "새선생", "role": "school_staff", "organisation": "",
            "password_mode": "generate", "password": ""}
    form.update(data)
    return client.post("/admin/users/new", data=form)


def test_create_shows_a_generated_temporary_password_once(app, client, admin, build, db):
    school = build.school()
    response = create(client, organisation=school.code.lower())
    assert response.status_code == 200 and response.headers["Cache-Control"] == "no-store"
    password = shown_password(response.get_data(as_text=True))
    user = db.session.execute(select(User).filter_by(login="new.teacher")).scalar_one()
    assert (user.role, user.organisation_id, user.password_temporary) == ("school_staff", school.id, True)
    assert password not in user.password_hash
    [created] = grants(db, user)
    assert (created.kind, created.actor_id, created.before) == ("created", admin.id, {})
    # nowhere but the hash: not the audit trail, not the session cookie
    assert password not in all_audit_text(db)
    cookie = client.get_cookie("session").value
    assert password not in str(app.session_interface.get_signing_serializer(app).loads(cookie))
    # and the page that showed it does not show it again
    assert password not in client.get(f"/admin/users/{user.uid}").get_data(as_text=True)


def test_the_new_user_must_change_the_temporary_password_at_sign_in(app, client, admin, build, db):
    school = build.school()
    password = shown_password(create(client, organisation=school.code).get_data(as_text=True))
    user = db.session.execute(select(User).filter_by(login="new.teacher")).scalar_one()
    # approved for handling and trained, so only the temporary password stands in the way
    assert client.post(f"/admin/users/{user.uid}/approval", data={"ha-reason": "서약서 확인"}).status_code == 302
    assert client.post(f"/admin/users/{user.uid}/training",
                       data={"ht-trained_on": today_kst().isoformat()}).status_code == 302
    them = sign_in(app, user, password)
    forced = them.get("/home/school")
    assert forced.status_code == 302 and forced.headers["Location"].startswith("/account")
    assert them.get("/cases/").headers["Location"].startswith("/account")
    changed = them.post("/account/password", data={"current": password, "new": NEW_PASSWORD, "confirm": NEW_PASSWORD})
    assert changed.status_code == 302
    assert them.get("/home/school").status_code == 200
    assert fresh(db, user).password_temporary is False


def test_a_typed_first_password_is_temporary_too(client, admin, build, db):
    school = build.school()
    response = create(client, organisation=school.code, password_mode="typed", password=NEW_PASSWORD)
    assert response.status_code == 302
    user = db.session.execute(select(User).filter_by(login="new.teacher")).scalar_one()
    assert response.headers["Location"] == f"/admin/users/{user.uid}"
    assert user.password_temporary is True
    assert NEW_PASSWORD not in all_audit_text(db)


def test_a_guardian_or_city_account_has_no_school(client, admin, db):
    response = create(client, login="new.auditor", role="auditor", organisation="SEN")
    assert response.status_code == 200
    assert db.session.execute(select(User).filter_by(login="new.auditor")).scalar_one().organisation.code == "SEN"


@pytest.mark.parametrize(("data", "message"), [
    ({"login": "ROOT-ADMIN"}, "이미 사용 중인 아이디입니다"),
    ({"login": "ｒｏｏｔ－ａｄｍｉｎ"}, "이미 사용 중인 아이디입니다"),
    ({"login": "bad\u200bname"}, "보이지 않는 문자"),
    ({"login": ""}, "아이디를 입력해 주세요."),
    ({"display_name": ""}, "이름을 입력해 주세요."),
    ({"organisation": "NOPE-123"}, "기관 코드를 찾을 수 없습니다"),
    ({"organisation": "SEN"}, "학교 지원팀 계정의 소속은 학교이어야 합니다."),
    ({"organisation": ""}, "학교 지원팀 계정의 소속은 학교이어야 합니다."),
    ({"role": "guardian"}, "역할"),
    ({"password_mode": "typed", "password": ""}, "임시 비밀번호를 입력해 주세요."),
    ({"password_mode": "typed", "password": "password12"}, "쉽게 짐작할 수 있는 비밀번호입니다"),
    ({"password_mode": "typed", "password": "short"}, "10자 이상"),
])
def test_invalid_input_is_explained_and_nothing_is_made(client, admin, build, db, data, message):
    school = build.school()
    data.setdefault("organisation", school.code)
    before = db.session.scalar(select(func.count()).select_from(User))
    response = create(client, **data)
    html = response.get_data(as_text=True)
    assert response.status_code == 400
    assert message in html
    assert 'data-testid="temporary-password"' not in html
    assert db.session.scalar(select(func.count()).select_from(User)) == before
    assert db.session.scalar(select(func.count()).select_from(GrantChange)) == before


def test_an_inactive_organisation_takes_no_new_accounts(client, admin, build, db):
    school = build.school()
    school.active = False
    db.session.commit()
    response = create(client, organisation=school.code)
    assert response.status_code == 400 and "비활성화된 기관에는 사용자를 둘 수 없습니다." in response.get_data(as_text=True)


# -- role and organisation -------------------------------------------------------------------

def change(client, user, **data):
    form = {"grant-role": user.role, "grant-organisation": user.organisation.code if user.organisation else "",
            "grant-reason": "인사 발령 (2026-03-01)"}
    form.update({f"grant-{k}": v for k, v in data.items()})
    return client.post(f"/admin/users/{user.uid}/grant", data=form)


def test_a_role_change_is_recorded_with_before_after_and_reason(client, admin, build, db):
    staff = build.user("school_staff")
    version = staff.session_version
    response = change(client, staff, role="school_lead")
    assert response.status_code == 302 and response.headers["Location"] == f"/admin/users/{staff.uid}"
    staff = fresh(db, staff)
    assert staff.role == "school_lead" and staff.session_version > version
    [changed] = grants(db, staff, "role_changed")
    assert changed.before["role"] == "school_staff" and changed.after["role"] == "school_lead"
    assert changed.actor_id == admin.id and changed.reason == "인사 발령 (2026-03-01)"
    assert changed.reason_enc is not None and "인사 발령" not in str(changed.reason_enc)
    assert "인사 발령" not in all_audit_text(db)
    page = client.get(f"/admin/users/{staff.uid}").get_data(as_text=True)
    assert "역할: 학교 지원팀 → 학교 지원팀장(교감)" in page and "인사 발령 (2026-03-01)" in page


def test_a_move_to_another_kind_changes_role_and_organisation_together(client, admin, build, db):
    staff = build.user("school_staff")
    office = build.organisation("district_office")
    response = change(client, staff, role="district_coordinator", organisation=office.code)
    assert response.status_code == 302
    staff = fresh(db, staff)
    assert (staff.role, staff.organisation_id) == ("district_coordinator", office.id)
    assert [g.kind for g in grants(db, staff)] == ["created", "role_changed", "organisation_changed"]
    moved = grants(db, staff, "organisation_changed")[0]
    assert moved.after["organisation_id"] == office.id and moved.before["organisation_id"] != office.id


@pytest.mark.parametrize(("data", "message"), [
    ({"reason": ""}, "사유를 입력해 주세요."),
    ({"reason": "  "}, "사유를 입력해 주세요."),
    ({"role": "district_coordinator"}, "교육지원청 담당자 계정의 소속은 교육지원청이어야 합니다."),
    ({"organisation": "SEN"}, "학교 지원팀 계정의 소속은 학교이어야 합니다."),
    ({"organisation": "NOPE-1"}, "기관 코드를 찾을 수 없습니다"),
    ({}, "바뀐 내용이 없습니다."),
    ({"role": "guardian"}, "역할"),
])
def test_a_refused_change_is_explained_and_changes_nothing(client, admin, build, db, data, message):
    staff = build.user("school_staff")
    state = (staff.role, staff.organisation_id, staff.session_version)
    response = change(client, staff, **data)
    assert response.status_code == 400 and message in response.get_data(as_text=True)
    staff = fresh(db, staff)
    assert (staff.role, staff.organisation_id, staff.session_version) == state
    assert [g.kind for g in grants(db, staff)] == ["created"]


def test_an_admin_cannot_change_their_own_grant_nor_a_guardians(client, admin, build, db):
    response = change(client, admin, role="auditor")
    assert response.status_code == 400 and "자기 계정의 역할·소속은 바꿀 수 없습니다." in response.get_data(as_text=True)
    assert fresh(db, admin).role == "admin"
    guardian = build.user("guardian")
    response = client.post(f"/admin/users/{guardian.uid}/grant", data={
        "grant-role": "school_staff", "grant-organisation": build.school().code, "grant-reason": "x"})
    assert response.status_code == 400 and "교육후견인 계정의 역할·소속은 바꿀 수 없습니다." in response.get_data(as_text=True)
    assert fresh(db, guardian).role == "guardian"


# -- deactivate, reactivate, unlock ----------------------------------------------------------

def test_deactivate_and_reactivate_with_reasons(app, client, admin, build, db):
    staff = build.user("school_staff")
    version = staff.session_version
    response = client.post(f"/admin/users/{staff.uid}/deactivate", data={"deactivate-reason": "퇴직"})
    assert response.status_code == 302
    staff = fresh(db, staff)
    assert staff.active is False and staff.session_version > version
    assert client.get(f"/admin/users/{staff.uid}").status_code == 200
    refused = app.test_client().post("/login", data={"login": staff.login, "password": DEFAULT_PASSWORD})
    assert refused.status_code != 302 and "올바르지 않습니다" in refused.get_data(as_text=True)

    response = client.post(f"/admin/users/{staff.uid}/reactivate", data={"reactivate-reason": "복직"})
    assert response.status_code == 302
    assert fresh(db, staff).active is True
    sign_in(app, staff)
    kinds = [(g.kind, g.reason, g.before["active"], g.after["active"]) for g in grants(db, staff)[1:]]
    assert kinds == [("deactivated", "퇴직", True, False), ("reactivated", "복직", False, True)]
    assert "퇴직" not in all_audit_text(db) and "복직" not in all_audit_text(db)


def test_deactivation_rules(client, admin, build, db):
    staff = build.user("school_staff")
    no_reason = client.post(f"/admin/users/{staff.uid}/deactivate", data={"deactivate-reason": ""})
    assert no_reason.status_code == 400 and "사유를 입력해 주세요." in no_reason.get_data(as_text=True)
    assert fresh(db, staff).active is True
    self_ = client.post(f"/admin/users/{admin.uid}/deactivate", data={"deactivate-reason": "x"})
    assert self_.status_code == 400 and "자기 계정은 비활성화할 수 없습니다." in self_.get_data(as_text=True)
    assert fresh(db, admin).active is True
    active = client.post(f"/admin/users/{staff.uid}/reactivate", data={"reactivate-reason": "x"})
    assert active.status_code == 400 and "이미 사용 중인 계정입니다." in active.get_data(as_text=True)
    assert [g.kind for g in grants(db, staff)] == ["created"]


def test_reactivation_waits_for_the_organisation(client, admin, build, db):
    school = build.school()
    staff = build.user("school_staff", organisation=school)
    client.post(f"/admin/users/{staff.uid}/deactivate", data={"deactivate-reason": "폐교"})
    school.active = False
    db.session.commit()
    response = client.post(f"/admin/users/{staff.uid}/reactivate", data={"reactivate-reason": "잘못 처리"})
    assert response.status_code == 400 and "소속 기관이 비활성화되어 있습니다" in response.get_data(as_text=True)
    assert fresh(db, staff).active is False


def test_unlock_lets_a_locked_login_in(app, client, admin, build, db):
    staff = build.user("school_staff")
    stranger = app.test_client()
    for _ in range(app.config["LOGIN_MAX_FAILURES"]):
        stranger.post("/login", data={"login": staff.login, "password": "wrong-password-1"})
    refused = app.test_client().post("/login", data={"login": staff.login, "password": DEFAULT_PASSWORD})
    assert refused.status_code != 302 and "로그인이 잠겼습니다" in refused.get_data(as_text=True)
    page = client.get(f"/admin/users/{staff.uid}").get_data(as_text=True)
    assert 'data-testid="form-unlock"' in page
    response = client.post(f"/admin/users/{staff.uid}/unlock", data={"unlock-reason": "본인 확인"})
    assert response.status_code == 302
    assert db.session.get(LoginThrottle, staff.login_key) is None
    sign_in(app, staff)
    [unlocked] = grants(db, staff, "unlocked")
    assert (unlocked.actor_id, unlocked.reason) == (admin.id, "본인 확인")


def test_unlocking_an_unlocked_account_is_refused(client, admin, build, db):
    staff = build.user("school_staff")
    response = client.post(f"/admin/users/{staff.uid}/unlock", data={"unlock-reason": ""})
    assert response.status_code == 400 and "잠긴 계정이 아닙니다." in response.get_data(as_text=True)
    assert grants(db, staff, "unlocked") == []


# -- password reset --------------------------------------------------------------------------

def test_reset_gives_a_new_temporary_password_and_the_old_one_stops(app, client, admin, build, db):
    staff = build.user("school_staff")
    lock(db, staff)
    response = client.post(f"/admin/users/{staff.uid}/password", data={"reset-reason": "비밀번호 분실 (전화 확인)"})
    assert response.status_code == 200 and response.headers["Cache-Control"] == "no-store"
    password = shown_password(response.get_data(as_text=True))
    staff = fresh(db, staff)
    assert staff.password_temporary is True
    assert db.session.get(LoginThrottle, staff.login_key) is None  # the lock went with the old password
    old = app.test_client().post("/login", data={"login": staff.login, "password": DEFAULT_PASSWORD})
    assert old.status_code != 302 and "올바르지 않습니다" in old.get_data(as_text=True)
    them = sign_in(app, staff, password)
    assert them.get("/home/school").headers["Location"].startswith("/account")
    [reset] = grants(db, staff, "password_reset")
    assert (reset.actor_id, reset.reason) == (admin.id, "비밀번호 분실 (전화 확인)")
    text = all_audit_text(db)
    assert password not in text and "비밀번호 분실" not in text


def test_reset_rules(client, admin, build, db):
    staff = build.user("school_staff")
    hashed = staff.password_hash
    response = client.post(f"/admin/users/{staff.uid}/password", data={"reset-reason": ""})
    assert response.status_code == 400 and "사유를 입력해 주세요." in response.get_data(as_text=True)
    assert 'data-testid="temporary-password"' not in response.get_data(as_text=True)
    assert fresh(db, staff).password_hash == hashed
    own = client.post(f"/admin/users/{admin.uid}/password", data={"reset-reason": "x"})
    assert own.status_code == 400 and "내 계정 화면에서" in own.get_data(as_text=True)


def test_the_user_page_shows_no_case_content(client, admin, build, db):
    lead = build.user("school_lead")
    build.case(school=lead.organisation, lead=lead)
    html = client.get(f"/admin/users/{lead.uid}").get_data(as_text=True)
    main = html.split("<main", 1)[1]
    assert "/cases/" not in main and "/students/" not in main and "김학생" not in main
    [viewed] = events(db, "admin_user_viewed")
    assert viewed.object_id == lead.uid
