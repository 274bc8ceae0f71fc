"""The class-list import checks duplicates with one query for all rows: the preview runs the same
number of statements for 2 rows as for 25; the confirm checks again inside its write transaction."""
from __future__ import annotations

import datetime as dt
import io
import re

from sqlalchemy import func, select

from app.extensions import db as _db
from app.students.importer import parse_class_list
from app.audit.models import AuditEvent
from app.students.models import Student
from tests.querycount import counting, is_audit_append, statements

HEADER = "이름,생년월일,학년,반,번호\n"


def csv(n: int, start: int = 0) -> bytes:
    lines = [f"학생{i},2014-{1 + i % 12:02d}-{1 + i % 28:02d},5,{1 + i % 9},{1 + i % 30}" for i in range(start, start + n)]
    return (HEADER + "\n".join(lines) + "\n").encode()


def upload(raw: bytes, name: str = "list.csv") -> dict:
    return {"data": {"file": (io.BytesIO(raw), name)}, "content_type": "multipart/form-data"}


def registered(build, school, teacher, names_and_births):
    for name, birth in names_and_births:
        build.student(school, actor=teacher, name=name, birth_date=birth)


def fresh_statements(client, request: dict) -> int:
    """The statements of one preview with nothing of the test's left in the session."""
    _db.session.commit()
    _db.session.expunge_all()
    return statements(client, "/students/import", method="post", expect=400, **request)


def test_preview_statements_do_not_grow_with_rows(db, build, client, school, teacher):
    # one already registered student in each file and one row twice: found either way
    registered(build, school, teacher, [("학생1", dt.date(2014, 2, 2))])
    _db.session.commit()
    twice = "학생0,2014-01-01,5,1,1\n".encode()
    few = fresh_statements(client, upload(csv(2) + twice))
    many = fresh_statements(client, upload(csv(25) + twice))
    assert few == many
    page = client.post("/students/import", **upload(csv(25) + twice)).get_data(as_text=True)
    assert page.count('data-action="same"') + page.count('data-action="update"') == 1


def test_duplicates_are_one_query(db, build, school, teacher):
    registered(build, school, teacher, [("학생3", dt.date(2014, 4, 4)), ("학생7", dt.date(2014, 8, 8)),
                                        ("다른학생", dt.date(2014, 1, 1))])
    other = build.school()
    build.student(other, name="학생9", birth_date=dt.date(2014, 10, 10))  # another school's: not a duplicate
    _db.session.commit()
    raw = csv(12) + "학생3,2014-04-04,5,1,1\n".encode()
    with counting() as seen:
        preview = parse_class_list(raw, school)
    reads = [s for s in seen if s.lstrip().startswith("SELECT") and "FROM student" in " ".join(s.split())]
    assert len(reads) == 1 and "IN (" in reads[0]
    duplicates = [(line, message) for line, _column, message in preview.errors]
    assert duplicates == [(14, "파일 안에 같은 이름·생년월일이 두 번 있습니다.")]
    assert sorted(preview.matches) == [3, 7] and preview.added == 11  # rows of lines 5 and 9 update


def test_confirm_matches_again_inside_the_write(db, build, client, school, teacher):
    raw = csv(5)
    page = client.post("/students/import", **upload(raw)).get_data(as_text=True)
    payload = re.search(r'name="payload" type="hidden" value="([^"]*)"', page).group(1)
    # meanwhile someone registers one of the file's students: it is updated, not doubled
    registered(build, school, teacher, [("학생2", dt.date(2014, 3, 3))])
    _db.session.commit()
    response = client.post("/students/import", data={"payload": payload, "filename": "list.csv"})
    assert response.status_code == 302
    assert _db.session.scalar(select(func.count(Student.id))) == 5
    from app.audit.models import AuditEvent
    created = _db.session.scalar(select(func.count(AuditEvent.id)).filter_by(action="student_created"))
    assert created == 5  # the one registered meanwhile, and four by the import


def confirm_statements(client, raw: bytes) -> list[str]:
    page = client.post("/students/import", **upload(raw)).get_data(as_text=True)
    payload = re.search(r'name="payload" type="hidden" value="([^"]*)"', page).group(1)
    _db.session.commit()
    _db.session.expunge_all()
    with counting() as seen:
        response = client.post("/students/import", data={"payload": payload, "filename": "list.csv"})
    assert response.status_code == 302
    return seen


def test_saving_appends_the_audit_events_of_30_new_students_as_one_statement(db, client, school, teacher):
    # the write lock is held while they run: one audit INSERT for all students, not one per row
    for seen in (confirm_statements(client, csv(3)), confirm_statements(client, csv(30, start=100))):
        assert len([s for s in seen if is_audit_append(s)]) == 2  # the students' events, then the import's
    assert _db.session.scalar(select(func.count(Student.id))) == 33


