"""Load a case or student by uid for a view: out of scope or missing is the same audited 404.

A school must not learn that another school's case or student exists, so a foreign object
and a missing one answer alike; the denial is still written to the audit trail.
"""
from __future__ import annotations

from flask import abort
from flask_login import current_user
from sqlalchemy import select

from ..audit.services import record
from ..extensions import db
from ..permissions import can_view_case, can_view_student
from ..students.models import Student
from .models import SupportCase

#: a uid is a UUID (36 characters); anything longer is not looked up at all
UID_MAX = 36


def deny_not_found(object_type: str, uid) -> None:
    """Record the refusal (nothing else the request did is kept), commit it, answer 404."""
    db.session.rollback()
    record("permission_denied", outcome="denied", object_type=object_type, object_id=str(uid or "")[:64])
    db.session.commit()
    abort(404)


def _load(model, uid):
    if not uid or len(str(uid)) > UID_MAX:
        return None
    return db.session.execute(select(model).where(model.uid == str(uid))).scalar_one_or_none()


def load_case_or_404(uid) -> SupportCase:
    """The case with this uid if the current user may see it; otherwise an audited 404."""
    case = _load(SupportCase, uid)
    if case is None or not can_view_case(current_user, case):
        deny_not_found(SupportCase.__tablename__, uid)
    return case


def load_student_or_404(uid) -> Student:
    """The student with this uid if the current user may see them; otherwise an audited 404."""
    student = _load(Student, uid)
    if student is None or not can_view_student(current_user, student):
        deny_not_found(Student.__tablename__, uid)
    return student
