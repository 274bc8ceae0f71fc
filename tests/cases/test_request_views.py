"""지원 요청 on one screen: existing or inline student, needs with descriptions, one transaction."""
from __future__ import annotations

import datetime as dt
import re

import pytest
from sqlalchemy import func, select

from app.audit.models import AuditEvent
from app.cases import services as case_services
from app.cases.models import DOMAINS, CaseNeed, SupportCase
from app.cases.views import request as request_view
from app.db import today_kst
from app.domain import DomainError
from app.students.models import Student


def count(db, model):
    return db.session.scalar(select(func.count(model.id)))


def actions(db, action):
    return list(db.session.execute(select(AuditEvent).filter_by(action=action).order_by(AuditEvent.id)).scalars())


@pytest.fixture
def school(build):
    return build.school()


@pytest.fixture
def teacher(build, school, login):
    user = build.user("school_staff", organisation=school)
    login(user)
    return user


def checked_needs(page: str) -> list[str]:
    return re.findall(r'id="needs-(\w+)" value="\w+"\s+checked', page)


def request_data(**overrides):
    data = {"student_mode": "existing", "requested_by": "parent", "risk_level": "intensive",
            "needs": ["learning", "counselling"], "desc_learning": "기초학력 미달", "desc_counselling": "또래 갈등",
            "summary": "3월부터 결석이 잦음"}
    data.update(overrides)
    return data


def new_student(**overrides):
    data = {"student_mode": "new", "new_name": "최하늘", "new_birth_date": "2014-05-01", "new_grade": "5",
            "new_class_no": "3", "new_number": "12"}
    data.update(overrides)
    return request_data(**data)


def test_page_offers_every_domain_and_defaults(client, teacher, build, school):
    student = build.student(school)
    page = client.get("/cases/new").get_data(as_text=True)
    for code, label in DOMAINS.items():
        assert f'value="{code}"' in page and f'name="desc_{code}"' in page and str(label) in page
    assert 'checked id="risk_level-0" name="risk_level" required type="radio" value="general"' in page
    assert re.search(r'checked id="requested_by-\d" name="requested_by" required type="radio" value="staff"', page)
    assert student.uid in page and "form.hidden_tag" not in page
    assert "style=" not in page and "<script>" not in page


def test_request_for_existing_student(client, teacher, build, school, db):
    student = build.student(school)
    response = client.post("/cases/new", data=request_data(student=student.uid))
    case = db.session.execute(select(SupportCase)).scalar_one()
    assert response.status_code == 302
    assert response.headers["Location"] == f"/cases/{case.uid}"
    assert (case.student_id, case.requested_by, case.risk_level, case.status) == (student.id, "parent", "intensive", "requested")
    assert case.summary == "3월부터 결석이 잦음" and case.owner_id == teacher.id
    assert [(n.domain, n.description) for n in case.needs] == [("learning", "기초학력 미달"), ("counselling", "또래 갈등")]
    assert [e.subject_ref for e in actions(db, "case_requested")] == [student.uid]


def test_preselected_student_from_the_student_page(client, teacher, build, school):
    student = build.student(school)
    build.student(school)
    page = client.get(f"/cases/new?student={student.uid}").get_data(as_text=True)
    assert f'<option selected value="{student.uid}">' in page


def test_inline_student_and_case_in_one_go(client, teacher, school, db):
    response = client.post("/cases/new", data=new_student())
    assert response.status_code == 302
    student = db.session.execute(select(Student)).scalar_one()
    case = db.session.execute(select(SupportCase)).scalar_one()
    assert (student.name, student.birth_date, student.class_label) == ("최하늘", dt.date(2014, 5, 1), "5학년 3반 12번")
    assert student.school_id == school.id and case.student_id == student.id
    assert response.headers["Location"] == f"/cases/{case.uid}"
    assert len(actions(db, "student_created")) == 1


def test_school_without_students_starts_with_new_student(client, teacher):
    page = client.get("/cases/new").get_data(as_text=True)
    assert re.search(r'checked id="student_mode-\d" name="student_mode" required type="radio" value="new"', page)


def test_inline_student_duplicate_warning_then_confirm(client, teacher, build, school, db):
    existing = build.student(school, name="최하늘", birth_date=dt.date(2014, 5, 1))
    response = client.post("/cases/new", data=new_student())
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "같은 이름의 다른 학생입니다" in page and 'data-testid="duplicate-warning"' in page
    assert f'name="use_existing" value="{existing.uid}"' in page
    # Enter in a text field presses the first submit button: the ordinary save, not "this student"
    assert page.index('class="sr-only" tabindex="-1"') < page.index('name="use_existing"')
    assert count(db, Student) == 1 and count(db, SupportCase) == 0
    response = client.post("/cases/new", data=new_student(confirm_duplicate="y"))
    assert response.status_code == 302
    assert count(db, Student) == 2 and count(db, SupportCase) == 1
    created = actions(db, "student_created")[-1]
    assert '"duplicate_confirmed":true' in created.details


