"""Student screens: list and search, registration with the duplicate warning, the student page
and its edit form, and the audit of every view."""
from __future__ import annotations

import datetime as dt
import json
import re

import pytest
from sqlalchemy import func, select

from app.audit.models import AuditEvent
from app.db import today_kst
from app.students.models import Student


def count(db):
    return db.session.scalar(select(func.count(Student.id)))


def events(db, action):
    return list(db.session.execute(select(AuditEvent).filter_by(action=action).order_by(AuditEvent.id)).scalars())


def listed(page: str) -> list[str]:
    return re.findall(r'<tr data-student="([0-9a-f-]{36})">', page)


@pytest.fixture
def app(make_app):
    app = make_app(PAGE_SIZE=3)
    with app.app_context():
        yield app


def student_form(**overrides):
    data = {"name": "최하늘", "birth_date": "2014-05-01", "grade": "5", "class_no": "3", "number": "12",
            "neis_number": "N-123", "phone": "010-1111-2222", "address": "서울 마포구 월드컵로 1",
            "parent_name": "최보호", "parent_relation": "모", "parent_phone": "010-3333-4444",
            "migrant_background": "y", "home_language": "베트남어"}
    data.update(overrides)
    return data


# -- list ----------------------------------------------------------------------------------------

def test_list_in_class_order_with_pages(client, teacher, build, school, db):
    made = [build.student(school, actor=teacher, grade=g, class_no=c, number=n)
            for g, c, n in ((6, 1, 1), (5, 2, 9), (5, 2, 3), (5, 1, 20))]
    first = client.get("/students/").get_data(as_text=True)
    second = client.get("/students/?page=2").get_data(as_text=True)
    assert listed(first) + listed(second) == [made[3].uid, made[2].uid, made[1].uid, made[0].uid]
    assert "모두 4명" in first and 'href="/students/?page=2"' in first
    assert made[3].name in first and "5학년 1반 20번" in first


def test_search_by_name_part_or_neis_number(client, teacher, build, school):
    wanted = build.student(school, actor=teacher, name="박서준", neis_number="N-7777", grade=5)
    similar = build.student(school, actor=teacher, name="박서윤", grade=6)
    build.student(build.school(), name="박서진")  # another school's student is never found
    for q in ("박서준", "N-7777", "n-7777 ", "서준", "박 서준"):
        found = client.post("/students/", data={"q": q}, follow_redirects=True).get_data(as_text=True)
        assert listed(found) == [wanted.uid], q
    page = client.post("/students/", data={"q": "박서"}, follow_redirects=True).get_data(as_text=True)
    assert listed(page) == [wanted.uid, similar.uid]
    page = client.post("/students/", data={"q": "김"}, follow_redirects=True).get_data(as_text=True)
    assert listed(page) == [] and "'김' 이름의 학생이 없습니다." in page
    assert 'href="/students/?page=2&amp;q=' not in page


def test_list_view_is_audited_without_the_search_text(client, teacher, build, school, db):
    student = build.student(school, actor=teacher, name="박서준")
    client.post("/students/", data={"q": "박서준"}, follow_redirects=True)
    event = events(db, "student_list_viewed")[-1]
    assert json.loads(event.details) == {"searched": True, "page": 1, "shown": 1}
    assert "박서준" not in event.details and student.uid not in (event.subject_ref or "")


def test_empty_list_offers_registration(client, teacher):
    page = client.get("/students/").get_data(as_text=True)
    assert "아직 등록된 학생이 없습니다" in page and 'href="/students/new"' in page


def test_open_case_counts(client, teacher, build, school):
    student = build.student(school, actor=teacher)
    build.case(school, student=student, status="closed")
    build.case(school, student=student)
    page = client.get("/students/").get_data(as_text=True)
    assert re.search(rf'data-student="{student.uid}">.*?<td class="num">1</td>', page, re.S)


# -- registration --------------------------------------------------------------------------------

def test_register_student(client, teacher, school, db):
    response = client.post("/students/new", data=student_form())
    student = db.session.execute(select(Student)).scalar_one()
    assert response.status_code == 302 and response.headers["Location"] == f"/students/{student.uid}"
    assert (student.name, student.birth_date, student.class_label) == ("최하늘", dt.date(2014, 5, 1), "5학년 3반 12번")
    assert (student.parent_name, student.parent_phone, student.neis_number) == ("최보호", "010-3333-4444", "N-123")
    assert student.migrant_background and student.home_language == "베트남어" and not student.special_education
    assert student.school_id == school.id
    # stored encrypted: the name is not in the row
    raw = db.session.execute(select(Student.name_enc)).scalar_one()
    assert "최하늘" not in raw


def test_home_language_is_dropped_without_migrant_background(client, teacher, db):
    client.post("/students/new", data=student_form(migrant_background=""))
    student = db.session.execute(select(Student)).scalar_one()
    assert not student.migrant_background and student.home_language is None


