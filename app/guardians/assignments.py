"""The assignment lifecycle: propose → accept | decline → suspend ⇄ reactivate → close.

Every function takes the acting user, enforces the hard rules in the service (eligibility,
capacity, conflicts, history), appends a chronology line and an audit event in the caller's
transaction and raises DomainError (NotPermitted for the wrong person); callers commit.

Capacity holds under concurrency: the case row and then the guardian row are locked
(``SELECT … FOR UPDATE`` on PostgreSQL; on SQLite every transaction starts with BEGIN IMMEDIATE,
so writers are already serialised) before anything is counted.
"""
from __future__ import annotations

import datetime as dt

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from .. import signals
from ..audit.services import hold_chain_lock, record
from ..cases.chronology import add_event
from ..cases.consent import consent_covers
from ..cases.models import SupportCase
from ..db import today_kst, utcnow
from ..domain import DomainError, NotPermitted
from ..extensions import db
from ..locking import lock_for_change
from ..notifications.services import notify, object_key, resolve
from ..permissions import GUARDIAN
from .eligibility import missing_requirements
from .models import CLOSE_REASONS, SUSPEND_REASONS, Assignment, Guardian
from .recipients import office_coordinators
# the pair rules live in assignment_rules.py; callers may import them from here
from .assignment_rules import (COUNTED, END_NOTE_MAX, MATCHABLE_CASE_STATUSES, MAX_GUARDIANS_PER_CASE,  # noqa: F401
                               case_places, guardian_load, is_office_coordinator, pair_refusal, require_capacity,
                               require_eligible)

def _require_coordinator(actor, case: SupportCase) -> None:
    if not is_office_coordinator(actor, case):
        raise NotPermitted(_("이 사례의 교육후견인 배정을 관리할 권한이 없습니다."))


def _require_own_guardian(actor, assignment: Assignment) -> None:
    user_id = assignment.guardian.user_id
    if actor is None or actor.role != GUARDIAN or user_id is None or actor.id != user_id:
        raise NotPermitted(_("본인에게 제안된 배정만 처리할 수 있습니다."))


def _require_status(assignment: Assignment, *statuses: str) -> None:
    """Lock the assignment (its guardian or coordinator may be acting at the same moment), then
    check its status."""
    lock_for_change(assignment)
    if assignment.status not in statuses:
        raise DomainError(_("'%(status)s' 상태의 배정에는 이 작업을 할 수 없습니다.", status=assignment.status_label),
                          "status")


def lock_case_and_guardian(case: SupportCase, guardian: Guardian) -> None:
    """Lock the audit chain, the case, then the guardian (always in this order), and reload them."""
    hold_chain_lock()
    db.session.execute(select(SupportCase).where(SupportCase.id == case.id).with_for_update()
                       .execution_options(populate_existing=True)).scalar_one()
    db.session.execute(select(Guardian).where(Guardian.id == guardian.id).with_for_update()
                       .execution_options(populate_existing=True)).scalar_one()


def propose_assignment(case: SupportCase, guardian: Guardian, actor, score: int = 0,
                       parts: list | None = None) -> Assignment:
    """Propose ``guardian`` for ``case``; the guardian then accepts or declines."""
    _require_coordinator(actor, case)
    if case.status not in MATCHABLE_CASE_STATUSES:
        raise DomainError(_("'%(status)s' 상태의 사례에는 교육후견인을 연계할 수 없습니다.", status=case.status_label),
                          "case")
    if not consent_covers(case, "guardian_matching"):
        raise DomainError(_("학생과 보호자가 교육후견인 연계에 동의하지 않았습니다."), "case")
    lock_case_and_guardian(case, guardian)
    if case_places(case) <= 0:
        raise DomainError(_("이 사례에 필요한 교육후견인(%(n)d명)이 이미 배정되었습니다.",
                            n=min(case.guardians_needed, MAX_GUARDIANS_PER_CASE)), "case")
    refusal = pair_refusal(case, guardian)
    if refusal:
        raise DomainError(refusal, "guardian")
    assignment = Assignment(case_id=case.id, guardian_id=guardian.id, status="proposed", proposed_by_id=actor.id,
                            score=int(score), score_parts={"parts": [_plain(p) for p in parts or []]})
    assignment.guardian, assignment.case = guardian, case
    db.session.add(assignment)
    db.session.flush()
    add_event(case, "assignment", _l("교육후견인 연계 제안 (매칭 점수 %(score)d점)", score=int(score)), actor)
    record("assignment_proposed", obj=assignment, subject=case.student, actor=actor,
           details={"guardian": guardian.uid, "score": int(score)})
    if guardian.user_id:
        notify(guardian.user_id, "assignment_proposed",
               _l("%(name)s 학생(%(school)s) 연계가 제안되었습니다. 확인 후 수락해 주세요.",
                  name=case.student.given_name, school=case.school.name),
               link=f"/guardians/me/{assignment.uid}", case_id=case.id, guardian_id=guardian.id,
               about=object_key("assignment", assignment))
    return assignment