def test_duplicate_warning_can_pick_the_registered_student(client, teacher, build, school, db):
    existing = build.student(school, name="최하늘", birth_date=dt.date(2014, 5, 1))
    response = client.post("/cases/new", data=new_student(use_existing=existing.uid))
    assert response.status_code == 302
    case = db.session.execute(select(SupportCase)).scalar_one()
    assert case.student_id == existing.id and count(db, Student) == 1


@pytest.mark.parametrize("data, field, message", [
    (request_data(desc_counselling=""), "desc_counselling", "상담 영역의 내용을 간단히 적어 주세요."),
    (request_data(desc_counselling="   "), "desc_counselling", "상담 영역의 내용을 간단히 적어 주세요."),
    (request_data(needs=["learning", "astrology"]), "needs", "알 수 없는 지원 영역입니다."),
    (request_data(needs=[], desc_learning="", desc_counselling=""), "needs", "하나 이상 선택해 주세요."),
    (request_data(desc_health="두통 호소"), "desc_health", "건강 영역을 선택하거나 적은 내용을 지워 주세요."),
    (request_data(requested_by="neighbour"), "requested_by", "올바르지 않은 선택값입니다."),
    (request_data(risk_level=""), "risk_level", "위기 수준을 선택해 주세요."),
    (request_data(student=""), "student", "지원할 학생을 선택해 주세요."),
    (new_student(new_birth_date="TOMORROW"), "new_birth_date", "생년월일은 오늘 이후일 수 없습니다."),
    (new_student(new_birth_date="2014-02-30"), "new_birth_date", "날짜"),
    (new_student(new_name=""), "new_name", "학생 이름을 입력해 주세요."),
    (new_student(new_grade="7"), "new_grade", "학년은 1에서 6 사이여야 합니다 (초등학교)."),
    (new_student(new_number=""), "new_number", "번호를 입력해 주세요."),
])
def test_invalid_input_is_shown_next_to_the_field_and_saves_nothing(data, field, message, client, teacher, build,
                                                                     school, db):
    student = build.student(school)
    data = {"student": student.uid, **data} if data.get("student_mode") == "existing" and "student" not in data else data
    tomorrow = (today_kst() + dt.timedelta(days=1)).isoformat()  # today in Seoul is what the rule means
    data = {k: (tomorrow if v == "TOMORROW" else v) for k, v in data.items()}
    students = count(db, Student)
    response = client.post("/cases/new", data=data)
    page = response.get_data(as_text=True)
    assert response.status_code == 400, response.headers.get("Location")
    assert f'id="{field}-error"' in page and message in page
    assert 'data-testid="error-summary"' in page
    assert count(db, Student) == students and count(db, SupportCase) == 0 and count(db, CaseNeed) == 0


def test_refused_case_takes_the_new_student_with_it(client, teacher, db, monkeypatch):
    """Inline student and case are one transaction: the service refusing the case leaves no student."""
    def refuse(*args, **kwargs):
        raise DomainError("위기 수준을 선택해 주세요.", "risk_level")
    original = case_services.create_request

    def create_then_refuse(actor, student, **kwargs):
        original(actor, student, **kwargs)  # flushes the case, then the rule says no
        refuse()
    monkeypatch.setattr(request_view, "create_request", create_then_refuse)
    response = client.post("/cases/new", data=new_student())
    assert response.status_code == 400 and "위기 수준을 선택해 주세요." in response.get_data(as_text=True)
    assert count(db, Student) == 0 and count(db, SupportCase) == 0
    assert actions(db, "student_created") == [] and actions(db, "case_requested") == []


def test_form_values_survive_an_error(client, teacher, build, school):
    student = build.student(school)
    page = client.post("/cases/new", data=request_data(student=student.uid, desc_counselling="")).get_data(as_text=True)
    assert 'value="기초학력 미달"' in page and "3월부터 결석이 잦음" in page
    assert checked_needs(page) == ["learning", "counselling"]
    assert f'<option selected value="{student.uid}">' in page


def test_search_narrows_the_picker_by_exact_name(client, teacher, build, school):
    one, other = build.student(school, name="박서준"), build.student(school, name="이수아")
    response = client.post("/cases/new", data={"q": " 박서준 ", "action": "find"})
    assert response.status_code == 200  # the form again, searched: nothing saved, no name in a URL
    page = response.get_data(as_text=True)
    assert one.uid in page and other.uid not in page and 'action="/cases/new"' in page
    assert f'<option selected value="{one.uid}">' in page  # one match: already picked


