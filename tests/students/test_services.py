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
    result = import_class_list(teacher, school, raw)
    assert (result.added, result.updated) == (2, 0)
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


@pytest.mark.parametrize("level, grade, message", [
    ("elementary", 7, "학년은 1에서 6 사이여야 합니다 (초등학교)."),
    ("middle", 4, "학년은 1에서 3 사이여야 합니다 (중학교)."),
    ("high", 4, "학년은 1에서 3 사이여야 합니다 (고등학교)."),
    ("special", 13, "학년은 1에서 12 사이여야 합니다 (특수학교)."),
    (None, 13, "학년은 1에서 12 사이여야 합니다."),
])
def test_grade_range_follows_the_school_level(build, db, level, grade, message):
    school = build.school(school_level=level)
    teacher = build.user("school_staff", organisation=school)
    with pytest.raises(DomainError) as refused:
        create_student(teacher, school, {"name": "이별", "grade": grade})
    assert refused.value.field == "grade" and refused.value.message == message and count(db) == 0
    create_student(teacher, school, {"name": "이별", "grade": grade - 1})  # the top grade itself is fine
    assert count(db) == 1


def test_every_broken_rule_is_reported_with_the_right_particle(build):
    from app.students.services import student_field_errors
    errors = student_field_errors({"name": "", "grade": 0, "class_no": 31, "number": 100}, build.school())
    assert [(e.field, e.message) for e in errors] == [
        ("name", "학생 이름을 입력해 주세요."), ("grade", "학년은 1에서 6 사이여야 합니다 (초등학교)."),
        ("class_no", "반은 1에서 30 사이여야 합니다."), ("number", "번호는 1에서 99 사이여야 합니다.")]


def test_partial_name_search_within_the_scope(build, db):
    from app.students.queries import search_students
    school, other = build.school(), build.school()
    seo = build.student(school, name="박서준")
    build.student(school, name="이수아")
    build.student(other, name="김서준")
    query = select(Student).where(Student.school_id == school.id)
    assert search_students(query, "서준", 10) == ([seo], False)
    assert search_students(query, " 박 서준 ", 10) == ([seo], False)
    assert search_students(query, "김", 10) == ([], False)
    many = [build.student(school, name=f"최하{n}") for n in range(3)]
    found, more = search_students(query, "최하", 2)
    assert len(found) == 2 and more and set(found) <= set(many)


def test_updated_class_list_adds_and_moves_in_one_transaction(build, db):
    """A new school year: 박서준 (matched by NEIS number although the file spells the name with a
    space) and 이수아 (by name and birth date) move class, 정하윤 is unchanged, 최하늘 is new."""
    from app.audit.models import AuditEvent
    school = build.school()
    teacher = build.user("school_staff", organisation=school)
    seo = build.student(school, name="박서준", birth_date=dt.date(2014, 3, 5), grade=5, class_no=2, number=7,
                        neis_number="N-1")
    sua = build.student(school, name="이수아", birth_date=dt.date(2014, 6, 11), grade=5, class_no=2, number=8)
    build.student(school, name="정하윤", birth_date=dt.date(2014, 1, 9), grade=6, class_no=1, number=3)
    header = "이름,생년월일,학년,반,번호,학생개인번호\n"
    raw = (header + "박 서준,2014-03-06,6,1,1,N-1\n이수아,2014-06-11,6,3,2,\n정하윤,2014-01-09,6,1,3,\n"
           "최하늘,2014-05-01,6,3,9,\n").encode()
    preview = parse_class_list(raw, school)
    assert preview.ok and (preview.added, preview.updated, preview.unchanged) == (1, 2, 1)
    result = import_class_list(teacher, school, raw)
    db.session.commit()
    assert (result.added, result.updated) == (1, 2) and count(db) == 4
    assert (seo.grade, seo.class_no, seo.number, seo.name) == (6, 1, 1, "박서준")  # only the class changes
    assert (sua.grade, sua.class_no, sua.number) == (6, 3, 2)
    actions = [e.action for e in db.session.execute(select(AuditEvent).order_by(AuditEvent.id)).scalars()]
    assert actions[-4:] == ["student_created", "student_updated", "student_updated", "students_imported"]


def test_an_invalid_row_saves_no_update_either(build, db):
    school = build.school()
    teacher = build.user("school_staff", organisation=school)
    seo = build.student(school, name="박서준", birth_date=dt.date(2014, 3, 5), grade=5, class_no=2, number=7)
    raw = (CSV_HEADER + "박서준,2014-03-05,6,1,1,,,,\n최하늘,2014-05-01,9,3,9,,,,\n").encode()
    with pytest.raises(DomainError):
        import_class_list(teacher, school, raw)
    db.session.rollback()
    assert count(db) == 1 and (seo.grade, seo.class_no) == (5, 2)
    preview = parse_class_list(raw, school)
    assert preview.errors == [(3, "학년", "학년은 1에서 6 사이여야 합니다 (초등학교).")]


def test_a_name_twice_registered_needs_the_neis_number(build, db):
    school = build.school()
    teacher = build.user("school_staff", organisation=school)
    for _ in range(2):
        create_student(teacher, school, {"name": "김하늘", "birth_date": dt.date(2014, 5, 1)}, allow_duplicate=True)
    preview = parse_class_list((CSV_HEADER + "김하늘,2014-05-01,6,1,1,,,,\n").encode(), school)
    assert not preview.ok and "학생개인번호 열을 채워 주세요" in preview.errors[0][2]


def test_many_class_changes_are_audited_per_student_with_the_fields_they_changed(build, db):
    from app.audit.chain import verify_chain
    from app.audit.models import AuditEvent
    from app.students.services import update_students
    school = build.school()
    teacher = build.user("school_staff", organisation=school)
    moved = [build.student(school, grade=5, class_no=2, number=n) for n in (1, 2, 3)]
    db.session.commit()
    changes = [(moved[0], {"grade": 6, "class_no": 1}), (moved[1], {"number": 9}), (moved[2], {"grade": 6, "class_no": 2})]
    assert update_students(teacher, school, changes) == 3
    db.session.commit()
    events = db.session.execute(select(AuditEvent).filter_by(action="student_updated").order_by(AuditEvent.id)).scalars().all()
    assert [(e.subject_ref, e.details) for e in events] == [
        (moved[0].uid, '{"fields":["grade","class_no"]}'), (moved[1].uid, '{"fields":["number"]}'),
        (moved[2].uid, '{"fields":["grade"]}')]  # class 2 was already class 2
    assert [(s.grade, s.class_no, s.number) for s in moved] == [(6, 1, 1), (5, 2, 9), (6, 2, 3)]
    assert verify_chain().ok


def test_many_class_changes_refuse_a_student_of_another_school(build, db):
    from app.audit.models import AuditEvent
    from app.students.services import update_students
    school, other = build.school(), build.school()
    teacher = build.user("school_staff", organisation=school)
    ours, theirs = build.student(school, grade=5), build.student(other, grade=5)
    db.session.commit()
    before = db.session.scalar(select(func.count(AuditEvent.id)))
    with pytest.raises(NotPermitted):
        update_students(teacher, school, [(ours, {"grade": 6}), (theirs, {"grade": 6})])
    db.session.rollback()
    assert (ours.grade, theirs.grade) == (5, 5) and db.session.scalar(select(func.count(AuditEvent.id))) == before