def test_duplicate_warning_then_confirmed(client, teacher, build, school, db):
    existing = build.student(school, actor=teacher, name="최하늘", birth_date=dt.date(2014, 5, 1))
    response = client.post("/students/new", data=student_form())
    page = response.get_data(as_text=True)
    assert response.status_code == 400 and count(db) == 1
    assert 'data-testid="duplicate-warning"' in page and "같은 이름의 다른 학생입니다" in page
    assert f'href="/students/{existing.uid}"' in page
    assert 'id="name-error"' in page and "같은 학생인지 확인해 주세요" in page
    response = client.post("/students/new", data=student_form(confirm_duplicate="y"))
    assert response.status_code == 302 and count(db) == 2


def test_same_name_in_another_school_is_not_a_duplicate(client, teacher, build, db):
    build.student(build.school(), name="최하늘", birth_date=dt.date(2014, 5, 1))
    response = client.post("/students/new", data=student_form())
    assert response.status_code == 302 and count(db) == 2


@pytest.mark.parametrize("overrides, field, message", [
    ({"birth_date": "TOMORROW"}, "birth_date", "생년월일은 오늘 이후일 수 없습니다."),
    ({"birth_date": ""}, "birth_date", "생년월일을 입력해 주세요."),
    ({"birth_date": "2014-02-30"}, "birth_date", "날짜"),
    ({"name": "  "}, "name", "이름을 입력해 주세요."),
    ({"grade": "0"}, "grade", "학년은 1에서 6 사이여야 합니다 (초등학교)."),
    ({"class_no": "삼"}, "class_no", "정수"),
    ({"phone": "전화없음"}, "phone", "전화번호는 숫자와"),
])
def test_invalid_student_is_explained_and_not_saved(overrides, field, message, client, teacher, db):
    tomorrow = (today_kst() + dt.timedelta(days=1)).isoformat()
    overrides = {k: (tomorrow if v == "TOMORROW" else v) for k, v in overrides.items()}
    response = client.post("/students/new", data=student_form(**overrides))
    page = response.get_data(as_text=True)
    assert response.status_code == 400 and count(db) == 0
    assert f'id="{field}-error"' in page and message in page and 'data-testid="error-summary"' in page


# -- the student page ----------------------------------------------------------------------------

def test_student_page_shows_details_and_cases_and_is_audited(client, teacher, build, school, db):
    student = build.student(school, actor=teacher, address="서울 마포구 월드컵로 1")
    case = build.case(school, student=student, needs=(("welfare", "급식비"),))
    response = client.get(f"/students/{student.uid}")
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert student.name in page and "서울 마포구 월드컵로 1" in page and student.parent_phone in page
    assert f'data-case="{case.uid}"' in page and "복지" in page and f'href="/cases/{case.uid}"' in page
    assert f'href="/cases/new?student={student.uid}"' in page
    viewed = events(db, "student_viewed")
    # the object is the subject: its uid is kept once, where a retention tombstone can replace it
    assert [(e.object_type, e.object_id, e.subject_ref, e.actor_id) for e in viewed] == [
        ("student", "=subject", student.uid, teacher.id)]
    assert student.name not in (viewed[0].details or "")


def test_edit_student(client, teacher, build, school, db):
    student = build.student(school, actor=teacher)
    data = student_form(name=student.name, birth_date=student.birth_date.isoformat(), parent_phone="010-9999-0000",
                        special_education="y")
    response = client.post(f"/students/{student.uid}/edit", data=data)
    assert response.status_code == 302 and response.headers["Location"] == f"/students/{student.uid}"
    db.session.expire_all()
    assert student.parent_phone == "010-9999-0000" and student.special_education
    updated = events(db, "student_updated")[-1]
    assert "parent_phone" in json.loads(updated.details)["fields"] and "010-9999-0000" not in updated.details


def test_invalid_edit_keeps_the_student_and_shows_the_error(client, teacher, build, school, db):
    student = build.student(school, actor=teacher, birth_date=dt.date(2014, 1, 2))
    tomorrow = (today_kst() + dt.timedelta(days=1)).isoformat()
    response = client.post(f"/students/{student.uid}/edit", data=student_form(birth_date=tomorrow))
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert 'id="birth_date-error"' in page and "생년월일은 오늘 이후일 수 없습니다." in page
    assert "<details class=\"ieum-details\" open>" in page
    db.session.expire_all()
    assert student.birth_date == dt.date(2014, 1, 2) and student.name != "최하늘"
    assert events(db, "student_updated") == []


def test_edit_form_is_prefilled(client, teacher, build, school):
    student = build.student(school, actor=teacher, parent_relation="조모")
    page = client.get(f"/students/{student.uid}").get_data(as_text=True)
    assert f'value="{student.name}"' in page and 'value="조모"' in page and f'action="/students/{student.uid}/edit"' in page
