"""``bulk.insert_rows``: many rows in one executemany of plain parameters, written exactly as
SQLAlchemy's own executemany writes them (SQLite and PostgreSQL)."""
from __future__ import annotations

import datetime as dt

from sqlalchemy import insert, select, text

from app.bulk import insert_rows
from app.db import new_uid
from app.records.retention_models import StudentRetention
from app.students.models import Student
from tests.querycount import counting

#: every column but the ids, to compare a row written each way
COMPARED = [c for c in Student.__table__.columns if c.key not in ("id", "uid")]


def student_row(school, built, **changes) -> dict:
    """The full row of a built (encrypted, unsaved) student, as an import inserts it."""
    now = dt.datetime(2026, 3, 2, 9, 0, 0)  # no microseconds: a datetime type's edge case
    row = {c.key: built.__dict__.get(c.key) for c in Student.__table__.columns if c.key != "id"}
    row.update(created_at=now, updated_at=now, migrant_background=True, special_education=False, **changes)
    return row


def built_student(school, name: str) -> Student:
    student = Student(school_id=school.id)
    student.name, student.birth_date, student.grade = name, dt.date(2015, 5, 6), 4
    return student


def stored(db, uid: str) -> tuple:
    """The row as the database holds it (a text query: no result processing evens out formats)."""
    names = ", ".join(c.name for c in COMPARED)
    return tuple(db.session.execute(text(f"SELECT {names} FROM student WHERE uid = :uid"), {"uid": uid}).one())


def test_rows_are_written_as_sqlalchemys_executemany_writes_them(db, build):
    school = build.school()
    db.session.commit()
    student = built_student(school, "가나다")
    # the same values under another uid (that copy's ciphertexts no longer decrypt: compared raw)
    ours, theirs = student_row(school, student), student_row(school, student, uid=new_uid())
    theirs["phone_enc"] = ours["phone_enc"] = None  # a NULL among the values
    insert_rows(db.session.connection(), Student.__table__, [ours])
    db.session.execute(insert(Student.__table__), [theirs])
    db.session.commit()
    assert stored(db, ours["uid"]) == stored(db, theirs["uid"])
    again = db.session.execute(select(Student).where(Student.uid == ours["uid"])).scalar_one()
    assert (again.name, again.birth_date, again.grade, again.migrant_background) == ("가나다", dt.date(2015, 5, 6), 4, True)
    assert again.created_at == dt.datetime(2026, 3, 2, 9, 0, 0)


def test_many_rows_are_one_statement_in_list_order(db, build):
    school = build.school()
    db.session.commit()
    rows = [student_row(school, built_student(school, f"학생{i}")) for i in range(25)]
    connection = db.session.connection()
    with counting() as seen:
        insert_rows(connection, Student.__table__, rows)
    assert len(seen) == 1 and seen[0].lstrip().upper().startswith("INSERT INTO STUDENT")
    saved = db.session.execute(select(Student.uid).where(Student.school_id == school.id).order_by(Student.id)).scalars().all()
    assert saved == [row["uid"] for row in rows]


def test_no_rows_run_no_statement(db):
    connection = db.session.connection()
    with counting() as seen:
        insert_rows(connection, StudentRetention.__table__, [])
    assert seen == []


def test_a_failed_insert_leaves_none_of_its_rows(db, build):
    school = build.school()
    db.session.commit()
    first = student_row(school, built_student(school, "하나"))
    uid = first["uid"]
    rows = [first, student_row(school, built_student(school, "둘"), uid=uid)]
    try:
        with db.session.begin_nested():
            insert_rows(db.session.connection(), Student.__table__, rows)
    except Exception as error:  # the second row repeats the first's uid (unique)
        assert "uid" in str(error).lower() or "unique" in str(error).lower()
    else:
        raise AssertionError("a repeated uid was accepted")
    assert db.session.execute(select(Student.id).where(Student.uid == uid)).first() is None
