"""Recording a held meeting: attendance, minutes and a decision per case, all of it or nothing.

Decisions that change a case go through the case services and their rules; a "close" decision
carries the same answers as closing from the case page (reason, an outcome per need, and one
answer per dependent object: app.lifecycle.close_items).  Callers commit.
"""
from __future__ import annotations

import datetime as dt

from flask_babel import gettext, gettext as _, lazy_gettext as _l

from .. import signals
from ..audit.services import record
from ..auth.models import Organisation, User
from ..cases import notes as case_notes, services as case_services
from ..cases.chronology import add_event
from ..cases.models import CLOSE_REASONS, SupportCase
from ..cases.plan import PLANNABLE, add_plan_action
from ..db import today_kst, utcnow
from ..domain import DomainError, NotPermitted
from ..extensions import db
from ..locking import lock_for_change
from ..words import particle
from ..lifecycle import close_items
from ..permissions import SCHOOL_LEAD, SCHOOL_ROLES
from .access import agency_case_ids, eligible_users, is_organiser_side
from .common import TEXT_MAX, kst_words
from .models import ACTION_OWNER_KINDS, DECISIONS, ActionItem, Conference, ConferenceCase
from .reviews import refresh_reviews

#: how much of an action item's description names its plan goal
GOAL_CHARS = 60


def has_started(conference: Conference) -> bool:
    """The meeting's start time has come."""
    return conference.starts_at <= utcnow()


def _owner(case: SupportCase, action: dict) -> tuple[str, User | None, Organisation | None]:
    kind = action.get("owner_kind")
    if kind not in ACTION_OWNER_KINDS:
        raise DomainError(_("실행 과제의 담당을 선택해 주세요."), "actions")
    if kind == "school_team":
        return kind, None, None
    if kind == "user":
        user = db.session.get(User, action.get("owner_user_id") or 0)
        if user is None or user.id not in {u.id for u in eligible_users(case.school.office_code, [case])}:
            raise DomainError(_("실행 과제의 담당자는 이 사례에 관계된 사용자여야 합니다."), "actions")
        return kind, user, None
    agency = db.session.get(Organisation, action.get("owner_agency_id") or 0)
    if agency is None or case.id not in agency_case_ids(agency.id, [case.id]):
        raise DomainError(_("담당 기관은 이 사례의 의뢰를 접수한 기관이어야 합니다."), "actions")
    return kind, None, agency


def _check_closing(case: SupportCase, closing: dict | None) -> dict:
    """The closing answers for a "close" decision: nothing is assumed, every question answered."""
    name = case.student.name
    closing = closing or {}
    if closing.get("reason") not in CLOSE_REASONS:
        raise DomainError(_("%(name)s 학생 사례의 종결 사유를 선택해 주세요.", name=name), "closings")
    choices = {k: (v or "").strip() for k, v in (closing.get("choices") or {}).items()}
    for item in close_items(case):
        if item.kind == "choice" and item.required and choices.get(item.key) not in {k for k, _ in item.options}:
            raise DomainError(gettext("%(name)s 학생 사례를 종결하려면 '%(item)s'%(eul)s 선택해 주세요.", name=name,
                                      item=item.label, eul=particle(f"'{item.label}'", "을/를")), "closings")
    # outcomes per need are checked by close_case itself (it knows which needs still need one)
    return dict(reason=closing["reason"], outcomes=dict(closing.get("outcomes") or {}), choices=choices)


def _check_decision(actor, case: SupportCase, given: dict | None, closing: dict | None, today: dt.date) -> dict:
    """Validate one case's decision and actions; returns them normalised."""
    name = case.student.name
    if not given or given.get("decision") not in DECISIONS:
        raise DomainError(_("%(name)s 학생 사례의 결정을 선택해 주세요.", name=name), "decisions")
    decision, note = given["decision"], (given.get("note") or "").strip()[:TEXT_MAX]
    review = given.get("next_review_on")
    if review is not None and (not isinstance(review, dt.date) or review < today):
        raise DomainError(_("다음 점검일은 오늘 이후여야 합니다."), "decisions")
    if decision in ("escalate", "close") and not (actor.role in SCHOOL_ROLES and actor.organisation_id == case.school_id):
        raise NotPermitted(_("'%(decision)s' 결정은 이 사례 학교의 지원팀이 기록해야 합니다.",
                             decision=DECISIONS[decision]))
    if decision == "escalate":
        if case.escalation_open:
            raise DomainError(_("%(name)s 학생 사례는 이미 교육지원청에 요청한 상태입니다.", name=name), "decisions")
        if not note:
            raise DomainError(_("교육지원청 요청 사유를 메모에 적어 주세요."), "decisions")
        if case.status in ("closed", "not_selected", "withdrawn"):
            raise DomainError(_("종결되었거나 미선정된 사례는 교육지원청에 요청할 수 없습니다."), "decisions")
    checked_closing = None
    if decision == "close":
        if actor.role != SCHOOL_LEAD:
            raise NotPermitted(_("종결 결정은 학교 지원팀장(교감)이 기록해야 합니다."))
        case_services.check_transition(case, "close", actor)
        if given.get("actions"):
            raise DomainError(_("%(name)s 학생 사례는 종결하므로 실행 과제를 정할 수 없습니다.", name=name), "actions")
        if review is not None:
            raise DomainError(_("%(name)s 학생 사례는 종결하므로 다음 점검일을 정할 수 없습니다.", name=name),
                              "decisions")
        checked_closing = _check_closing(case, closing)
    actions = []
    for action in given.get("actions") or []:
        description = (action.get("description") or "").strip()[:TEXT_MAX]
        if not description:
            raise DomainError(_("실행 과제의 내용을 입력해 주세요."), "actions")
        kind, user, agency = _owner(case, action)
        due = action.get("due_on")
        if due is not None and (not isinstance(due, dt.date) or due < today):
            raise DomainError(_("실행 과제의 기한은 오늘 이후여야 합니다."), "actions")
        actions.append(dict(description=description, kind=kind, user=user, agency=agency, due_on=due))
    return dict(decision=decision, note=note, review=review, actions=actions, closing=checked_closing)


