"""Support case services: the request and the lifecycle state machine.

Every function takes the acting user, enforces its rule, appends a chronology line and an
audit event in the caller's transaction, and raises DomainError (or NotPermitted) on refusal.
Consent lives in consent.py, the support plan in plan.py, notes and escalations in notes.py.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from flask_babel import gettext, lazy_gettext as _l, lazy_pgettext
from sqlalchemy import select

from .. import signals
from ..audit.services import record
from ..db import today_kst
from ..domain import DomainError, NotPermitted
from ..i18n import date_words
from ..extensions import db
from ..locking import lock_for_change
from ..permissions import SCHOOL_LEAD, SCHOOL_ROLES
from ..students.models import Student
from ..words import particle
from .chronology import add_event, listing
from .consent import both_parties_consented
from .plan import end_open_actions
from .models import (CLOSE_REASONS, DOMAINS, NEED_OUTCOMES, OPEN_STATUSES, REQUESTERS, RISK_LEVELS, STATUSES, CaseNeed,
                     CaseSelection, SupportCase)


@dataclass(frozen=True)
class Transition:
    sources: tuple[str, ...]
    target: str
    roles: tuple[str, ...]
    label: object  # a message marked with lazy_pgettext


#: the lifecycle of DESIGN.md; views offer only what ``allowed_transitions`` returns
TRANSITIONS: dict[str, Transition] = {
    "start_screening": Transition(("requested",), "screening", SCHOOL_ROLES, lazy_pgettext("case action", "검토 시작")),
    "select": Transition(("screening",), "selected", (SCHOOL_LEAD,), lazy_pgettext("case action", "지원 대상 선정")),
    "not_select": Transition(("screening",), "not_selected", (SCHOOL_LEAD,), lazy_pgettext("case action", "미선정")),
    "start_planning": Transition(("selected",), "planning", SCHOOL_ROLES, lazy_pgettext("case action", "지원 계획 수립 시작")),
    "start_support": Transition(("planning", "monitoring"), "in_support", SCHOOL_ROLES, lazy_pgettext("case action", "지원 시작")),
    "start_monitoring": Transition(("in_support",), "monitoring", SCHOOL_ROLES, lazy_pgettext("case action", "점검 단계로")),
    "close": Transition(("in_support", "monitoring", "follow_up"), "closed", (SCHOOL_LEAD,), lazy_pgettext("case action", "종결")),
    "start_follow_up": Transition(("closed",), "follow_up", SCHOOL_ROLES, lazy_pgettext("case action", "사후 관리 시작")),
    "reopen": Transition(("closed", "follow_up"), "planning", (SCHOOL_LEAD,), lazy_pgettext("case action", "재개")),
    "withdraw_request": Transition(("requested",), "withdrawn", SCHOOL_ROLES, lazy_pgettext("case action", "요청 철회")),
}


def _require_school_team(actor, school_id: int, roles=SCHOOL_ROLES) -> None:
    if actor is None or actor.role not in roles or actor.organisation_id != school_id:
        raise NotPermitted(gettext("이 사례를 변경할 권한이 없습니다."))


def create_request(actor, student: Student, *, requested_by: str, needs: list[tuple[str, str]],
                   risk_level: str, summary: str, requested_on: dt.date | None = None) -> SupportCase:
    """Log a request for support (법 10②) for a student of the actor's school."""
    _require_school_team(actor, student.school_id)
    if requested_by not in REQUESTERS:
        raise DomainError(gettext("요청한 사람을 선택해 주세요."), "requested_by")
    if risk_level not in RISK_LEVELS:
        raise DomainError(gettext("위기 수준을 선택해 주세요."), "risk_level")
    if not needs:
        raise DomainError(gettext("지원이 필요한 영역을 하나 이상 입력해 주세요."), "needs")
    for domain, description in needs:
        if domain not in DOMAINS:
            raise DomainError(gettext("알 수 없는 지원 영역입니다."), "needs")
        if not (description or "").strip():
            raise DomainError(gettext("%(label)s 영역의 내용을 간단히 적어 주세요.", label=DOMAINS[domain]), "needs")
    if len({d for d, _ in needs}) != len(needs):
        raise DomainError(gettext("같은 영역을 두 번 입력했습니다."), "needs")
    existing = open_case_of(student)
    if existing is not None:
        raise OpenCaseExists(existing)
    case = SupportCase(school_id=student.school_id, student_id=student.id, status="requested",
                       risk_level=risk_level, urgency=RISK_LEVELS[risk_level][1], requested_by=requested_by,
                       requested_on=requested_on or today_kst(), created_by_id=actor.id, owner_id=actor.id)
    case.summary = (summary or "").strip()
    db.session.add(case)
    db.session.flush()
    for domain, description in needs:
        need = CaseNeed(case_id=case.id, domain=domain)
        need.description = description.strip()
        db.session.add(need)
    add_event(case, "request", _l("지원 요청 접수 (%(who)s 요청, %(domains)s)", who=REQUESTERS[requested_by],
                                  domains=listing([DOMAINS[d] for d, _ in needs])), actor)
    record("case_requested", obj=case, subject=student, actor=actor,
           details={"domains": [d for d, _ in needs], "risk_level": risk_level, "requested_by": requested_by})
    return case


