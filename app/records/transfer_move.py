"""Accepting a transfer with consent: the student and the case move to the new school.

Scope in Ieum follows ``support_case.school_id`` and ``student.school_id`` (permissions.case_scope,
student_scope), so changing those two moves every record hanging from the case (needs, consent,
notes, plan, chronology, referrals, assignments) with it; the old school gets 404 from then on.
What else carries a school or an office, and what happens to it here:

* ``case_review`` (conferences: school_id, office_code) — recomputed by the conferences'
  receiver of ``student_transferred``;
* ``support_case.owner_id`` and open ``plan_action.owner_id`` of old-school staff — cleared:
  the new school's team takes them on (the chronology keeps who did what);
* alerts of old-school users about the case (``notification.case_id``) — resolved: their links
  would answer 404;
* ``case_escalation.office_code`` — kept: it records which office was asked; an open escalation
  is listed by the case's school, so the new office answers it;
* conferences (organiser, office) stay where they were held: they are the old school's meetings;
* guardian assignments and referrals stay, and the coordinators of both offices are asked to
  review them (guardians' and agencies' receivers of ``student_transferred``).
"""
from __future__ import annotations

from sqlalchemy import select, update

from .. import signals
from ..audit.services import record
from ..auth.models import User
from ..cases.models import PlanAction
from ..db import utcnow
from ..extensions import db
from ..notifications.models import Notification


def move_case(transfer, actor) -> dict:
    """Move the transfer's student and case to its new school, in the caller's transaction."""
    case, student = transfer.case, transfer.student
    old_school_id, new_school = transfer.from_school_id, transfer.to_school
    old_users = select(User.id).where(User.organisation_id == old_school_id)
    db.session.flush()
    owner_cleared = case.owner_id is not None
    case.owner_id = None
    case.school_id, case.school = new_school.id, new_school
    student.school_id, student.school = new_school.id, new_school
    unowned = db.session.execute(
        update(PlanAction).where(PlanAction.case_id == case.id, PlanAction.status == "open",
                                 PlanAction.owner_id.in_(old_users)).values(owner_id=None)
        .execution_options(synchronize_session="fetch")).rowcount
    resolved = db.session.execute(
        update(Notification).where(Notification.case_id == case.id, Notification.resolved_at.is_(None),
                                   Notification.user_id.in_(old_users)).values(resolved_at=utcnow())
        .execution_options(synchronize_session=False)).rowcount
    db.session.flush()
    details = {"case": case.uid, "from_school": transfer.from_school.uid, "to_school": new_school.uid,
               "owner_cleared": owner_cleared, "actions_unowned": unowned, "alerts_resolved": resolved}
    record("transfer_moved", obj=transfer, subject=student, actor=actor, details=details)
    # after the change and its audit event, as every owner sends; receivers may refuse (rollback)
    signals.student_transferred.send(case, actor=actor, transfer=transfer)
    return details