def test_new_students_go_in_with_one_insert_and_read_back_as_registered_by_hand(db, client, school, teacher):
    for n, start in ((3, 0), (30, 100)):
        seen = confirm_statements(client, csv(n, start=start))
        inserts = [" ".join(s.split())[:26] for s in seen if s.lstrip().upper().startswith("INSERT")]
        assert inserts.count("INSERT INTO student (schoo") == 1 and inserts.count("INSERT INTO student_retent") == 1
    school_id = _db.session.merge(school).id
    _db.session.expunge_all()
    stored = _db.session.execute(select(Student).filter_by(school_id=school_id).order_by(Student.id)).scalars().all()
    assert len(stored) == 33 and len({s.uid for s in stored}) == 33
    first = stored[0]  # every encrypted value decrypts under its own row's uid
    assert (first.name, first.birth_date, first.grade, first.class_no, first.number) == ("학생0", dt.date(2014, 1, 1), 5, 1, 1)
    assert first.migrant_background is False and first.created_at is not None
    from app.students.services import find_duplicates
    assert find_duplicates(_db.session.merge(school), "학생105", dt.date(2014, 10, 22)) == [stored[8]]  # blind index stored too


def test_moving_every_registered_student_to_a_new_class_is_one_audit_insert(db, build, client, school, teacher):
    # March: the whole school re-uploaded with new classes; the write lock waits for no per-row append
    registered(build, school, teacher, [(f"학생{i}", dt.date(2014, 1 + i % 12, 1 + i % 28)) for i in range(12)])
    _db.session.commit()
    moved = HEADER + "".join(f"학생{i},2014-{1 + i % 12:02d}-{1 + i % 28:02d},6,{1 + i % 9},{1 + i % 30}\n" for i in range(12))
    seen = confirm_statements(client, moved.encode())
    assert len([s for s in seen if is_audit_append(s)]) == 2  # the twelve students' events, then the import's
    events = _db.session.scalar(select(func.count(AuditEvent.id)).filter_by(action="student_updated"))
    assert events == 12


def test_the_save_reuses_the_blind_indexes_its_own_check_computed(db, client, school, teacher, monkeypatch):
    # the save matches again under the write lock; 2,000 rows' HMACs cost ~50 ms of that lock
    import app.students.importer as importer
    page = client.post("/students/import", **upload(csv(7))).get_data(as_text=True)
    payload = re.search(r'name="payload" type="hidden" value="([^"]*)"', page).group(1)
    computed = []
    original = importer._duplicate_keys
    monkeypatch.setattr(importer, "_duplicate_keys", lambda row: computed.append(row["name"]) or original(row))
    response = client.post("/students/import", data={"payload": payload, "filename": "list.csv"})
    assert response.status_code == 302
    assert sorted(computed) == sorted(f"학생{i}" for i in range(7))  # once per row, not once per match
    assert _db.session.scalar(select(func.count(Student.id))) == 7


def test_the_save_makes_its_new_students_rows_and_events_before_the_write_lock(db, client, school, teacher, monkeypatch):
    # everything but the chain hashes is made before begin_write: other writers wait for the lock
    import app.audit.services as audit_services
    import app.students.importer as importer
    import app.students.services as student_services
    page = client.post("/students/import", **upload(csv(9))).get_data(as_text=True)
    payload = re.search(r'name="payload" type="hidden" value="([^"]*)"', page).group(1)
    locked, under_lock = [], []
    original_begin, original_seal, original_values = importer.begin_write, audit_services.subject_seal, student_services._insert_values
    monkeypatch.setattr(importer, "begin_write", lambda *a: locked.append(True) or original_begin(*a))
    monkeypatch.setattr(audit_services, "subject_seal",
                        lambda key, ref: (locked and under_lock.append(("seal", ref))) or original_seal(key, ref))
    monkeypatch.setattr(student_services, "_insert_values",
                        lambda student, now: (locked and under_lock.append(("row", student.uid))) or original_values(student, now))
    response = client.post("/students/import", data={"payload": payload, "filename": "list.csv"})
    assert response.status_code == 302 and locked
    new_uids = set(_db.session.execute(select(Student.uid)).scalars())
    assert len(new_uids) == 9
    assert [entry for entry in under_lock if entry[1] in new_uids] == []
    events = _db.session.execute(select(AuditEvent).filter_by(action="student_created")).scalars().all()
    assert {e.subject_ref for e in events} == new_uids and all(e.subject_seal for e in events)
