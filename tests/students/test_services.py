"""Students: validation, duplicate warning by blind index, CSV class-list import."""
import datetime as dt

import pytest
from freezegun import freeze_time
from sqlalchemy import func, select

from app.domain import DomainError, NotPermitted
from app.students.importer import import_class_list, parse_class_list
from app.students.models import Student
from app.students.services import DuplicateStudent, create_student

CSV_HEADER = "이름,생년월일,학년,반,번호,보호자명,보호자연락처,이주배경,가정언어\n"


def count(db):
    return db.session.scalar(select(func.count(Student.id)))


def test_duplicate_detected_with_other_spacing(build, db):
    school = build.school()
    teacher = build.user("school_staff", organisation=school)
    create_student(teacher, school, {"name": "김 하늘", "birth_date": dt.date(2014, 5, 1)})
    with pytest.raises(DuplicateStudent) as dup:
        create_student(teacher, school, {"name": " 김 하늘", "birth_date": dt.date(2014, 5, 1)})
    assert len(dup.value.existing) == 1
    create_student(teacher, school, {"name": "김 하늘", "birth_date": dt.date(2014, 5, 1)}, allow_duplicate=True)
    # another school's student of the same name is not a duplicate, and is not revealed
    other = build.school()
    create_student(build.user("school_staff", organisation=other), other,
                   {"name": "김 하늘", "birth_date": dt.date(2014, 5, 1)})
    assert count(db) == 3


@freeze_time("2026-03-02")
@pytest.mark.parametrize("fields, field", [
    ({"name": "", "birth_date": dt.date(2014, 1, 1)}, "name"),
    ({"name": "이별", "birth_date": dt.date(2026, 3, 3)}, "birth_date"),
    ({"name": "이별", "grade": 13}, "grade"),
])
def test_invalid_student_refused(build, db, fields, field):
    school = build.school()
    teacher = build.user("school_staff", organisation=school)
    with pytest.raises(DomainError) as refused:
        create_student(teacher, school, fields)
    assert refused.value.field == field and count(db) == 0


def test_other_school_may_not_create(build, db):
    school = build.school()
    with pytest.raises(NotPermitted):
        create_student(build.user("school_staff"), school, {"name": "홍길동"})
    with pytest.raises(NotPermitted):
        create_student(build.user("district_coordinator"), school, {"name": "홍길동"})


def test_csv_import_cp949_all_rows(build, db):
    school = build.school()
    teacher = build.user("school_staff", organisation=school)
    raw = (CSV_HEADER + "박서준,2014-03-05,5,2,7,박엄마,010-1111-2222,예,베트남어\n"
           "이수아,20140611,5,2,8,,,,\n").encode("cp949")
    assert import_class_list(teacher, school, raw) == 2
    db.session.commit()
    students = db.session.execute(select(Student).order_by(Student.number)).scalars().all()
    assert [s.name for s in students] == ["박서준", "이수아"]
    assert students[0].migrant_background and students[0].home_language == "베트남어"


def test_csv_import_saves_nothing_on_any_error(build, db):
    school = build.school()
    teacher = build.user("school_staff", organisation=school)
    raw = ("\ufeff" + CSV_HEADER + "박서준,2014-03-05,5,2,7,,,,\n정하윤,2014-13-40,5,2,9,,,,\n"
           ",2014-01-01,5,2,10,,,,\n").encode("utf-8")
    preview = parse_class_list(raw, school)
    assert [(line, label) for line, label, _ in preview.errors] == [(3, "생년월일"), (4, "이름")]
    with pytest.raises(DomainError):
        import_class_list(teacher, school, raw)
    db.session.rollback()
    assert count(db) == 0


def test_csv_missing_columns(build):
    school = build.school()
    with pytest.raises(DomainError) as refused:
        parse_class_list("이름,학년\n김,1\n".encode(), school)
    assert "생년월일" in refused.value.message


def test_edit_into_a_duplicate_is_refused(build, db):
    from app.students.services import update_student
    school = build.school()
    teacher = build.user("school_staff", organisation=school)
    first = create_student(teacher, school, {"name": "서지안", "birth_date": dt.date(2014, 2, 2)})
    second = create_student(teacher, school, {"name": "서지안", "birth_date": dt.date(2014, 2, 3)})
    with pytest.raises(DuplicateStudent) as dup:
        update_student(teacher, second, {"birth_date": dt.date(2014, 2, 2)})
    assert dup.value.existing == [first]
    update_student(teacher, second, {"grade": 4})  # unrelated edits are unaffected
    assert second.grade == 4 and second.birth_date == dt.date(2014, 2, 3)
