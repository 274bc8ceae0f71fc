"""A value that fails to decrypt (here: moved from another row, so its associated data no
longer matches) shows "복호화할 수 없는 값", raises one integrity alarm per request, keeps the
pages up, and can never be written back, re-indexed or rotated as the stand-in."""
from __future__ import annotations

import json

import pytest
from sqlalchemy import select, update

from app.audit.models import AuditEvent
from app.crypto import DecryptionError, KeyRing
from app.crypto_check import UnreadableValue, find_unreadable
from app.crypto_cli import keys
from app.integrity import UNREADABLE_TEXT, Unreadable, UnreadableValueError
from app.students.models import Student


@pytest.fixture
def ring_path(tmp_path, keys_json):
    """The session's key ring as a file, so rotation can save new keys."""
    path = tmp_path / "keys.json"
    KeyRing.from_json(keys_json, path=path).save()
    return path


@pytest.fixture
def app(make_app, ring_path):
    app = make_app(IEUM_KEYS=None, IEUM_KEYS_FILE=str(ring_path))
    with app.app_context():
        yield app


@pytest.fixture
def school(build):
    return build.school()


@pytest.fixture
def lead(build, school, login):
    user = build.user("school_lead", organisation=school)
    login(user)
    return user


@pytest.fixture
def cases(build, school, lead, db):
    """Two cases; the second student's name is replaced by the first one's ciphertext."""
    good = build.case(school, lead=lead)
    bad = build.case(school, lead=lead)
    names = {"good": good.student.name, "bad": bad.student.name}
    moved = good.student.name_enc
    db.session.execute(update(Student.__table__).where(Student.__table__.c.id == bad.student.id)
                       .values(name_enc=moved))
    db.session.commit()
    db.session.expire_all()
    return {"good": good, "bad": bad, "names": names, "moved": moved,
            "good_uid": good.uid, "bad_uid": bad.uid, "bad_student_uid": bad.student.uid,
            "bad_student_id": bad.student.id}


def alarms(db) -> list[AuditEvent]:
    db.session.expire_all()
    return list(db.session.execute(select(AuditEvent).filter_by(action="integrity_alarm")
                                   .order_by(AuditEvent.id)).scalars())


def raw_name(db, student_id: int) -> str:
    return db.session.execute(select(Student.__table__.c.name_enc)
                              .where(Student.__table__.c.id == student_id)).scalar_one()


def test_the_case_list_renders_and_marks_the_one_bad_row(client, db, cases):
    response = client.get("/cases/")
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert UNREADABLE_TEXT in page
    assert cases["names"]["good"] in page and page.count(cases["names"]["good"]) >= 1
    assert cases["moved"] not in page
    [alarm] = alarms(db)  # once in this request, however often the name was read
    assert alarm.outcome == "failed" and alarm.object_type == "student"
    assert alarm.object_id == cases["bad_student_uid"]
    assert json.loads(alarm.details) == {"table": "student", "column": "name_enc", "row": cases["bad_student_uid"]}
    assert "e1." not in alarm.details and cases["moved"] not in (alarm.details + str(alarm.reason))


def test_the_case_page_renders_and_every_request_raises_its_alarm(client, db, cases):
    for n in (1, 2):
        response = client.get(f"/cases/{cases['bad_uid']}")
        assert response.status_code == 200
        assert UNREADABLE_TEXT in response.get_data(as_text=True)
        assert len(alarms(db)) == n
    good = client.get(f"/cases/{cases['good_uid']}")
    assert good.status_code == 200 and UNREADABLE_TEXT not in good.get_data(as_text=True)
    assert len(alarms(db)) == 2


def test_the_stand_in_is_never_written_back(db, cases):
    student = db.session.get(Student, cases["bad_student_id"])
    shown = student.name
    assert isinstance(shown, Unreadable) and shown == UNREADABLE_TEXT
    assert (shown.table, shown.column, shown.uid) == ("student", "name_enc", cases["bad_student_uid"])
    with pytest.raises(UnreadableValueError):
        student.name = shown
    with pytest.raises(UnreadableValueError):
        student.name = Unreadable("student", "name_enc", student.uid)
    db.session.rollback()
    student = db.session.get(Student, cases["bad_student_id"])
    # another field of the same composite blind index (name + birth date) cannot be re-indexed either
    with pytest.raises(UnreadableValueError):
        student.birth_date = student.birth_date
    db.session.rollback()
    assert raw_name(db, cases["bad_student_id"]) == cases["moved"]


def test_an_alarm_outside_a_request_joins_the_callers_transaction(db, cases):
    assert db.session.get(Student, cases["bad_student_id"]).name == UNREADABLE_TEXT
    db.session.commit()
    [alarm] = alarms(db)
    assert alarm.actor_id is None and alarm.object_id == cases["bad_student_uid"]


