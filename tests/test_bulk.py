"""``bulk.insert_rows``: many rows in one executemany of plain parameters, written exactly as
SQLAlchemy's own executemany writes them (SQLite and PostgreSQL)."""
from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import insert, select, text

from app.bulk import inserted_ids, insert_rows
from app.db import new_uid
from app.records.retention_models import StudentRetention
from app.students.models import Student
from tests.conftest import PG_URL
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


@pytest.mark.skipif(bool(PG_URL), reason="SQLite's multi-row VALUES lists")
def test_sqlite_takes_the_rows_as_values_lists_up_to_its_variable_limit(db, build, monkeypatch):
    # one statement (one step of the driver, one hand-over of the interpreter lock) per list
    import app.bulk as bulk
    school = build.school()
    db.session.commit()
    rows = [student_row(school, built_student(school, f"학생{i}")) for i in range(10)]
    width = len(rows[0])
    monkeypatch.setattr(bulk, "variable_limit", lambda connection: width * 3 + 1)  # 3 rows a statement
    connection = db.session.connection()
    with counting() as seen:
        insert_rows(connection, Student.__table__, rows)
    assert len(seen) == 4 and [s.count("), (") for s in seen] == [2, 2, 2, 0]
    saved = db.session.execute(select(Student.uid).where(Student.school_id == school.id).order_by(Student.id)).scalars().all()
    assert saved == [row["uid"] for row in rows]  # ids follow the list across statements


def test_the_ids_of_rows_just_inserted_are_one_aggregate_row(db, build):
    school = build.school()
    db.session.commit()
    rows = [student_row(school, built_student(school, f"학생{i}")) for i in range(6)]
    connection = db.session.connection()
    insert_rows(connection, Student.__table__, rows)
    uids = [row["uid"] for row in rows]
    expected = dict(db.session.execute(select(Student.uid, Student.id).where(Student.uid.in_(uids))).all())
    with counting() as seen:
        assert inserted_ids(connection, Student.__table__, uids) == expected
    assert len(seen) == 1 and "count(" in seen[0]
    # rows whose ids are not one run (the 1st, 3rd and 6th): every id read, still right
    some = [uids[0], uids[2], uids[5]]
    with counting() as seen:
        assert inserted_ids(connection, Student.__table__, some) == {uid: expected[uid] for uid in some}
    assert len(seen) == 2


def test_the_statement_is_compiled_once_per_table_and_columns(db, build, monkeypatch):
    """Every page's audit append goes through insert_rows: compiling its INSERT anew cost each
    page ~0.5 ms."""
    import app.bulk as bulk
    compiled = []
    real_insert = bulk.insert
    monkeypatch.setattr(bulk, "insert", lambda table: compiled.append(table.name) or real_insert(table))
    school = build.school()
    db.session.commit()
    rows = [student_row(school, built_student(school, f"학생{i}")) for i in range(3)]
    connection = db.session.connection()
    insert_rows(connection, Student.__table__, [rows[0]])
    first = len(compiled)  # 1, or 0 if an earlier test wrote students with the same columns
    for row in rows[1:]:
        insert_rows(connection, Student.__table__, [row])
    assert len(compiled) == first <= 1
    partial = {key: value for key, value in student_row(school, built_student(school, "다른")).items()
               if key != "phone_enc"}  # other columns: another statement
    insert_rows(connection, Student.__table__, [partial])
    db.session.commit()
    assert len(compiled) == first + 1
    assert len(db.session.execute(select(Student.id).where(Student.school_id == school.id)).all()) == 4
