"""Keeping each student's retention date, legal holds, and the due query.

The date (retention_rules) is kept in ``student_retention`` by a flush hook rather than by calls
in the students feature: any path that creates a student or changes the grade, the school (a
transfer) or the birth date — form, CLI, another feature — recomputes it in the same flush, and
records stays the only feature that knows about retention.  A class-list import inserts its new
students in one statement, outside the flush: ``students_registered`` brings them here instead
(``keep_retention_of_registered``, same transaction).  The birth date is
decrypted only for a student who left school (the only rule that needs it).

Students that existed before this feature have no row: ``refresh_missing`` (``flask retention
refresh``, and the start of every run) computes them, counting their grade from the school year of
their last change (``updated_at``): a grade written earlier would give an earlier date, so this
errs towards keeping the data, never towards deleting it early.
"""
from __future__ import annotations

import datetime as dt

from flask_babel import gettext as _
from sqlalchemy import and_, event, exists, not_, select
from sqlalchemy.orm import Session

from ..audit.services import record
from ..bulk import insert_rows
from ..auth.models import Organisation
from ..db import today_kst, utcnow
from ..domain import DomainError, NotPermitted
from ..extensions import db
from ..permissions import can_manage_retention
from ..students.models import Student
from .retention_models import LegalHold, StudentRetention
from .retention_rules import birthday_at, retention_for, school_year

REASON_MAX = 500
#: a hold longer than this is refused (a typo in the year); a longer need sets a new hold later
HOLD_MAX_YEARS = 10
#: the lead's page and home show students due within this many days
DUE_WINDOW_DAYS = 90


def compute(row: StudentRetention, student: Student, session=None) -> StudentRetention:
    """Recompute ``row`` from ``student``'s school level, grade, ``grade_year`` and leaving date."""
    session = session or db.session
    school = session.get(Organisation, student.school_id) if student.school_id else None
    birth = student.birth_date if row.left_school_on is not None else None
    result = retention_for(level=school.school_level if school else None, grade=student.grade,
                           grade_year=row.grade_year, left_school_on=row.left_school_on,
                           birth_date=birth if isinstance(birth, dt.date) else None)
    row.rule, row.until, row.missing, row.computed_at = result.rule, result.until, result.missing, utcnow()
    return row


def _changed(student: Student, *names: str) -> bool:
    state = db.inspect(student)
    return any(state.attrs[name].history.has_changes() for name in names)


@event.listens_for(Session, "before_flush")
def _keep_retention(session, _context, _instances) -> None:
    """A new student gets a row; a changed grade, school or birth date recomputes it."""
    new = [o for o in session.new if isinstance(o, Student)]
    dirty = [o for o in session.dirty if isinstance(o, Student) and o not in session.deleted
             and _changed(o, "grade", "school_id", "birth_date_enc")]
    if not new and not dirty:
        return
    this_year = school_year(today_kst())
    with session.no_autoflush:
        for student in new:
            session.add(compute(StudentRetention(student=student, grade_year=this_year), student, session))
        for student in dirty:
            row = session.get(StudentRetention, student.id)
            if row is None:
                row = StudentRetention(student_id=student.id, grade_year=this_year)
                session.add(row)
            elif _changed(student, "grade"):
                row.grade_year = this_year
            compute(row, student, session)


def keep_retention_of_registered(school: Organisation, students: list[Student]) -> None:
    """The rows the flush hook would have added for ``students``, registered at once by an
    import (new students: no leaving date, so the birth date is not needed), in one INSERT."""
    this_year, now = school_year(today_kst()), utcnow()
    by_grade: dict = {}  # the rule depends on the grade alone here: computed once per grade
    rows = []
    for student in students:
        result = by_grade.get(student.grade)
        if result is None:
            result = by_grade[student.grade] = retention_for(level=school.school_level, grade=student.grade,
                                                             grade_year=this_year, left_school_on=None, birth_date=None)
        rows.append({"student_id": student.id, "rule": result.rule, "until": result.until, "missing": result.missing,
                     "grade_year": this_year, "left_school_on": None, "computed_at": now})
    insert_rows(db.session.connection(), StudentRetention.__table__, rows)


def retention_of(student: Student) -> StudentRetention:
    """The student's row, computed now if the student predates this feature."""
    row = db.session.get(StudentRetention, student.id)
    if row is None:
        row = StudentRetention(student_id=student.id, grade_year=school_year(student.updated_at.date()))
        db.session.add(compute(row, student))
    return row


def refresh_missing(batch: int = 500) -> int:
    """Compute the rows of students that have none (students from before this feature)."""
    done = 0
    while True:
        ids = db.session.execute(
            select(Student.id).where(~exists().where(StudentRetention.student_id == Student.id))
            .order_by(Student.id).limit(batch)).scalars().all()
        if not ids:
            return done
        for student in db.session.execute(select(Student).where(Student.id.in_(ids))).scalars():
            retention_of(student)
        db.session.commit()
        done += len(ids)