def _plain(part) -> dict:
    if isinstance(part, dict):
        return part
    return {"code": part.code, "label": str(part.label), "points": part.points}


def accept_assignment(assignment: Assignment, actor) -> None:
    """The guardian accepts a proposal; eligibility and capacity are checked again now."""
    _require_own_guardian(actor, assignment)
    _require_status(assignment, "proposed")
    lock_case_and_guardian(assignment.case, assignment.guardian)
    _require_status(assignment, "proposed")
    require_eligible(assignment.guardian, today_kst())
    require_capacity(assignment.guardian, excluding=assignment.id)
    assignment.status, assignment.accepted_at = "active", utcnow()
    _log(assignment, actor, "assignment_accepted", _l("교육후견인이 연계를 수락했습니다."))
    resolve(object_key("assignment", assignment), kinds=("assignment_proposed",))


def decline_assignment(assignment: Assignment, actor, reason: str) -> None:
    """The guardian declines a proposal (with a reason); they are not proposed to this student again."""
    _require_own_guardian(actor, assignment)
    _require_status(assignment, "proposed")
    reason = (reason or "").strip()
    if not reason:
        raise DomainError(_("거절 사유를 입력해 주세요."), "reason")
    if len(reason) > 300:
        raise DomainError(_("거절 사유는 300자 이내로 입력해 주세요."), "reason")
    assignment.status, assignment.declined_reason = "declined", reason
    _log(assignment, actor, "assignment_declined", _l("교육후견인이 연계를 거절했습니다."))
    resolve(object_key("assignment", assignment), kinds=("assignment_proposed",))


def suspend_assignment(assignment: Assignment, actor, reason: str) -> None:
    """Pause an active assignment with a coded reason (SUSPEND_REASONS)."""
    _require_coordinator(actor, assignment.case)
    _require_status(assignment, "active")
    if reason not in SUSPEND_REASONS:
        raise DomainError(_("중지 사유를 선택해 주세요."), "reason")
    assignment.status, assignment.suspended_reason = "suspended", reason
    _log(assignment, actor, "assignment_suspended",
         _l("교육후견인 활동 일시 중지: %(reason)s", reason=SUSPEND_REASONS[reason]), {"reason": reason})


def reactivation_refusal(assignment: Assignment, day: dt.date | None = None) -> str | None:
    """Why a suspended assignment may not resume yet, in the reader's language (None when it may)."""
    missing = missing_requirements(assignment.guardian, day or today_kst())
    if missing:
        return _("교육후견인이 아직 활동 요건을 갖추지 못했습니다: %(missing)s", missing="; ".join(missing))
    if not consent_covers(assignment.case, "guardian_matching"):
        return _("학생과 보호자의 교육후견인 연계 동의가 없습니다. 동의를 다시 받은 뒤 재개할 수 있습니다.")
    if assignment.case.status not in MATCHABLE_CASE_STATUSES:
        return _("'%(status)s' 상태의 사례에서는 활동을 재개할 수 없습니다.", status=assignment.case.status_label)
    return None


def reactivate_assignment(assignment: Assignment, actor) -> None:
    """Resume a suspended assignment once the guardian is eligible again (and consent covers it)."""
    _require_coordinator(actor, assignment.case)
    _require_status(assignment, "suspended")
    lock_case_and_guardian(assignment.case, assignment.guardian)
    refusal = reactivation_refusal(assignment)
    if refusal:
        raise DomainError(refusal, "guardian")
    assignment.status, assignment.suspended_reason = "active", None
    _log(assignment, actor, "assignment_reactivated", _l("교육후견인 활동 재개"))
    resolve(object_key("assignment", assignment), kinds=("assignment_suspended",))
    _resolve_reinstatement(assignment.guardian)


def close_assignment(assignment: Assignment, actor, reason: str, rematchable: bool,
                     expected_status: str | None = None) -> None:
    """End an assignment (or withdraw a proposal) with a coded reason and whether to rematch;
    ``expected_status``: what the coordinator's page showed (a proposal the guardian accepted
    meanwhile is not "withdrawn" by a click meant for the proposal)."""
    _require_coordinator(actor, assignment.case)
    if expected_status:
        lock_for_change(assignment, expected=expected_status)
    _end_assignment(assignment, actor, reason, rematchable)


