"""The support plan: goals per need and actions with an owner, a due date and a status."""
from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from ..audit.services import record
from ..auth.models import User
from ..db import today_kst
from ..domain import DomainError, NotPermitted
from ..extensions import db
from ..permissions import SCHOOL_ROLES
from .chronology import add_event
from .models import ACTION_STATUSES, CaseNeed, PlanAction, SupportCase

#: statuses in which the plan may change
PLANNABLE = ("selected", "planning", "in_support", "monitoring", "follow_up")


def _require_team(case: SupportCase, actor) -> None:
    if actor is None or actor.role not in SCHOOL_ROLES or actor.organisation_id != case.school_id:
        raise NotPermitted("이 사례의 지원 계획을 변경할 권한이 없습니다.")
    if case.status not in PLANNABLE:
        raise DomainError("선정된 뒤에 지원 계획을 세울 수 있습니다.", "goal")


def add_plan_action(case: SupportCase, actor, *, goal: str, action: str, need_id: int | None = None,
                    owner_id: int | None = None, owner_label: str | None = None, due_on: dt.date | None = None,
                    shared_with_guardian: bool = False) -> PlanAction:
    """Add a goal and the action that serves it; the owner is a staff member of the school or
    a named outside owner (a guardian or an agency, as later features add them)."""
    _require_team(case, actor)
    if not (goal or "").strip():
        raise DomainError("목표를 입력해 주세요.", "goal")
    if not (action or "").strip():
        raise DomainError("실행 내용을 입력해 주세요.", "action")
    need = db.session.get(CaseNeed, need_id) if need_id is not None else None
    if need_id is not None and (need is None or need.case_id != case.id):
        raise DomainError("이 사례의 지원 영역을 선택해 주세요.", "need_id")
    if owner_id is not None:
        owner = db.session.get(User, owner_id)
        if owner is None or owner.organisation_id != case.school_id or not owner.active:
            raise DomainError("담당자는 이 학교의 지원팀 구성원이어야 합니다.", "owner_id")
    if due_on is not None and due_on < today_kst() - dt.timedelta(days=365):
        raise DomainError("기한을 확인해 주세요.", "due_on")
    item = PlanAction(case_id=case.id, need_id=need_id, owner_id=owner_id,
                      owner_label=(owner_label or "").strip() or None, due_on=due_on, status="open",
                      shared_with_guardian=bool(shared_with_guardian))
    item.goal, item.action = goal.strip(), action.strip()
    db.session.add(item)
    db.session.flush()
    due = f" (기한 {due_on:%Y. %-m. %-d.})" if due_on else ""
    add_event(case, "plan", f"지원 계획 추가: {goal.strip()} — {action.strip()}{due}", actor)
    record("plan_action_added", obj=item, subject=case.student, actor=actor,
           details={"due_on": due_on.isoformat() if due_on else None, "owner_id": owner_id})
    return item


def set_action_status(item: PlanAction, case: SupportCase, actor, status: str) -> None:
    """Mark an action done or cancelled (or open again)."""
    _require_team(case, actor)
    if status not in ACTION_STATUSES:
        raise DomainError("상태를 선택해 주세요.", "status")
    if status == item.status:
        raise DomainError("이미 그 상태입니다.", "status")
    previous, item.status = item.status, status
    item.completed_on = today_kst() if status == "done" else None
    add_event(case, "plan", f"지원 계획 '{item.goal}': {ACTION_STATUSES[status]}", actor)
    record("plan_action_status", obj=item, subject=case.student, actor=actor, details={"from": previous, "to": status})


def plan_of(case: SupportCase) -> list[PlanAction]:
    """The case's plan, due first."""
    return list(db.session.execute(
        select(PlanAction).where(PlanAction.case_id == case.id)
        .order_by(PlanAction.status, PlanAction.due_on.is_(None), PlanAction.due_on, PlanAction.id)).scalars())
