"""The support plan: goals per need and actions with an owner, a due date and a status."""
from __future__ import annotations

import datetime as dt

from flask_babel import gettext, lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from .. import signals
from ..audit.services import record
from ..auth.models import Organisation, User
from ..db import today_kst
from ..i18n import date_words
from ..domain import DomainError, NotPermitted
from ..extensions import db
from ..locking import lock_for_change
from ..permissions import SCHOOL_ROLES
from .chronology import add_event
from .models import ACTION_STATUSES, SETTABLE_ACTION_STATUSES, CaseNeed, PlanAction, SupportCase

#: statuses in which the plan may change
PLANNABLE = ("selected", "planning", "in_support", "monitoring", "follow_up")


def _require_team(case: SupportCase, actor) -> None:
    if actor is None or actor.role not in SCHOOL_ROLES or actor.organisation_id != case.school_id:
        raise NotPermitted(gettext("이 사례의 지원 계획을 변경할 권한이 없습니다."))
    if case.status not in PLANNABLE:
        raise DomainError(gettext("선정된 뒤에 지원 계획을 세울 수 있습니다."), "goal")


def add_plan_action(case: SupportCase, actor, *, goal: str, action: str, need_id: int | None = None,
                    owner_id: int | None = None, owner_agency_id: int | None = None, due_on: dt.date | None = None,
                    shared_with_guardian: bool = False, outside_owner: bool = False) -> PlanAction:
    """Add a goal and the action that serves it.  The owner is a staff member of the school; with
    ``outside_owner`` (a conference decision, which checked the owner itself) also a coordinator,
    a guardian's account or an agency.  Names are never copied: the label is derived when shown."""
    _require_team(case, actor)
    if not (goal or "").strip():
        raise DomainError(gettext("목표를 입력해 주세요."), "goal")
    if not (action or "").strip():
        raise DomainError(gettext("실행 내용을 입력해 주세요."), "action")
    need = db.session.get(CaseNeed, need_id) if need_id is not None else None
    if need_id is not None and (need is None or need.case_id != case.id):
        raise DomainError(gettext("이 사례의 지원 영역을 선택해 주세요."), "need_id")
    if owner_id is not None:
        owner = db.session.get(User, owner_id)
        in_school = owner is not None and owner.organisation_id == case.school_id
        if owner is None or not owner.active or not (in_school or outside_owner):
            raise DomainError(gettext("담당자는 이 학교의 지원팀 구성원이어야 합니다."), "owner_id")
    if owner_agency_id is not None:
        agency = db.session.get(Organisation, owner_agency_id)
        if not outside_owner or agency is None or agency.kind != "agency":
            raise DomainError(gettext("담당 기관은 목록에 있는 유관기관 중에서 골라 주세요."), "owner_id")
    earliest = today_kst() - dt.timedelta(days=365)
    if due_on is not None and due_on < earliest:
        raise DomainError(gettext("기한은 %(day)s 이후로 입력해 주세요 (1년 넘게 지난 날짜는 기록할 수 없습니다).",
                                  day=date_words(earliest)), "due_on")
    item = PlanAction(case_id=case.id, need_id=need_id, owner_id=owner_id, owner_agency_id=owner_agency_id,
                      due_on=due_on, status="open", shared_with_guardian=bool(shared_with_guardian))
    item.goal, item.action = goal.strip(), action.strip()
    db.session.add(item)
    db.session.flush()
    add_event(case, "plan", _l("지원 계획 추가: %(goal)s — %(action)s (기한 %(day)s)", goal=goal.strip(),
                               action=action.strip(), day=due_on) if due_on else
              _l("지원 계획 추가: %(goal)s — %(action)s", goal=goal.strip(), action=action.strip()), actor)
    record("plan_action_added", obj=item, subject=case.student, actor=actor,
           details={"due_on": due_on.isoformat() if due_on else None, "owner_id": owner_id,
                    "owner_agency_id": owner_agency_id})
    return item


def set_action_status(item: PlanAction, case: SupportCase, actor, status: str,
                      expected_status: str | None = None) -> None:
    """Mark an action done or cancelled (or open again); ``expected_status``: the status the
    user's page showed (refused with "다른 사용자가 먼저 처리했습니다" if it changed since)."""
    _require_team(case, actor)
    lock_for_change(item, expected=expected_status)  # two team members may mark it at the same moment
    if status not in SETTABLE_ACTION_STATUSES:
        raise DomainError(gettext("상태를 선택해 주세요."), "status")
    if status == item.status:
        raise DomainError(gettext("이미 그 상태입니다."), "status")
    if item.status == "case_closed":
        raise DomainError(gettext("사례 종결로 끝난 항목입니다. 새 항목을 추가해 주세요."), "status")
    previous, item.status = item.status, status
    item.completed_on = today_kst() if status == "done" else None
    add_event(case, "plan", _l("지원 계획 '%(goal)s': %(status)s", goal=item.goal, status=ACTION_STATUSES[status]), actor)
    record("plan_action_status", obj=item, subject=case.student, actor=actor, details={"from": previous, "to": status})
    if previous == "open":
        signals.plan_action_finished.send(item, actor=actor, status=status)


def end_open_actions(case: SupportCase, actor) -> list[PlanAction]:
    """The case closed: every open action ends as "사례 종결로 종료" and leaves the overdue lists."""
    items = list(db.session.execute(select(PlanAction).where(
        PlanAction.case_id == case.id, PlanAction.status == "open").order_by(PlanAction.id)).scalars())
    for item in items:
        item.status, item.completed_on = "case_closed", today_kst()
        record("plan_action_status", obj=item, subject=case.student, actor=actor,
               details={"from": "open", "to": "case_closed"})
        signals.plan_action_finished.send(item, actor=actor, status="case_closed")
    if items:
        add_event(case, "plan", _l("사례 종결로 진행 중인 지원 계획 %(n)d건 종료", n=len(items)), actor)
    return items


def plan_of(case: SupportCase) -> list[PlanAction]:
    """The case's plan, due first."""
    return list(db.session.execute(
        select(PlanAction).where(PlanAction.case_id == case.id)
        .options(selectinload(PlanAction.owner), selectinload(PlanAction.owner_agency))
        .order_by(PlanAction.status, PlanAction.due_on.is_(None), PlanAction.due_on, PlanAction.id)).scalars())
