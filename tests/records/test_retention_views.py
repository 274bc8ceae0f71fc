"""The lead's retention pages: the list of students due within 90 days (paginated, scoped, audited),
one student's page with the hold and 학업 중단 forms, the student page's line and the home count;
permissions for staff, another school's lead and the other roles; invalid input changes nothing."""
from __future__ import annotations

import pytest
from flask import g
from freezegun import freeze_time
from sqlalchemy import func, select

from app.audit.models import AuditEvent
from app.extensions import db
from app.records.retention_models import LegalHold, StudentRetention

from ..factories import DEFAULT_PASSWORD

NOW = "2026-12-01 03:00:00"


def sign_in(app, user):
    g.pop("_login_user", None)
    client = app.test_client()
    response = client.post("/login", data={"login": user.login, "password": DEFAULT_PASSWORD})
    assert response.status_code == 302
    return client


@pytest.fixture
def w(app, build):
    class W:
        pass
    w = W()
    with freeze_time(NOW):
        w.school = build.school(school_level="high")
        w.lead = build.user("school_lead", organisation=w.school)
        w.staff = build.user("school_staff", organisation=w.school)
        w.due = build.student(w.school, actor=w.lead, grade=3, name="박졸업")      # until 2027-02-28
        w.later = build.student(w.school, actor=w.lead, grade=1, name="이신입")    # until 2029-02-28
        w.unknown = build.student(w.school, actor=w.lead, grade=None, name="최미정")
        other = build.school(school_level="high")
        w.other_lead = build.user("school_lead", organisation=other)
        w.foreign = build.student(other, actor=w.other_lead, grade=3, name="정타교")
        w.coordinator = build.user("district_coordinator", organisation=build.organisation("district_office"))
        w.agent = build.user("agency_coordinator")
    return w


def last(action: str) -> AuditEvent | None:
    return db.session.execute(select(AuditEvent).where(AuditEvent.action == action)
                              .order_by(AuditEvent.id.desc())).scalars().first()


@freeze_time(NOW)
def test_the_lead_sees_students_due_within_90_days_then_those_to_check(app, w):
    client = sign_in(app, w.lead)
    html = client.get("/records/retention").get_data(as_text=True)  # 90 days: to 2027-03-01
    assert "박졸업" in html
    assert "이신입" not in html and "정타교" not in html and "최미정" not in html
    assert last("retention_list_viewed").details and '"shown":1' in last("retention_list_viewed").details
    html = client.get("/records/retention?show=unknown").get_data(as_text=True)
    assert "최미정" in html and "박졸업" not in html and "학년 정보가 없습니다" in html


@freeze_time(NOW)
def test_the_list_shows_a_hold_and_the_home_counts_students(app, w):
    client = sign_in(app, w.lead)
    html = client.get("/home/lead").get_data(as_text=True)
    assert 'data-testid="home-retention"' in html and "보존 기한 확인 필요: 1명" in html
    assert "90일 안에 보존 기한이 되는 학생: 1명" in html
    response = client.post(f"/records/retention/students/{w.due.uid}/hold",
                           data={"reason": "조사 진행 중", "ends_on": "2027-06-30"})
    assert response.status_code == 302
    html = client.get("/records/retention").get_data(as_text=True)
    assert 'data-testid="held"' in html
    assert "90일 안에 보존 기한이 되는 학생: 0명" in client.get("/home/lead").get_data(as_text=True)


@freeze_time(NOW)
def test_the_student_page_shows_the_date_and_rule_to_the_school_team(app, w):
    html = sign_in(app, w.staff).get(f"/students/{w.due.uid}").get_data(as_text=True)
    assert 'data-testid="student-retention"' in html and "고등학교 졸업 예정" in html
    assert "보존 연장·학업 중단 기록" not in html  # staff may not manage it
    html = sign_in(app, w.lead).get(f"/students/{w.unknown.uid}").get_data(as_text=True)
    assert "확인 필요" in html and "보존 연장·학업 중단 기록" in html


