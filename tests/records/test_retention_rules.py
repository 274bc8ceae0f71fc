"""Retention dates (학생맞춤통합지원법 시행령 제10조⑤) for every school level and grade, the leaving
rule by birth date, missing values (확인 필요), and the date kept per student as it changes
(freezegun: the school year a grade is recorded in counts)."""
from __future__ import annotations

import datetime as dt

import pytest
from freezegun import freeze_time
from sqlalchemy import select

from app.extensions import db
from app.records.retention_models import StudentRetention
from app.records.retention_rules import (birthday_at, completion_date, end_of_february, retention_for,
                                         school_year)
from app.records.retention_services import refresh_missing
from app.students.services import update_student

D = dt.date


@pytest.mark.parametrize("day, year", [(D(2026, 3, 1), 2026), (D(2027, 2, 28), 2026), (D(2026, 2, 28), 2025),
                                       (D(2026, 12, 31), 2026), (D(2028, 2, 29), 2027)])
def test_school_year_starts_in_march(day, year):
    assert school_year(day) == year


def test_end_of_february_knows_leap_years():
    assert end_of_february(2031) == D(2031, 2, 28) and end_of_february(2032) == D(2032, 2, 29)


#: level, grade in school year 2026 -> the last day kept (high-school completion)
COMPLETION = {("elementary", g): end_of_february(2026 + (6 - g) + 6 + 1) for g in range(1, 7)}
COMPLETION.update({("middle", g): end_of_february(2026 + (3 - g) + 3 + 1) for g in range(1, 4)})
COMPLETION.update({("high", g): end_of_february(2026 + (3 - g) + 1) for g in range(1, 4)})
COMPLETION.update({("special", g): end_of_february(2026 + (12 - g) + 1) for g in range(1, 13)})


@pytest.mark.parametrize("level, grade", sorted(COMPLETION))
def test_completion_for_every_level_and_grade(level, grade):
    result = retention_for(level=level, grade=grade, grade_year=2026, left_school_on=None, birth_date=D(2012, 5, 5))
    assert (result.rule, result.until, result.missing) == ("completion", COMPLETION[(level, grade)], None)


def test_the_issue_example_and_the_ends_of_the_range():
    assert completion_date("middle", 2, 2026) == D(2031, 2, 28)
    assert completion_date("high", 3, 2026) == D(2027, 2, 28)
    assert completion_date("elementary", 1, 2026) == D(2038, 2, 28)


@pytest.mark.parametrize("level, grade, missing", [(None, 2, "level"), ("college", 2, "level"), ("middle", None, "grade"),
                                                   ("middle", 4, "grade"), ("elementary", 0, "grade")])
def test_a_missing_or_impossible_value_gives_no_date(level, grade, missing):
    result = retention_for(level=level, grade=grade, grade_year=2026, left_school_on=None, birth_date=D(2012, 5, 5))
    assert (result.rule, result.until, result.missing) == ("unknown", None, missing)


def test_a_student_who_left_is_kept_until_the_19th_birthday_whatever_the_grade():
    result = retention_for(level="middle", grade=2, grade_year=2026, left_school_on=D(2026, 9, 1),
                           birth_date=D(2012, 5, 5))
    assert (result.rule, result.until) == ("age19", D(2031, 5, 5))
    result = retention_for(level=None, grade=None, grade_year=2026, left_school_on=D(2026, 9, 1), birth_date=None)
    assert (result.rule, result.until, result.missing) == ("unknown", None, "birth_date")


def test_a_29_february_birthday_counts_on_28_february():
    assert birthday_at(D(2008, 2, 29), 19) == D(2027, 2, 28)
    assert birthday_at(D(2009, 2, 28), 19) == D(2028, 2, 28)


def row(student) -> StudentRetention:
    db.session.expire_all()
    return db.session.get(StudentRetention, student.id)


@freeze_time("2026-12-01 03:00:00")
def test_a_new_student_gets_a_date_from_the_grade_of_this_school_year(app, build):
    school = build.school(school_level="middle")
    student = build.student(school, grade=2)
    assert (row(student).rule, row(student).until, row(student).grade_year) == ("completion", D(2031, 2, 28), 2026)
    no_grade = build.student(school, grade=None)
    assert (row(no_grade).rule, row(no_grade).until, row(no_grade).missing) == ("unknown", None, "grade")


def test_a_new_grade_next_school_year_recomputes_from_that_year(app, build):
    with freeze_time("2026-12-01 03:00:00"):
        school = build.school(school_level="middle")
        lead = build.user("school_lead", organisation=school)
        student = build.student(school, actor=lead, grade=2)
    with freeze_time("2027-03-05 03:00:00"):  # held back: still grade 2 in 2027
        update_student(lead, student, {"grade": 2})  # unchanged value: nothing recomputed
        db.session.commit()
        assert row(student).until == D(2031, 2, 28)
        update_student(lead, student, {"grade": 1})
        db.session.commit()
        update_student(lead, student, {"grade": 2})
        db.session.commit()
        assert (row(student).grade_year, row(student).until) == (2027, D(2032, 2, 29))


@freeze_time("2026-12-01 03:00:00")
def test_a_school_without_a_level_needs_checking(app, build):
    school = build.school(school_level=None)
    student = build.student(school, grade=3)
    assert (row(student).rule, row(student).missing) == ("unknown", "level")


@freeze_time("2026-12-01 03:00:00")
def test_refresh_computes_students_from_before_the_feature(app, build):
    school = build.school(school_level="high")
    student = build.student(school, grade=1)
    db.session.execute(StudentRetention.__table__.delete())
    db.session.commit()
    assert refresh_missing() == 1
    assert (row(student).rule, row(student).until) == ("completion", D(2029, 2, 28))
    assert refresh_missing() == 0
    assert len(db.session.execute(select(StudentRetention)).all()) == 1


@freeze_time("2026-12-01 03:00:00")
def test_students_an_import_registers_at_once_get_the_dates_of_students_registered_one_by_one(app, build):
    from app.students.importer import import_class_list
    school = build.school(school_level="middle")
    lead = build.user("school_lead", organisation=school)
    by_hand = [build.student(school, actor=lead, grade=g) for g in (2, 3)]
    raw = "이름,생년월일,학년,반,번호\n가나다,2013-05-05,2,1,1\n라마바,2012-06-06,3,1,2\n".encode()
    import_class_list(lead, school, raw)
    db.session.commit()
    imported = db.session.execute(select(StudentRetention).where(
        StudentRetention.student_id.not_in([s.id for s in by_hand])).order_by(StudentRetention.student_id)).scalars().all()
    assert [(r.rule, r.until, r.missing, r.grade_year) for r in imported] == \
           [(row(s).rule, row(s).until, row(s).missing, row(s).grade_year) for s in by_hand]
    assert [(r.rule, r.until) for r in imported] == [("completion", D(2031, 2, 28)), ("completion", D(2030, 2, 28))]