def test_rotation_stops_on_the_value_and_rewrites_nothing(app, db, cases):
    from app.crypto_rotation import rotate_keys
    with pytest.raises(DecryptionError, match=r"student.name_enc: .*row id"):
        rotate_keys()
    db.session.rollback()
    assert raw_name(db, cases["bad_student_id"]) == cases["moved"]  # still the real ciphertext
    stored = db.session.execute(select(Student.__table__.c.name_enc)).scalars().all()
    assert not any(UNREADABLE_TEXT in (value or "") for value in stored)


def test_keys_status_verify_names_the_value(app, db, cases):
    assert find_unreadable() == [UnreadableValue("student", "name_enc", cases["bad_student_uid"])]
    runner = app.test_cli_runner()
    plain = runner.invoke(keys, ["status"])
    assert plain.exit_code == 0, plain.output
    checked = runner.invoke(keys, ["status", "--verify"])
    assert checked.exit_code == 1
    assert f"undecryptable: student.name_enc row {cases['bad_student_uid']}" in checked.output
    assert "1 values cannot be decrypted" in checked.output
    assert cases["moved"] not in checked.output and cases["names"]["good"] not in checked.output


def test_keys_status_verify_passes_on_a_clean_database(app, db, build):
    build.student(build.school())
    result = app.test_cli_runner().invoke(keys, ["status", "--verify"])
    assert result.exit_code == 0, result.output
    assert "every stored value decrypts." in result.output


@pytest.fixture
def bad_birth_date(db, cases):
    """The bad student's birth date is moved in from the good student too."""
    db.session.execute(update(Student.__table__).where(Student.__table__.c.id == cases["bad_student_id"])
                       .values(birth_date_enc=cases["good"].student.birth_date_enc))
    db.session.commit()
    db.session.expire_all()


def test_the_student_page_shows_both_stand_ins(client, db, cases, bad_birth_date):
    response = client.get(f"/students/{cases['bad_student_uid']}")
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert page.count(UNREADABLE_TEXT) >= 2  # the details and the edit form's name and date
    assert {json.loads(a.details)["column"] for a in alarms(db)} == {"name_enc", "birth_date_enc"}


def test_posting_the_stand_ins_back_saves_nothing(client, db, cases, bad_birth_date):
    before = db.session.execute(select(Student.__table__).where(
        Student.__table__.c.id == cases["bad_student_id"])).one()
    form = {"name": UNREADABLE_TEXT, "birth_date": UNREADABLE_TEXT, "grade": "5", "class_no": "2", "number": "3"}
    response = client.post(f"/students/{cases['bad_student_uid']}/edit", data=form)
    assert response.status_code == 400
    form["birth_date"] = "2014-03-05"  # a real date: the name's stand-in is still refused
    response = client.post(f"/students/{cases['bad_student_uid']}/edit", data=form)
    assert response.status_code == 400
    assert "복호화할 수 없는 값은 저장할 수 없습니다" in response.get_data(as_text=True)
    db.session.expire_all()
    after = db.session.execute(select(Student.__table__).where(
        Student.__table__.c.id == cases["bad_student_id"])).one()
    assert after == before


def test_an_undecryptable_shared_document_keeps_the_agency_inbox_up(client, db, build, login):
    """JSON fields get a stand-in that reads as an empty document (get, in, dict())."""
    from app.agencies.models import Referral
    from app.agencies.referrals import create_referral, send_referral
    from tests.factories import consent_both
    agency = build.agency()
    sent = []
    for _n in range(2):
        school = build.school()
        lead = build.user("school_lead", organisation=school)
        case = build.case(school, status="in_support", lead=lead)
        consent_both(case, lead, purposes=("agency_referral",), agency_kinds=[agency.agency_kind])
        referral = create_referral(case, lead, agency=agency, reason="상담 연계 요청",
                                   shared_items=["student_name", "needs"])
        send_referral(referral, lead)
        db.session.commit()
        sent.append(referral)
    good, bad = sent
    good_name = good.case.student.name
    moved = good.shared_enc
    db.session.execute(update(Referral.__table__).where(Referral.__table__.c.id == bad.id).values(shared_enc=moved))
    db.session.commit()
    db.session.expire_all()
    login(build.user("agency_coordinator", organisation=agency))
    inbox = client.get("/agencies/inbox")
    assert inbox.status_code == 200 and good_name in inbox.get_data(as_text=True)
    page = client.get(f"/agencies/inbox/{bad.uid}")
    assert page.status_code == 200 and good_name not in page.get_data(as_text=True)
    assert {(a.object_type, json.loads(a.details)["column"]) for a in alarms(db)} == {("referral", "shared_enc")}
    stand_in = db.session.get(Referral, bad.id).shared
    assert stand_in == UNREADABLE_TEXT and dict(stand_in) == {} and stand_in.get("student_name") is None
    assert "needs" not in stand_in and list(stand_in) == []
