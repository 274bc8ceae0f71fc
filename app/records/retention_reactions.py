"""Retention on other pages: the school lead's home counts the students due within 90 days (no
names, so nothing to count as shown) and those with no date (확인 필요), linking to the list;
and the retention rows of students an import registered at once."""
from __future__ import annotations

import datetime as dt

from sqlalchemy import func, not_, select

from .. import signals
from ..db import today_kst
from ..extensions import db
from ..lifecycle import PageSection
from ..permissions import SCHOOL_LEAD
from ..students.models import Student
from .retention_models import StudentRetention
from .retention_services import DUE_WINDOW_DAYS, active_hold_condition, keep_retention_of_registered


@signals.students_registered.connect
def retention_of_registered(school, students, **_kwargs):
    """Each student a class-list import registered gets its retention row, as one registered by hand."""
    keep_retention_of_registered(school, students)


@signals.home_sections.connect
def retention_home(user, **_kwargs):
    """The lead's count of students due soon (not on hold) and of those to check; None when both are 0."""
    if getattr(user, "role", None) != SCHOOL_LEAD or not user.organisation_id:
        return None
    today = today_kst()
    base = (select(func.count()).select_from(StudentRetention)
            .join(Student, Student.id == StudentRetention.student_id)
            .where(Student.school_id == user.organisation_id))
    due = db.session.scalar(base.where(StudentRetention.until <= today + dt.timedelta(days=DUE_WINDOW_DAYS),
                                       not_(active_hold_condition(today))))
    unknown = db.session.scalar(base.where(StudentRetention.until.is_(None)))
    if not due and not unknown:
        return None
    return PageSection("records/retention_home.html", 30, {"due": due, "unknown": unknown, "window": DUE_WINDOW_DAYS})
