"""Legal holds and the 학업 중단 date: the lead's services, their audit, invalid input changing
nothing, a hold keeping a due student through a run and ending by itself (freezegun)."""
from __future__ import annotations

import datetime as dt

import pytest
from freezegun import freeze_time
from sqlalchemy import func, select, text

from app.audit.models import AuditEvent
from app.db import today_kst
from app.domain import DomainError, NotPermitted
from app.extensions import db
from app.records.retention_models import LegalHold, StudentRetention
from app.records.retention_services import due_query, record_left_school, set_legal_hold
from app.students.models import Student

from .retention_helpers import make_due

NOW = "2026-12-01 03:00:00"


@pytest.fixture
def school_world(app, build):
    class W:
        pass
    w = W()
    w.school = build.school(school_level="middle")
    w.lead = build.user("school_lead", organisation=w.school)
    w.staff = build.user("school_staff", organisation=w.school)
    w.student = build.student(w.school, actor=w.lead, grade=3, birth_date=dt.date(2012, 4, 10))
    w.other_lead = build.user("school_lead", organisation=build.school())
    return w


def events(action: str) -> list[AuditEvent]:
    return list(db.session.execute(select(AuditEvent).where(AuditEvent.action == action)
                                   .order_by(AuditEvent.id)).scalars())


def count(model) -> int:
    return db.session.execute(select(func.count()).select_from(model)).scalar()


def run(app):
    result = app.test_cli_runner().invoke(args=["retention", "run"])
    assert result.exit_code == 0, result.output
    db.session.expire_all()
    return result


@freeze_time(NOW)
def test_a_hold_keeps_a_due_student_until_it_ends_then_the_run_removes_them(school_world, app):
    w = school_world
    hold_uid = set_legal_hold(w.lead, w.student, "아동학대 조사 진행 중", dt.date(2027, 1, 31)).uid
    db.session.commit()
    [event] = events("legal_hold_set")
    assert event.subject_ref == w.student.uid and "아동학대" not in (event.details or "")
    raw = db.session.execute(text("SELECT reason_enc FROM legal_hold")).scalar()
    assert "아동학대" not in raw  # encrypted at rest
    make_due(w.student, days_ago=10)
    run(app)
    assert db.session.get(Student, w.student.id) is not None
    with freeze_time("2027-01-31 03:00:00"):  # the end date itself still keeps the data
        assert db.session.execute(due_query(today_kst())).scalars().all() == []
        run(app)
        assert db.session.get(Student, w.student.id) is not None and not events("legal_hold_ended")
    with freeze_time("2027-02-01 03:00:00"):
        run(app)
        assert db.session.get(Student, w.student.id) is None
        assert count(LegalHold) == 0
        [ended] = events("legal_hold_ended")
        assert ended.object_id == hold_uid
        assert ended.subject_ref.startswith("retained:")  # the trail no longer names the student


@freeze_time(NOW)
@pytest.mark.parametrize("reason, ends_on, field", [
    ("", dt.date(2027, 1, 1), "reason"), ("   ", dt.date(2027, 1, 1), "reason"),
    ("가" * 501, dt.date(2027, 1, 1), "reason"), ("사유", None, "ends_on"),
    ("사유", dt.date(2026, 12, 1), "ends_on"), ("사유", dt.date(2026, 11, 1), "ends_on"),
    ("사유", dt.date(2036, 12, 1), "ends_on")])
def test_invalid_hold_input_changes_nothing(school_world, reason, ends_on, field):
    before = db.session.execute(select(func.count()).select_from(AuditEvent)).scalar()
    with pytest.raises(DomainError) as error:
        set_legal_hold(school_world.lead, school_world.student, reason, ends_on)
    db.session.rollback()
    assert error.value.field == field
    assert count(LegalHold) == 0
    assert db.session.execute(select(func.count()).select_from(AuditEvent)).scalar() == before


@freeze_time(NOW)
def test_only_the_lead_of_the_students_school_sets_a_hold_or_a_leaving_date(school_world):
    w = school_world
    for actor in (w.staff, w.other_lead):
        with pytest.raises(NotPermitted):
            set_legal_hold(actor, w.student, "사유", dt.date(2027, 1, 1))
        with pytest.raises(NotPermitted):
            record_left_school(actor, w.student, dt.date(2026, 11, 1))
        db.session.rollback()
    assert count(LegalHold) == 0
    assert db.session.get(StudentRetention, w.student.id).left_school_on is None


@freeze_time(NOW)
def test_a_leaving_date_switches_to_the_19th_birthday_and_back(school_world):
    w = school_world
    assert db.session.get(StudentRetention, w.student.id).until == dt.date(2030, 2, 28)  # middle grade 3: high school 2027–2029
    record_left_school(w.lead, w.student, dt.date(2026, 11, 20))
    db.session.commit()
    row = db.session.get(StudentRetention, w.student.id)
    assert (row.rule, row.until, row.left_school_on) == ("age19", dt.date(2031, 4, 10), dt.date(2026, 11, 20))
    [event] = events("student_left_school_recorded")
    assert event.subject_ref == w.student.uid and "2026-11-20" not in (event.details or "")
    record_left_school(w.lead, w.student, None)
    db.session.commit()
    assert (row.rule, row.until) == ("completion", dt.date(2030, 2, 28))
    with pytest.raises(DomainError) as error:
        record_left_school(w.lead, w.student, dt.date(2026, 12, 2))
    assert error.value.field == "left_school_on"