def active_hold_condition(today: dt.date):
    """SQL: the student (``Student.id``) has a hold that still counts on ``today``."""
    return exists().where(LegalHold.student_id == Student.id, LegalHold.ends_on >= today)


def active_holds(student: Student, today: dt.date | None = None) -> list[LegalHold]:
    """The student's holds that still count, latest end first."""
    today = today or today_kst()
    return list(db.session.execute(
        select(LegalHold).where(LegalHold.student_id == student.id, LegalHold.ends_on >= today)
        .order_by(LegalHold.ends_on.desc())).scalars())


def due_query(today: dt.date):
    """Students whose last day kept is before ``today`` and who have no hold that counts."""
    return (select(Student.id).join(StudentRetention, StudentRetention.student_id == Student.id)
            .where(StudentRetention.until < today, not_(active_hold_condition(today)))
            .order_by(StudentRetention.until, Student.id))


def upcoming_query(school_id: int, today: dt.date, days: int = DUE_WINDOW_DAYS):
    """A school's students due within ``days`` (or already due), with their row, soonest first."""
    return (select(Student, StudentRetention).join(StudentRetention, StudentRetention.student_id == Student.id)
            .where(Student.school_id == school_id, StudentRetention.until.is_not(None),
                   StudentRetention.until <= today + dt.timedelta(days=days))
            .order_by(StudentRetention.until, Student.id))


def unknown_query(school_id: int):
    """A school's students without a retention date (확인 필요)."""
    return (select(Student, StudentRetention).join(StudentRetention, StudentRetention.student_id == Student.id)
            .where(Student.school_id == school_id, StudentRetention.until.is_(None))
            .order_by(Student.grade, Student.class_no, Student.number, Student.id))


def _require_lead(actor, student: Student) -> None:
    if not can_manage_retention(actor, student):
        raise NotPermitted(_("이 학생의 보존 기간을 관리할 권한이 없습니다."))


def record_left_school(actor, student: Student, left_on: dt.date | None) -> StudentRetention:
    """Record (or clear, with None) the day a student left school (학업 중단·자퇴·제적)."""
    _require_lead(actor, student)
    today = today_kst()
    if left_on is not None and left_on > today:
        raise DomainError(_("학업 중단일은 오늘 이후일 수 없습니다."), "left_school_on")
    if left_on is not None and left_on < dt.date(2000, 1, 1):
        raise DomainError(_("학업 중단일은 2000년 이후여야 합니다."), "left_school_on")
    row = retention_of(student)
    row.left_school_on = left_on
    compute(row, student)
    record("student_left_school_recorded", obj=student, subject=student, actor=actor,
           details={"cleared": left_on is None, "rule": row.rule})
    return row


def set_legal_hold(actor, student: Student, reason: str, ends_on: dt.date | None) -> LegalHold:
    """Keep a student's data past the retention date until ``ends_on``, with a reason."""
    _require_lead(actor, student)
    reason = (reason or "").strip()
    today = today_kst()
    if not reason:
        raise DomainError(_("보존 연장 사유를 입력해 주세요."), "reason")
    if len(reason) > REASON_MAX:
        raise DomainError(_("보존 연장 사유는 %(n)d자 이내로 입력해 주세요.", n=REASON_MAX), "reason")
    if not isinstance(ends_on, dt.date):
        raise DomainError(_("연장 종료일을 입력해 주세요."), "ends_on")
    if ends_on <= today:
        raise DomainError(_("연장 종료일은 오늘 이후여야 합니다."), "ends_on")
    if ends_on >= birthday_at(today, HOLD_MAX_YEARS):
        raise DomainError(_("연장 종료일은 %(n)d년 이내로 정해 주세요.", n=HOLD_MAX_YEARS), "ends_on")
    hold = LegalHold(student_id=student.id, ends_on=ends_on, set_by_id=actor.id)
    hold.reason = reason
    db.session.add(hold)
    db.session.flush()
    record("legal_hold_set", obj=hold, subject=student, actor=actor, details={"ends_on": ends_on.isoformat()})
    return hold


def end_lapsed_holds(today: dt.date) -> int:
    """Record (once, audited) every hold whose end date passed: from then on it no longer counts."""
    holds = db.session.execute(
        select(LegalHold, Student).join(Student, Student.id == LegalHold.student_id)
        .where(and_(LegalHold.ends_on < today, LegalHold.ended_at.is_(None)))).all()
    for hold, student in holds:
        hold.ended_at = utcnow()
        record("legal_hold_ended", obj=hold, subject=student, actor=None,
               details={"ends_on": hold.ends_on.isoformat()})
    return len(holds)
