"""The user page's approval, training and 2FA panels call the shared services
(app.auth.handling, app.auth.totp): each is a grant change with its reason, refused input is
explained in Korean and changes nothing."""
from __future__ import annotations

import datetime as dt

from app.auth import totp
from app.db import today_kst

from .conftest import all_audit_text, fresh, grants


def test_approval_and_training_from_the_user_page(client, admin, build, db):
    staff = build.user("school_staff", cleared=False)
    page = client.get(f"/admin/users/{staff.uid}").get_data(as_text=True)
    assert 'data-testid="form-handling-approve"' in page and 'data-cleared="no"' in page
    assert client.post(f"/admin/users/{staff.uid}/approval", data={"ha-reason": "서약서 확인"}).status_code == 302
    day = today_kst() - dt.timedelta(days=3)
    assert client.post(f"/admin/users/{staff.uid}/training", data={"ht-trained_on": day.isoformat()}).status_code == 302
    staff = fresh(db, staff)
    assert staff.handling_approved_at is not None and staff.handling_approved_by_id == admin.id
    assert staff.training_on == day
    page = client.get(f"/admin/users/{staff.uid}").get_data(as_text=True)
    assert 'data-cleared="yes"' in page and 'data-testid="form-handling-withdraw"' in page
    assert [g.kind for g in grants(db, staff)] == ["created", "approval_given", "training_recorded"]
    assert "서약서 확인" in page  # the reason is shown to the admin in the history …
    assert "서약서 확인" not in all_audit_text(db)  # … and kept out of the audit trail


def test_withdrawal_needs_a_reason_and_ends_sessions(client, admin, build, db):
    staff = build.user("school_staff")
    version = staff.session_version
    refused = client.post(f"/admin/users/{staff.uid}/approval/withdraw", data={"hw-reason": ""})
    assert refused.status_code == 400 and "철회 사유를 입력해 주세요." in refused.get_data(as_text=True)
    assert fresh(db, staff).handling_approved_at is not None
    response = client.post(f"/admin/users/{staff.uid}/approval/withdraw", data={"hw-reason": "업무 변경"})
    assert response.status_code == 302
    staff = fresh(db, staff)
    assert staff.handling_approved_at is None and staff.session_version > version
    [withdrawn] = grants(db, staff, "approval_withdrawn")
    assert (withdrawn.actor_id, withdrawn.reason) == (admin.id, "업무 변경")


def test_a_future_training_date_is_refused(client, admin, build, db):
    staff = build.user("school_staff", cleared=False)
    tomorrow = today_kst() + dt.timedelta(days=1)
    response = client.post(f"/admin/users/{staff.uid}/training", data={"ht-trained_on": tomorrow.isoformat()})
    assert response.status_code == 400 and "교육 이수일은 오늘이나 그 전이어야 합니다." in response.get_data(as_text=True)
    assert fresh(db, staff).training_on is None


def _enrol(db, user):
    totp.start_enrolment(user)
    totp.confirm_enrolment(user, totp.code_for_step(user.totp_secret, totp.current_step()))
    db.session.commit()


def test_totp_reset_from_the_user_page(client, admin, build, db):
    lead = build.user("school_lead")
    page = client.get(f"/admin/users/{lead.uid}").get_data(as_text=True)
    assert 'data-testid="form-totp"' not in page  # nothing to reset before enrolment
    _enrol(db, lead)
    version = fresh(db, lead).session_version
    page = client.get(f"/admin/users/{lead.uid}").get_data(as_text=True)
    assert 'data-testid="form-totp"' in page and "2단계 인증 초기화" in page
    refused = client.post(f"/admin/users/{lead.uid}/totp-reset", data={"totp-reason": ""})
    assert refused.status_code == 400 and "사유를 입력해 주세요." in refused.get_data(as_text=True)
    assert fresh(db, lead).totp_enabled_at is not None
    response = client.post(f"/admin/users/{lead.uid}/totp-reset", data={"totp-reason": "휴대폰 분실"})
    assert response.status_code == 302
    lead = fresh(db, lead)
    assert lead.totp_enabled_at is None and lead.totp_secret is None and lead.session_version > version
    [reset] = grants(db, lead, "totp_reset")
    assert (reset.actor_id, reset.reason, reset.before["totp"], reset.after["totp"]) == (admin.id, "휴대폰 분실",
                                                                                         True, False)
    assert "휴대폰 분실" not in all_audit_text(db)
