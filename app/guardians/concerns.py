"""Safeguarding concerns (우려 보고): raised by a guardian on an activity log, read in full and
acknowledged by the school team or the district coordinator, escalated when nobody does.

The guardian writes the description (encrypted); the school team of the case's school and the
coordinators of its office are alerted at once, each alert pointing at the concern.  Whoever
acknowledges it records the response taken (encrypted) and may add a plan action or a note in
the same transaction; the guardian is told only that it was acknowledged.  Callers commit.
"""
from __future__ import annotations

import datetime as dt

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from .. import permissions, signals
from ..audit.services import record
from ..business_days import add_business_days
from ..cases.chronology import add_event
from ..cases.models import NOTE_KINDS, SupportCase
from ..db import utcnow
from ..domain import DomainError, NotPermitted
from ..extensions import db
from ..notifications.services import notify, object_key
from .models import ActivityLog, Assignment, GuardianConcern
from .recipients import case_team, office_coordinators, school_leads

#: a concern needs at least one sentence; this many characters after stripping
DESCRIPTION_MIN = 10
TEXT_MAX = 2000
KST = dt.timedelta(hours=9)


def kst(moment: dt.datetime) -> dt.datetime:
    """A naive-UTC timestamp as naive Seoul time."""
    return moment + KST


def clean_description(text: str | None) -> str:
    """The concern's description, or a refusal next to its field."""
    text = (text or "").strip()
    if len(text) < DESCRIPTION_MIN:
        raise DomainError(_("우려 내용을 한 문장 이상 적어 주세요."), "concern_description")
    if len(text) > TEXT_MAX:
        raise DomainError(_("우려 내용은 %(n)d자 이내로 적어 주세요.", n=TEXT_MAX), "concern_description")
    return text


def concern_link(concern: GuardianConcern) -> str:
    return f"/guardians/concerns/{concern.uid}"


def raise_concern(assignment: Assignment, log: ActivityLog, actor, description: str) -> GuardianConcern:
    """Keep the concern, alert the school team and the office's coordinators, send ``concern_raised``."""
    case = assignment.case
    concern = GuardianConcern(activity_id=log.id, assignment_id=assignment.id, case_id=case.id,
                              guardian_id=assignment.guardian_id, status="open", raised_at=utcnow())
    concern.description = clean_description(description)
    db.session.add(concern)
    db.session.flush()
    day = log.occurred_on
    text = _l("교육후견인 우려 보고: %(student)s (%(school)s) — %(day)s", student=case.student.name,
              school=case.school.name, day=day)
    for user in case_team(case):
        notify(user.id, "concern", text, link=concern_link(concern), case_id=case.id,
               guardian_id=assignment.guardian_id, about=object_key("concern", concern),
               deadline=answer_due(concern).date(), dedupe_key=f"concern:{concern.uid}:{user.id}")
    add_event(case, "assignment", _l("교육후견인 우려 보고 (%(day)s 활동)", day=day), actor=actor,
              link=concern_link(concern))
    record("concern_raised", obj=concern, subject=case.student, actor=actor, details={"activity": log.uid})
    signals.concern_raised.send(concern, actor=actor, case=case)
    return concern


def can_view_concern(user, concern: GuardianConcern) -> bool:
    """School team of the case's school or a coordinator of its office (app.permissions)."""
    return permissions.can_view_concern(user, concern)


def concerns_for_case(case: SupportCase) -> list[GuardianConcern]:
    """The case's concerns, open ones first, then newest first (guardian and activity loaded)."""
    return list(db.session.execute(
        select(GuardianConcern).where(GuardianConcern.case_id == case.id)
        .options(joinedload(GuardianConcern.guardian), joinedload(GuardianConcern.activity))
        .order_by((GuardianConcern.status == "open").desc(), GuardianConcern.raised_at.desc(),
                  GuardianConcern.id.desc())).scalars())


