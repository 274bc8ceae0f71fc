"""Reactions of this feature to lifecycle signals (app/signals.py); connected by the app factory.

* a case's close form asks how each assignment ends; closing the case ends them with that code;
* consent for guardian matching withdrawn or expired: active assignments pause, proposals go;
* the case page gets the guardians section (assignments, concerns, the way to matching);
* a guardian eligible again: the office's coordinators are offered the paused assignments.
"""
from __future__ import annotations

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from .. import signals
from ..audit.services import record
from ..cases.chronology import add_event
from ..cases.consent import consent_covers
from ..domain import DomainError
from ..extensions import db
from ..lifecycle import CloseItem, PageSection
from ..notifications.services import notify, object_key, resolve
from ..permissions import can_view_case
from .assignments import (COUNTED, MATCHABLE_CASE_STATUSES, _end_assignment, assignments_for_case,
                          is_office_coordinator)
from .concerns import concerns_for_case
from .models import CLOSE_REASONS, SUSPEND_REASONS, Assignment
from .recipients import case_team, office_coordinators

#: the close form's choices: "사례 종결" first, since that is what usually happened
CLOSE_OPTIONS = (("case_closed", CLOSE_REASONS["case_closed"]),
                 *((code, label) for code, label in CLOSE_REASONS.items() if code != "case_closed"))


def _counted(case, statuses=COUNTED) -> list[Assignment]:
    return list(db.session.execute(
        select(Assignment).where(Assignment.case_id == case.id, Assignment.status.in_(statuses))
        .options(joinedload(Assignment.guardian)).order_by(Assignment.id)).scalars())


def close_key(assignment: Assignment) -> str:
    return f"assignment_{assignment.id}"


@signals.case_close_items.connect
def close_items(case, **_kwargs) -> list[CloseItem]:
    """One question per counted assignment: with which code does it end?"""
    return [CloseItem(key=close_key(a), label=_("교육후견인 %(name)s 배정 종료 사유", name=a.guardian.name), kind="choice",
                      options=CLOSE_OPTIONS, required=True,
                      hint=_("수락 전 제안은 철회됩니다.") if a.status == "proposed" else "")
            for a in _counted(case)]


@signals.case_closed.connect
def end_assignments(case, actor=None, choices=None, **_kwargs) -> None:
    """End every counted assignment with the chosen code (a proposal: the code or "사례 종결");
    a missing or unknown code refuses the whole close before anything changed."""
    choices = choices or {}
    counted = _counted(case)
    for assignment in counted:
        if assignment.status != "proposed" and choices.get(close_key(assignment)) not in CLOSE_REASONS:
            raise DomainError(_("교육후견인 %(name)s 배정의 종료 사유를 선택해 주세요.", name=assignment.guardian.name),
                              close_key(assignment))
    for assignment in counted:
        reason = choices.get(close_key(assignment))
        reason = reason if reason in CLOSE_REASONS else "case_closed"
        _end_assignment(assignment, actor, reason, rematchable=reason != "safety_concern")


# -- consent for guardian matching withdrawn or expired ----------------------------------------

def _consent_lapsed(case, actor, consent, party, how: str) -> list[Assignment]:
    """Matching no longer covered: pause active assignments, withdraw proposals, tell everyone."""
    if consent_covers(case, "guardian_matching"):
        return []
    affected = _counted(case, ("active", "proposed"))
    if not affected:
        return []
    reason, label = "consent_withdrawn", SUSPEND_REASONS["consent_withdrawn"]
    student = case.student
    paused = [a for a in affected if a.status == "active"]
    for assignment in paused:
        assignment.status, assignment.suspended_reason = "suspended", reason
        add_event(case, "assignment", _l("교육후견인 활동 일시 중지: %(reason)s", reason=label), actor=actor)
        record("assignment_suspended", obj=assignment, subject=student, actor=actor,
               details={"guardian": assignment.guardian.uid, "reason": reason, "party": party, "trigger": how})
        if assignment.guardian.user_id:
            notify(assignment.guardian.user_id, "assignment_suspended",
                   _l("%(name)s 학생과의 활동이 일시 중지되었습니다 (%(reason)s).", name=student.given_name,
                      reason=label), link="/guardians/me",
                   case_id=case.id, guardian_id=assignment.guardian_id, about=object_key("assignment", assignment))
    for assignment in affected:
        if assignment.status == "proposed":
            _end_assignment(assignment, actor, reason, rematchable=True)
    text = _lapse_text(how, student.name, case.school.name, len(paused), len(affected) - len(paused))
    for user in case_team(case):
        notify(user.id, "assignment_suspended", text, link=f"/cases/{case.uid}", case_id=case.id,
               dedupe_key=f"consent-lapse:{getattr(consent, 'id', 0)}:{case.id}:{user.id}")
    return affected