def record_meeting(conference: Conference, actor, *, attended_participant_ids, minutes: str,
                   decisions: dict, closings: dict | None = None) -> None:
    """Record attendance, minutes and each case's decision once the meeting has started; all or nothing.

    ``decisions``: {case id: {decision, note, next_review_on, actions}}; ``closings``: for each case
    decided "close", {case id: {reason, outcomes: {need id: (outcome, note)}, choices: {key: value}}}."""
    if not is_organiser_side(actor, conference):
        raise NotPermitted(_("이 회의를 기록할 권한이 없습니다."))
    lock_for_change(conference)  # the organiser's colleague may be recording it right now
    if conference.status != "scheduled":
        raise DomainError(_("예정된 회의만 기록할 수 있습니다."), "status")
    if not has_started(conference):
        raise DomainError(_("회의가 시작된 뒤에 결과를 기록할 수 있습니다. 이 회의는 %(when)s에 시작합니다.",
                            when=kst_words(conference.starts_at)), "status")
    minutes = (minutes or "").strip()
    if not minutes:
        raise DomainError(_("회의록을 입력해 주세요."), "minutes")
    attended = {int(i) for i in attended_participant_ids or []}
    if attended - {p.id for p in conference.participants}:
        raise DomainError(_("참석자 목록에 없는 사람입니다."), "attended_participant_ids")
    today = today_kst()
    decisions = {int(k): v for k, v in (decisions or {}).items()}
    closings = {int(k): v for k, v in (closings or {}).items()}
    if set(decisions) - {cc.case_id for cc in conference.cases}:
        raise DomainError(_("이 회의에서 다루지 않은 사례의 결정입니다."), "decisions")
    checked = {cc.case_id: _check_decision(actor, cc.case, decisions.get(cc.case_id), closings.get(cc.case_id), today)
               for cc in conference.cases}
    with db.session.begin_nested():
        for cc in conference.cases:
            _apply(conference, actor, cc, checked[cc.case_id])
        for person in conference.participants:
            person.attended = person.id in attended
        conference.status, conference.held_at, conference.minutes = "held", utcnow(), minutes
        refresh_reviews(cc.case_id for cc in conference.cases)
        record("conference_recorded", obj=conference, actor=actor,
               details={"decisions": {cc.case.uid: checked[cc.case_id]["decision"] for cc in conference.cases},
                        "attended": len(attended), "actions": sum(len(c["actions"]) for c in checked.values())})
        signals.conference_held.send(conference, actor=actor, cases=[cc.case for cc in conference.cases])


def plan_goal(description: str) -> str:
    """The plan goal of a conference task: its own words, shortened (never a constant title)."""
    text = " ".join(description.split())
    return text if len(text) <= GOAL_CHARS else text[:GOAL_CHARS - 1].rstrip() + "…"


def _close(case: SupportCase, actor, closing: dict) -> None:
    try:
        case_services.close_case(case, actor, reason=closing["reason"], outcomes=closing["outcomes"],
                                 choices=closing["choices"])
    except NotPermitted:
        raise
    except DomainError as error:  # name the student: one form may close several cases
        raise DomainError(_("%(name)s 학생 사례를 종결할 수 없습니다: %(why)s", name=case.student.name, why=error.message),
                          "closings") from error


def _apply(conference: Conference, actor, cc: ConferenceCase, checked: dict) -> None:
    """Apply one case's decision through the case services, then its action items."""
    case, decision, note = cc.case, checked["decision"], checked["note"]
    if decision == "escalate":
        case_notes.escalate_case(case, actor, reason=note)
    elif decision == "close":
        _close(case, actor, checked["closing"])
    cc.decision, cc.decision_note, cc.next_review_on = decision, note or None, checked["review"]
    plannable = case.status in PLANNABLE and actor.role in SCHOOL_ROLES and actor.organisation_id == case.school_id
    for action in checked["actions"]:
        user, agency = action["user"], action["agency"]
        item = ActionItem(conference_id=conference.id, case_id=case.id, owner_kind=action["kind"],
                          owner_user_id=user.id if user else None, owner_agency_id=agency.id if agency else None,
                          due_on=action["due_on"], status="open")
        item.description = action["description"]
        if plannable:
            # the conference checked the owner (_owner), so a coordinator, guardian or agency may own it
            plan = add_plan_action(case, actor, goal=plan_goal(action["description"]), action=action["description"],
                                   owner_id=user.id if user else None, owner_agency_id=agency.id if agency else None,
                                   due_on=action["due_on"], outside_owner=True)
            item.plan_action_id = plan.id
        db.session.add(item)
    review = _l(" (다음 점검 %(day)s)", day=checked["review"]) if checked["review"] else ""
    add_event(case, "conference", _l("사례회의 결정: %(decision)s%(note)s%(review)s", decision=DECISIONS[decision],
                                     note=f" — {note}" if note else "", review=review), actor)
    record("conference_decision", obj=cc, subject=case.student, actor=actor,
           details={"conference": conference.uid, "decision": decision, "actions": len(checked["actions"])})