def acknowledge_concern(concern: GuardianConcern, actor, *, response: str, goal: str = "", action: str = "",
                        note: str = "", note_kind: str = "counselling") -> GuardianConcern:
    """Record the response taken (and optionally a new plan action and/or a case note) in one go."""
    from ..cases.plan import add_plan_action  # cases owns the plan and notes; called, never copied
    from ..cases.notes import add_note
    if not can_view_concern(actor, concern):
        raise NotPermitted(_("이 우려 보고를 확인할 권한이 없습니다."))
    if concern.status != "open":
        raise DomainError(_("이미 확인된 우려 보고입니다."), "response")
    response = (response or "").strip()
    if not response:
        raise DomainError(_("취한 조치를 적어 주세요."), "response")
    if len(response) > TEXT_MAX:
        raise DomainError(_("조치 내용은 %(n)d자 이내로 적어 주세요.", n=TEXT_MAX), "response")
    case = concern.case
    goal, action, note = (goal or "").strip(), (action or "").strip(), (note or "").strip()
    school_side = permissions.can_edit_case(actor, case)
    if (goal or action or note) and not school_side:
        raise DomainError(_("지원 계획과 사례 기록은 학교 지원팀만 추가할 수 있습니다."),
                          "goal" if goal or action else "note")
    if bool(goal) != bool(action):
        raise DomainError(_("새 지원 계획에는 목표와 실행 내용을 모두 적어 주세요."), "goal" if not goal else "action")
    if note and note_kind not in NOTE_KINDS:
        raise DomainError(_("기록 종류를 선택해 주세요."), "note_kind")
    concern.status, concern.acknowledged_at, concern.acknowledged_by_id = "acknowledged", utcnow(), actor.id
    concern.response = response
    plan_item = add_plan_action(case, actor, goal=goal, action=action, owner_id=actor.id) if goal else None
    case_note = add_note(case, actor, kind=note_kind, body=note) if note else None
    raised = kst(concern.raised_at).date()
    add_event(case, "assignment", _l("교육후견인 우려 확인 (%(day)s 보고) — 조치 기록", day=raised), actor=actor,
              link=concern_link(concern))
    record("concern_acknowledged", obj=concern, subject=case.student, actor=actor,
           details={"plan_action": getattr(plan_item, "uid", None), "note": getattr(case_note, "uid", None)})
    signals.concern_acknowledged.send(concern, actor=actor, case=case)
    guardian = concern.guardian
    if guardian.user_id:  # news for the guardian: that it was seen, never what was done
        notify(guardian.user_id, "concern_acknowledged",
               _l("%(day)s에 보고하신 %(name)s 학생에 대한 우려를 학교·교육지원청에서 확인했습니다.", day=raised,
                  name=case.student.given_name),
               link=f"/guardians/me/{concern.assignment.uid}", guardian_id=guardian.id, student_id=case.student_id)
    return concern


# -- escalation -------------------------------------------------------------------------------

def answer_due(concern: GuardianConcern) -> dt.datetime:
    """When an open concern becomes overdue (naive Seoul time): one Korean business day after it
    was raised, at the same time of day."""
    raised = kst(concern.raised_at)
    return dt.datetime.combine(add_business_days(raised.date(), 1), raised.time())


def overdue_concerns(now: dt.datetime | None = None) -> list[int]:
    """Ids of open, not yet escalated concerns unanswered for more than one business day."""
    now_kst = kst(now or utcnow())
    # at least a calendar day old in SQL; the business-day rule per row (holidays are Python)
    rows = db.session.execute(select(GuardianConcern).where(
        GuardianConcern.status == "open", GuardianConcern.escalated_at.is_(None),
        GuardianConcern.raised_at <= (now or utcnow()) - dt.timedelta(days=1))
        .order_by(GuardianConcern.raised_at, GuardianConcern.id)).scalars()
    return [c.id for c in rows if now_kst > answer_due(c)]


def escalate_concern(concern: GuardianConcern) -> int:
    """Alert every coordinator of the office and the school lead(s); once (``escalated_at``)."""
    if concern.status != "open" or concern.escalated_at is not None:
        return 0
    case = concern.case
    raised = kst(concern.raised_at).date()
    text = _l("우려 보고 미확인 (1영업일 경과): %(student)s (%(school)s) — %(day)s 보고", student=case.student.name,
              school=case.school.name, day=raised)
    users = {u.id: u for u in office_coordinators(case.school.office_code) + school_leads(case.school_id)}
    sent = sum(1 for user_id in users if notify(
        user_id, "concern_overdue", text, link=concern_link(concern), case_id=case.id,
        guardian_id=concern.guardian_id, about=object_key("concern", concern),
        dedupe_key=f"concern-overdue:{concern.id}:{user_id}") is not None)
    concern.escalated_at = utcnow()
    add_event(case, "assignment", _l("교육후견인 우려 보고 미확인 (%(day)s 보고) — 교육지원청 담당자 전원에게 알림",
                                     day=raised))
    record("concern_escalated", obj=concern, subject=case.student, actor=None, details={"notified": sent})
    return sent