def _end_assignment(assignment: Assignment, actor, reason: str, rematchable: bool) -> None:
    """Every way an assignment ends (a coordinator, a closed case, a lapsed consent): the state,
    the chronology and audit, news for the guardian, then ``assignment_ended``.  Callers check
    who may do it; this path asks for no role, so the school lead's case closing can use it."""
    _require_status(assignment, *COUNTED)
    if reason not in CLOSE_REASONS:
        raise DomainError(_("종료 사유를 선택해 주세요."), "reason")
    was = assignment.status
    assignment.status, assignment.close_reason = "closed", reason
    assignment.closed_at, assignment.rematchable = utcnow(), bool(rematchable)
    label = CLOSE_REASONS[reason]
    line = (_l("교육후견인 연계 제안 철회: %(reason)s", reason=label) if was == "proposed" else
            _l("교육후견인 연계 종료: %(reason)s", reason=label))
    _log(assignment, actor, "assignment_closed", line, {"reason": reason, "rematchable": bool(rematchable), "was": was})
    guardian = assignment.guardian
    if guardian.user_id:  # news: sent because it ended, so it resolves with nothing
        given = assignment.case.student.given_name
        text = (_l("%(name)s 학생 연계 제안이 철회되었습니다 (%(reason)s).", name=given, reason=label)
                if was == "proposed" else
                _l("%(name)s 학생과의 교육후견인 활동이 종료되었습니다 (%(reason)s).", name=given, reason=label))
        notify(guardian.user_id, "assignment_ended", text, link="/guardians/me", guardian_id=guardian.id,
               student_id=assignment.case.student_id)
    signals.assignment_ended.send(assignment, actor=actor, reason=reason)
    if was == "suspended":
        _resolve_reinstatement(guardian)


def _resolve_reinstatement(guardian: Guardian) -> None:
    """The "may be reactivated" alert is answered once none of the guardian's paused assignments waits."""
    from .lapse import reactivatable  # local: lapse builds on this module's neighbours
    db.session.flush()
    if not reactivatable(guardian):
        resolve(object_key("guardian", guardian), kinds=("assignment_reactivatable",))


def request_end(assignment: Assignment, actor, note: str) -> None:
    """The guardian asks the office's coordinators to end their assignment (with a reason)."""
    _require_own_guardian(actor, assignment)
    _require_status(assignment, "active", "suspended")
    if assignment.end_requested_at is not None:
        raise DomainError(_("이미 종료를 요청했습니다. 교육지원청 담당자의 처리를 기다려 주세요."), "note")
    note = (note or "").strip()
    if not note:
        raise DomainError(_("종료를 요청하는 사유를 적어 주세요."), "note")
    if len(note) > END_NOTE_MAX:
        raise DomainError(_("사유는 %(n)d자 이내로 적어 주세요.", n=END_NOTE_MAX), "note")
    assignment.end_requested_at, assignment.end_request_note = utcnow(), note
    _log(assignment, actor, "assignment_end_requested", _l("교육후견인이 배정 종료를 요청했습니다."))
    case, guardian = assignment.case, assignment.guardian
    text = _l("교육후견인 %(guardian)s님이 %(student)s 학생(%(school)s) 배정 종료를 요청했습니다.",
              guardian=guardian.name, student=case.student.name, school=case.school.name)
    for user in office_coordinators(case.school.office_code):
        notify(user.id, "assignment_end_requested", text, link=f"/guardians/assignments/{assignment.uid}",
               case_id=case.id, guardian_id=guardian.id, about=object_key("assignment", assignment),
               dedupe_key=f"assignment-end-request:{assignment.id}:{user.id}")


def _log(assignment: Assignment, actor, action: str, text, details: dict | None = None) -> None:
    """A chronology line (``text``: a message marked with _l) and the audit event."""
    case = assignment.case
    add_event(case, "assignment", text, actor)
    record(action, obj=assignment, subject=case.student, actor=actor,
           details={"guardian": assignment.guardian.uid, "status": assignment.status, **(details or {})})


def assignments_for_case(case: SupportCase) -> list[Assignment]:
    """The case's guardian assignments, current first, with their guardians (one query)."""
    return list(db.session.execute(
        select(Assignment).where(Assignment.case_id == case.id).options(joinedload(Assignment.guardian))
        .order_by(Assignment.status.in_(COUNTED).desc(), Assignment.id.desc())).scalars())