def test_request_page_records_the_picker_as_a_list_view(client, teacher, build, school, db):
    build.student(school, name="박서준")
    client.post("/cases/new", data={"q": "박서준", "action": "find"})
    event = actions(db, "student_list_viewed")[-1]
    assert "박서준" not in (event.details or "") and '"searched":true' in event.details


def test_nav_shows_request_and_lists_to_school_staff(client, teacher):
    home = client.get("/", follow_redirects=True).get_data(as_text=True)
    for href in ('href="/cases/"', 'href="/cases/new"', 'href="/students/"'):
        assert href in home


# --- issue 15: the search keeps what was typed, Enter saves nothing, all errors at once ---

def test_find_keeps_everything_typed_and_saves_nothing(client, teacher, build, school, db):
    one, other = build.student(school, name="박서준"), build.student(school, name="이수아")
    events = len(actions(db, "student_list_viewed"))
    response = client.post("/cases/new", data=request_data(action="find", q="서준", student=""))
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert 'value="기초학력 미달"' in page and 'value="또래 갈등"' in page and "3월부터 결석이 잦음" in page
    assert checked_needs(page) == ["learning", "counselling"]
    assert re.search(r'value="parent"\s+checked|checked[^>]*value="parent"', page)
    assert one.uid in page and other.uid not in page  # a part of the name finds the student
    assert f'<option selected value="{one.uid}">' in page  # the one match is picked
    assert 'data-testid="error-summary"' not in page and "박서준" not in (response.headers.get("Location") or "")
    assert count(db, SupportCase) == 0
    assert len(actions(db, "student_list_viewed")) == events + 1
    assert "서준" not in (actions(db, "student_list_viewed")[-1].details or "")


def test_find_says_when_nothing_matched(client, teacher, build, school):
    build.student(school, name="박서준")
    page = client.post("/cases/new", data=request_data(action="find", q="김")).get_data(as_text=True)
    assert 'data-testid="no-student-found"' in page and "'김' 이름의 학생이 없습니다." in page


def test_stay_button_is_first_and_keeps_the_new_student(client, teacher, build, school, db):
    """Enter without script presses the first submit button: it only shows the form again."""
    build.student(school)
    page = client.get("/cases/new").get_data(as_text=True)
    form = page[page.index('data-testid="request-form"'):]
    assert "data-enter-guard" in form[:200]
    first_button = re.search(r'<button type="submit"[^>]*>', form).group(0)
    assert 'value="stay"' in first_button
    response = client.post("/cases/new", data=new_student(action="stay"))
    page = response.get_data(as_text=True)
    assert response.status_code == 200 and 'value="최하늘"' in page
    assert re.search(r'value="new"\s+checked|checked[^>]*value="new"', page)
    assert count(db, Student) == 1 and count(db, SupportCase) == 0


def test_every_error_in_one_round(client, teacher, build, db):
    school = build.school(school_level="elementary")
    teacher.organisation_id = school.id
    db.session.commit()
    response = client.post("/cases/new", data=new_student(new_grade="9", new_number="120", desc_counselling="",
                                                          risk_level=""))
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "학년은 1에서 6 사이여야 합니다 (초등학교)." in page and 'id="new_grade-error"' in page
    assert "번호는 1에서 99 사이여야 합니다." in page and 'id="new_number-error"' in page
    assert "상담 영역의 내용을 간단히 적어 주세요." in page and "위기 수준을 선택해 주세요." in page
    assert count(db, Student) == 0


def test_text_fields_count_and_refuse_overlong_input(client, teacher, build, school, db):
    student = build.student(school)
    page = client.get("/cases/new").get_data(as_text=True)
    summary = re.search(r'<textarea[^>]*id="summary"[^>]*>', page).group(0)
    assert 'data-maxlength="2000"' in summary and "maxlength=\"" not in summary.replace("data-maxlength", "")
    assert 'id="summary-count" data-counter-for="summary"' in page and 'id="desc_learning-count"' in page
    desc = re.search(r'<input[^>]*id="desc_learning"[^>]*>', page).group(0)
    assert 'data-maxlength="200"' in desc and " maxlength=" not in desc
    assert "js/form-helpers.js" in page
    response = client.post("/cases/new", data=request_data(student=student.uid, summary="가" * 2001,
                                                           desc_learning="나" * 201))
    page = response.get_data(as_text=True)
    assert response.status_code == 400 and count(db, SupportCase) == 0
    assert "2,000자 이내로 입력해 주세요." in page and "200자 이내로 간단히 적어 주세요." in page


def test_grade_input_offers_the_school_level_range(client, teacher):
    page = client.get("/cases/new").get_data(as_text=True)  # the test school is an elementary school
    grade = re.search(r'<input[^>]*id="new_grade"[^>]*>', page).group(0)
    assert 'max="6"' in grade and 'min="1"' in grade