def _lapse_text(how: str, student: str, school: str, paused: int, withdrawn: int):
    """The school team's alert (a stored message): consent withdrawn or expired, and what stopped."""
    if paused and withdrawn:
        what = _l("교육후견인 활동 %(paused)d건을 일시 중지했습니다, 연계 제안 %(withdrawn)d건을 철회했습니다",
                  paused=paused, withdrawn=withdrawn)
    elif paused:
        what = _l("교육후견인 활동 %(paused)d건을 일시 중지했습니다", paused=paused)
    else:
        what = _l("연계 제안 %(withdrawn)d건을 철회했습니다", withdrawn=withdrawn)
    if how == "withdrawn":
        return _l("%(student)s 학생(%(school)s)의 교육후견인 연계 동의가 철회되어 %(what)s.", student=student,
                  school=school, what=what)
    return _l("%(student)s 학생(%(school)s)의 교육후견인 연계 동의가 만료되어 %(what)s.", student=student,
              school=school, what=what)


@signals.consent_withdrawn.connect
def consent_withdrawn(case, actor=None, consent=None, party=None, **_kwargs) -> None:
    _consent_lapsed(case, actor, consent, party, "withdrawn")


@signals.consent_expired.connect
def consent_expired(case, actor=None, consent=None, party=None, **_kwargs) -> None:
    _consent_lapsed(case, actor, consent, party, "expired")


# -- the case page ------------------------------------------------------------------------------

@signals.case_page_sections.connect
def case_section(case, user=None, **_kwargs) -> PageSection | None:
    """Assignments and concerns for the school team and the coordinator; nothing for anyone else."""
    if not can_view_case(user, case):
        return None
    coordinator = is_office_coordinator(user, case)
    return PageSection(template="guardians/_case_section.html", order=10, context={
        "assignments": assignments_for_case(case), "concerns": concerns_for_case(case),
        "suspend_reasons": SUSPEND_REASONS, "close_reasons": CLOSE_REASONS, "counted": COUNTED,
        "can_manage": coordinator, "can_match": coordinator and case.status in MATCHABLE_CASE_STATUSES})


# -- a guardian may serve again -----------------------------------------------------------------

@signals.guardian_reinstated.connect
def offer_reactivation(guardian, actor=None, assignments=(), **_kwargs) -> None:
    """Alert the office's coordinators, once per reinstatement, with a link to the paused assignments."""
    key = object_key("guardian", guardian)
    resolve(key, kinds=("assignment_reactivatable",))  # an older offer is replaced by this one
    names = ", ".join(a.case.student.name for a in assignments)
    text = _l("교육후견인 %(name)s님이 다시 활동 요건을 갖추었습니다. 일시 중지된 배정 %(n)d건을 재개할 수 있습니다: "
              "%(students)s", name=guardian.name, n=len(assignments), students=names)
    for user in office_coordinators(guardian.office_code):
        notify(user.id, "assignment_reactivatable", text, link=f"/guardians/{guardian.uid}",
               guardian_id=guardian.id, about=key)
    for assignment in assignments:
        add_event(assignment.case, "assignment", _l("교육후견인이 활동 요건을 다시 갖추어 배정을 재개할 수 있습니다."),
                  actor=actor)


# -- a student moved school (전학, records.transfer_move) -------------------------------------

@signals.student_transferred.connect
def review_after_transfer(case, actor=None, transfer=None, **_kwargs) -> None:
    """Active or suspended assignments stay as they are; the coordinators of both offices (the
    guardian's, who manages them, and the new school's) are asked to review them, once each."""
    assignments = _counted(case, ("active", "suspended"))
    if not assignments or transfer is None:
        return
    offices = sorted({transfer.from_school.office_code, transfer.to_school.office_code})
    text = _l("%(name)s 학생이 %(old)s에서 %(new)s(으)로 전학했습니다. 교육후견인 배정 %(n)d건을 검토해 주세요.",
              name=case.student.name, old=transfer.from_school.name, new=transfer.to_school.name, n=len(assignments))
    for office in offices:
        # the new office opens the case; the old office (no longer in the case's scope) its guardian's page
        if office == case.school.office_code:
            link = f"/cases/{case.uid}"
        else:
            own = [a for a in assignments if a.guardian.office_code == office]
            link = f"/guardians/{own[0].guardian.uid}" if own else None
        for user in office_coordinators(office):
            notify(user.id, "transfer", text, link=link, case_id=case.id,
                   dedupe_key=f"transfer-review:{transfer.id}:assignments:{user.id}")
    add_event(case, "assignment", _l("전학: 교육후견인 배정 %(n)d건의 검토를 교육지원청 담당자에게 요청", n=len(assignments)),
              actor=actor)
    record("transfer_review_requested", obj=case, subject=case.student, actor=actor,
           details={"transfer": transfer.uid, "kind": "assignments", "count": len(assignments), "offices": offices})


@signals.student_retained_until_passed.connect
def forget_student_assignments(student, rows=None, **_kwargs) -> dict:
    """Delete the student's side of guardian work: concerns, activity logs, assignments (the
    guardian and their other assignments stay)."""
    from sqlalchemy import delete

    from .models import ActivityLog, GuardianConcern
    rows = rows or {}
    counts = {}
    for model in (GuardianConcern, ActivityLog, Assignment):  # children before parents
        ids = rows.get(model.__tablename__, ())
        if ids:
            db.session.execute(delete(model).where(model.id.in_(ids)))
        counts[model.__tablename__] = len(ids)
    return counts