class OpenCaseExists(DomainError):
    """The student already has an open case: the request is refused, pointing to it."""

    def __init__(self, case: SupportCase) -> None:
        super().__init__(gettext("이 학생에게는 이미 진행 중인 지원 사례가 있습니다 (%(status)s, %(day)s 요청). "
                                 "새로 요청하지 말고 그 사례를 열어 지원 영역을 더해 주세요.",
                                 status=STATUSES[case.status], day=date_words(case.requested_on)), "student")
        self.case = case


def open_case_of(student: Student) -> SupportCase | None:
    """The student's open case, if any (a student has at most one)."""
    return db.session.execute(select(SupportCase).where(
        SupportCase.student_id == student.id, SupportCase.status.in_(OPEN_STATUSES))
        .order_by(SupportCase.id.desc()).limit(1)).scalar_one_or_none()


def allowed_transitions(case: SupportCase, actor) -> list[str]:
    """Transitions the actor may start from the case's current status."""
    if actor is None or actor.organisation_id != case.school_id:
        return []
    return [name for name, t in TRANSITIONS.items() if case.status in t.sources and actor.role in t.roles]


def check_transition(case: SupportCase, name: str, actor) -> None:
    """Refuse before anything else when the role, school or current status does not allow it."""
    rule = TRANSITIONS[name]
    _require_school_team(actor, case.school_id, rule.roles)
    if case.status not in rule.sources:
        action = f"'{rule.label}'"
        raise DomainError(gettext("%(status)s 상태에서는 %(action)s%(eul)s 할 수 없습니다.", status=f"'{STATUSES[case.status]}'",
                                  action=action, eul=particle(action, "을/를")), "status")


def _begin(case: SupportCase, name: str, actor) -> None:
    """Lock the case (a colleague may be changing it right now), then check the rules again."""
    lock_for_change(case)
    check_transition(case, name, actor)


def _transition(case: SupportCase, name: str, actor, details: dict | None = None, text="") -> None:
    rule = TRANSITIONS[name]
    _begin(case, name, actor)
    source = case.status
    case.status = rule.target
    old, new = STATUSES[source], STATUSES[rule.target]
    add_event(case, "status", _l("%(old)s → %(new)s: %(text)s", old=old, new=new, text=text) if text else
              _l("%(old)s → %(new)s", old=old, new=new), actor)
    record(f"case_{name}", obj=case, subject=case.student, actor=actor,
           details={"from": source, "to": rule.target, **(details or {})})


def start_screening(case, actor):
    """Begin reviewing a request."""
    _transition(case, "start_screening", actor)


def select_case(case, actor, *, meeting_on: dt.date, members: str, basic_academic_result: str = "",
                teacher_opinions: str = "", parent_counselling: str = "") -> CaseSelection:
    """Select the student for support (선정) with the meeting's evidence (법 10⑥, 영 10②)."""
    _begin(case, "select", actor)
    if not (members or "").strip():
        raise DomainError(gettext("협의에 참석한 사람을 입력해 주세요."), "members")
    if not (basic_academic_result or "").strip() and not (teacher_opinions or "").strip():
        raise DomainError(gettext("기초학력 결과나 교사 의견 중 하나 이상을 입력해 주세요."), "teacher_opinions")
    _check_meeting_date(meeting_on)
    _transition(case, "select", actor, {"meeting_on": meeting_on.isoformat()})
    return _selection(case, actor, True, meeting_on, members=members, basic_academic_result=basic_academic_result,
                      teacher_opinions=teacher_opinions, parent_counselling=parent_counselling)


