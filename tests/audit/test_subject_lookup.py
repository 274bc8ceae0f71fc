"""정보주체 찾기 (issue 15): an auditor finds a student by name and birth date through the blind
index, within their own district office, sees school and grade only, and the trail about them;
the lookup is audited without the name or the birth date."""
from __future__ import annotations

import datetime as dt
import json
import re

import pytest
from sqlalchemy import select

from app.audit.models import AuditEvent

from .test_views import sign_in

NAME, BIRTH = "박열람", dt.date(2014, 5, 17)


@pytest.fixture
def students(build, db):
    mapo = build.school(name="마포이음초등학교")  # 서부 office
    gangnam = build.school(gu="강남구", name="강남이음초등학교")  # 강남서초 office
    lead = build.user("school_lead", organisation=mapo)
    ours = build.student(mapo, actor=lead, name=NAME, birth_date=BIRTH, grade=4, class_no=3)
    build.case(student=ours, lead=lead)
    theirs = build.student(gangnam, name="최다른", birth_date=BIRTH, grade=6, class_no=1)
    return ours, theirs


def lookup(client, name, birth):
    response = client.post("/audit/subject", data={"name": name, "birth_date": birth})
    return response, response.get_data(as_text=True)


def lookups(db) -> list[AuditEvent]:
    return list(db.session.scalars(select(AuditEvent).filter_by(action="audit_subject_looked_up")))


def test_city_auditor_finds_by_name_and_birth_date(students, build, app, db):
    ours, _ = students
    client = sign_in(app, build.user("auditor"))  # the city office
    response, page = lookup(client, f" {NAME} ", BIRTH.isoformat())  # spaces do not matter
    assert response.status_code == 200
    candidates = re.search(r'data-testid="subject-candidates">(.*?)</ul>', page, re.S).group(1)
    assert "학생 · 마포이음초등학교 · 4학년 3반" in candidates and ours.uid in candidates
    # one candidate: the trail about the student is shown at once
    assert 'data-testid="audit-results"' in page and "지원 요청 접수" in page
    assert NAME not in page.replace(f'value="{NAME}"', "")  # only ever in the auditor's own input, if at all
    assert "수업 중 집중" not in page  # no case content
    (event,) = lookups(db)
    details = json.loads(event.details)
    assert details["found"] == 1 and details["subjects"] == [ours.uid] and details["scope"] == "city"
    assert NAME not in event.details and BIRTH.isoformat() not in event.details and not event.reason
    assert event.actor_id is not None


def test_district_auditor_cannot_find_another_offices_student(students, build, app, db):
    _ours, theirs = students
    mapo_auditor = build.user("auditor", organisation=build.organisation("district_office", gu="마포구"))
    client = sign_in(app, mapo_auditor)
    response, page = lookup(client, "최다른", BIRTH.isoformat())
    assert response.status_code == 200
    assert "찾지 못했습니다" in page and "소속 교육지원청의 학생만" in page
    assert theirs.uid not in page and "강남이음초등학교" not in page
    (event,) = lookups(db)
    assert json.loads(event.details)["found"] == 0 and json.loads(event.details)["scope"] != "city"
    # and their own office's student is found
    _, page = lookup(client, NAME, BIRTH.isoformat())
    assert "학생 · 마포이음초등학교 · 4학년 3반" in page


def test_wrong_birth_date_finds_nothing_and_says_so(students, build, app, db):
    client = sign_in(app, build.user("auditor"))
    _, page = lookup(client, NAME, "2014-05-18")
    assert "이름과 생년월일이 같은 학생을 찾지 못했습니다." in page
    assert 'data-testid="subject-candidates"' not in page
    assert len(lookups(db)) == 1


@pytest.mark.parametrize("data,field,message", [
    ({"name": "", "birth_date": "2014-05-17"}, "name", "학생 이름을 입력해 주세요."),
    ({"name": NAME, "birth_date": ""}, "birth_date", "생년월일을 입력해 주세요."),
])
def test_missing_fields_are_explained_beside_them(data, field, message, build, app, db):
    client = sign_in(app, build.user("auditor"))
    response = client.post("/audit/subject", data=data)
    assert response.status_code == 400
    assert re.search(rf'id="{field}-error">{message}', response.get_data(as_text=True))
    assert lookups(db) == []


def test_only_the_auditor_may_look_up(students, build, app, db):
    client = sign_in(app, build.user("district_coordinator"))
    response, _ = lookup(client, NAME, BIRTH.isoformat())
    assert response.status_code == 403 and lookups(db) == []


def test_the_name_never_enters_a_url(students, build, app):
    client = sign_in(app, build.user("auditor"))
    page = client.get("/audit/").get_data(as_text=True)
    form = re.search(r'<form method="post" action="/audit/subject"', page)
    assert form is not None