@freeze_time(NOW)
def test_the_lead_records_a_leaving_date_on_the_students_retention_page(app, w):
    client = sign_in(app, w.lead)
    page = client.get(f"/records/retention/students/{w.due.uid}")
    assert page.status_code == 200 and "박졸업" in page.get_data(as_text=True)
    assert last("retention_viewed").subject_ref == w.due.uid
    response = client.post(f"/records/retention/students/{w.due.uid}/left-school", data={"left_school_on": "2026-11-02"})
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(StudentRetention, w.due.id).rule == "age19"


@freeze_time(NOW)
@pytest.mark.parametrize("data, message", [
    ({"reason": "", "ends_on": "2027-01-01"}, "보존 연장 사유를 입력해 주세요."),
    ({"reason": "사유", "ends_on": ""}, "연장 종료일을 입력해 주세요."),
    ({"reason": "사유", "ends_on": "2026-11-30"}, "연장 종료일은 오늘 이후여야 합니다."),
    ({"reason": "사유", "ends_on": "not-a-date"}, None)])
def test_invalid_hold_input_shows_a_message_and_changes_nothing(app, w, data, message):
    client = sign_in(app, w.lead)
    response = client.post(f"/records/retention/students/{w.due.uid}/hold", data=data)
    assert response.status_code == 400
    if message:
        assert message in response.get_data(as_text=True)
    assert db.session.execute(select(func.count()).select_from(LegalHold)).scalar() == 0
    assert last("legal_hold_set") is None


@freeze_time(NOW)
def test_a_future_leaving_date_is_refused(app, w):
    response = sign_in(app, w.lead).post(f"/records/retention/students/{w.due.uid}/left-school",
                                         data={"left_school_on": "2027-01-01"})
    assert response.status_code == 400 and "학업 중단일은 오늘 이후일 수 없습니다." in response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(StudentRetention, w.due.id).left_school_on is None


@freeze_time(NOW)
@pytest.mark.parametrize("who, expected", [("staff", 403), ("other_lead", 404), ("coordinator", 403), ("agent", 403)])
def test_others_may_not_use_the_pages_or_the_forms(app, w, who, expected):
    client = sign_in(app, getattr(w, who))
    uid = w.due.uid
    assert client.get(f"/records/retention/students/{uid}").status_code == expected
    assert client.post(f"/records/retention/students/{uid}/hold",
                       data={"reason": "사유", "ends_on": "2027-06-30"}).status_code == expected
    assert client.post(f"/records/retention/students/{uid}/left-school",
                       data={"left_school_on": "2026-11-02"}).status_code == expected
    if who != "other_lead":
        assert client.get("/records/retention").status_code == 403
    else:  # another school's lead sees their own list, without this school's students
        assert "박졸업" not in client.get("/records/retention").get_data(as_text=True)
    db.session.expire_all()
    assert db.session.execute(select(func.count()).select_from(LegalHold)).scalar() == 0
    assert db.session.get(StudentRetention, w.due.id).left_school_on is None
    assert last("permission_denied") is not None


@freeze_time(NOW)
def test_the_list_is_paginated_and_in_the_leads_menu(app, w, build):
    for n in range(2):
        build.student(w.school, actor=w.lead, grade=3, name=f"한졸업{n}")
    app.config["PAGE_SIZE"] = 2
    client = sign_in(app, w.lead)
    first = client.get("/records/retention").get_data(as_text=True)
    second = client.get("/records/retention?page=2").get_data(as_text=True)
    assert first.count('data-testid="retention-row"') == 2 and second.count('data-testid="retention-row"') == 1
    assert 'href="/records/retention"' in first  # the menu entry
    assert 'href="/records/retention"' not in sign_in(app, w.staff).get("/home/school").get_data(as_text=True)