def not_select_case(case, actor, *, meeting_on: dt.date, members: str, reason: str) -> CaseSelection:
    """Decide not to select, with the reason."""
    _begin(case, "not_select", actor)
    if not (reason or "").strip():
        raise DomainError(gettext("미선정 사유를 입력해 주세요."), "reason")
    if not (members or "").strip():
        raise DomainError(gettext("협의에 참석한 사람을 입력해 주세요."), "members")
    _check_meeting_date(meeting_on)
    _transition(case, "not_select", actor, {"meeting_on": meeting_on.isoformat()})
    return _selection(case, actor, False, meeting_on, members=members, reason=reason)


def _check_meeting_date(meeting_on) -> None:
    if not isinstance(meeting_on, dt.date):
        raise DomainError(gettext("협의 날짜를 입력해 주세요."), "meeting_on")
    if meeting_on > today_kst():
        raise DomainError(gettext("협의 날짜는 오늘 이후일 수 없습니다."), "meeting_on")


def _selection(case, actor, selected: bool, meeting_on, **texts) -> CaseSelection:
    selection = CaseSelection(case_id=case.id, selected=selected, meeting_on=meeting_on, decided_by_id=actor.id)
    for key, value in texts.items():
        setattr(selection, key, (value or "").strip() or None)
    db.session.add(selection)
    return selection


def start_planning(case, actor):
    """Start writing the support plan of a selected case."""
    _transition(case, "start_planning", actor)


def start_support(case, actor):
    """Begin support; both the student's and the parent's consent are required (법 11③)."""
    _begin(case, "start_support", actor)
    if not both_parties_consented(case):
        raise DomainError(gettext("학생과 보호자 모두의 동의가 있어야 지원을 시작할 수 있습니다."), "consent")
    _transition(case, "start_support", actor)


def start_monitoring(case, actor):
    """Move a case in support to monitoring."""
    _transition(case, "start_monitoring", actor)


def close_case(case, actor, *, reason: str, outcomes: dict[int, tuple[str, str]],
               choices: dict[str, str] | None = None) -> None:
    """Close with a coded reason and an outcome per need ({need id: (outcome, note)}).

    Everything that depends on the case reacts in the same transaction: open plan actions end
    here; guardians, agencies, conferences and alerts react to ``case_closed`` with ``choices``
    (the close form's answers about each assignment and referral) and may refuse."""
    _begin(case, "close", actor)
    if reason not in CLOSE_REASONS:
        raise DomainError(gettext("종결 사유를 선택해 주세요."), "reason")
    for need in case.needs:
        if need.resolved_on is not None:
            continue
        outcome, note = outcomes.get(need.id, (None, ""))
        if outcome not in NEED_OUTCOMES:
            raise DomainError(gettext("%(label)s 영역의 결과를 선택해 주세요.", label=need.domain_label), "outcomes")
    _transition(case, "close", actor, {"reason": reason}, CLOSE_REASONS[reason])
    for need in case.needs:
        if need.resolved_on is not None:
            continue
        outcome, note = outcomes[need.id]
        need.outcome, need.resolved_on = outcome, today_kst()
        need.outcome_note = (note or "").strip() or None
    case.closed_on, case.close_reason = today_kst(), reason
    end_open_actions(case, actor)
    signals.case_closed.send(case, actor=actor, choices=dict(choices or {}))


def withdraw_request(case, actor, *, reason: str) -> None:
    """Withdraw a mistaken request still in 요청 접수, with the reason (an end state)."""
    _begin(case, "withdraw_request", actor)
    reason = (reason or "").strip()
    if not reason:
        raise DomainError(gettext("철회 사유를 입력해 주세요."), "reason")
    case.withdraw_reason = reason
    case.closed_on = today_kst()
    _transition(case, "withdraw_request", actor, text=reason)
    signals.case_withdrawn.send(case, actor=actor)


def start_follow_up(case, actor):
    """Keep watching a closed case (사후 관리)."""
    _transition(case, "start_follow_up", actor)


def reopen_case(case, actor, *, reason: str) -> None:
    """Reopen a closed case; it returns to planning."""
    _begin(case, "reopen", actor)
    if not (reason or "").strip():
        raise DomainError(gettext("재개 사유를 입력해 주세요."), "reason")
    _transition(case, "reopen", actor, text=reason.strip())
    case.closed_on, case.close_reason = None, None
    add_event(case, "status", _l("재개: 종결 때 끝난 교육후견인 배정, 기관 의뢰, 지원 계획은 자동으로 되살아나지 않습니다. "
                                 "필요하면 다시 연계해 주세요."), actor)
    signals.case_reopened.send(case, actor=actor)
