"""A guardian stops or may serve again: pause their active assignments (and tell everyone who
must know), and offer the coordinators the paused ones once the guardian is eligible again."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from .. import signals
from ..audit.services import record
from ..cases.chronology import add_event
from ..extensions import db
from ..notifications.services import notify, object_key
from .eligibility import is_eligible
from .models import SUSPEND_REASONS, Assignment, Guardian
from .recipients import office_coordinators, school_team

#: suspensions that end when the guardian is eligible again (a consent lapse waits for consent)
GUARDIAN_REASONS = ("check_lapsed", "check_not_clear", "guardian_suspended", "other")


def suspend_assignments_of(guardian: Guardian, reason: str, actor=None) -> list[Assignment]:
    """Pause every active assignment of the guardian, tell each case's school team and the
    office's coordinators once, and note it in each case's chronology (actor None = system)."""
    assignments = list(db.session.execute(select(Assignment).where(
        Assignment.guardian_id == guardian.id, Assignment.status == "active").order_by(Assignment.id)).scalars())
    coordinators = office_coordinators(guardian.office_code) if assignments else []
    label = SUSPEND_REASONS[reason]
    for assignment in assignments:
        case = assignment.case
        assignment.status, assignment.suspended_reason = "suspended", reason
        add_event(case, "assignment", _l("교육후견인 활동 일시 중지: %(reason)s", reason=label), actor=actor)
        record("assignment_suspended", obj=assignment, actor=actor, subject=case.student,
               details={"guardian": guardian.uid, "reason": reason})
        text = _l("%(student)s 학생(%(school)s)의 교육후견인 활동이 일시 중지되었습니다 (%(reason)s).",
                  student=case.student.name, school=case.school.name, reason=label)
        for user in school_team(case.school_id) + coordinators:
            notify(user.id, "assignment_suspended", text, link=f"/cases/{case.uid}", case_id=case.id,
                   guardian_id=guardian.id, about=object_key("assignment", assignment),
                   dedupe_key=f"assignment-suspended:{reason}:{assignment.id}:{user.id}")
    if assignments:
        signals.guardian_suspended.send(guardian, actor=actor, reason=reason, assignments=assignments)
    return assignments


def reactivatable(guardian: Guardian) -> list[Assignment]:
    """The guardian's suspended assignments that waited for the guardian (not for consent)."""
    return list(db.session.execute(select(Assignment).where(
        Assignment.guardian_id == guardian.id, Assignment.status == "suspended",
        Assignment.suspended_reason.in_(GUARDIAN_REASONS)).order_by(Assignment.id)).scalars())


def offer_reinstatement(guardian: Guardian, actor, was_eligible: bool) -> list[Assignment]:
    """A guardian who just became eligible again: send ``guardian_reinstated`` with their paused
    assignments (the guardians reaction alerts the coordinators with a link to reactivate them)."""
    if was_eligible or not is_eligible(guardian):
        return []
    waiting = reactivatable(guardian)
    if waiting:
        record("guardian_reinstated", obj=guardian, actor=actor, details={"suspended": len(waiting)})
        signals.guardian_reinstated.send(guardian, actor=actor, assignments=waiting)
    return waiting
