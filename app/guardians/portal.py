"""What a guardian sees: their own proposed and active assignments, minimal fields only, audited."""
from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import joinedload

from ..audit.services import record
from ..cases.models import PlanAction, SupportCase
from ..extensions import db
from ..permissions import guardian_for_user
from .eligibility import missing_requirements
from .models import SUSPEND_REASONS, Assignment, Guardian

#: what the portal lists; suspended ones are only counted, with their reason
SHOWN = ("proposed", "active")


@dataclass
class GuardianProjection:
    """A student as a guardian may see them, on the portal and the conference page alike: the given
    name, school and grade, and the plan goals shared with guardians (never the full name, class and
    number, contacts or the school's notes)."""

    given_name: str
    school_name: str
    grade: int | None
    goals: list[str]


def guardian_projection(case: SupportCase, goals: list[str] | None = None) -> GuardianProjection:
    """The guardian's projection of ``case``'s student (``goals`` when the caller already read them)."""
    goals = shared_goals([case.id]).get(case.id, []) if goals is None else goals
    return GuardianProjection(given_name=case.student.given_name, school_name=case.school.name,
                              grade=case.student.grade, goals=list(goals))


@dataclass
class AssignmentCard:
    """The few fields a guardian may see about their student (never the full name or contacts)."""

    assignment: Assignment
    given_name: str
    school_name: str
    grade: int | None
    goals: list[str]
    next_meeting_on: object

    @property
    def uid(self) -> str:
        return self.assignment.uid

    @property
    def status(self) -> str:
        return self.assignment.status


@dataclass
class Portal:
    """The guardian's page: cards when they may serve, otherwise only why they are paused."""

    guardian: Guardian | None
    cards: list[AssignmentCard] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    suspended: list[str] = field(default_factory=list)

    @property
    def paused(self) -> bool:
        return bool(self.missing)


def shared_goals(case_ids: list[int]) -> dict[int, list[str]]:
    """Goal text of the plan actions shared with guardians, per case (one query)."""
    goals: dict[int, list[str]] = {}
    if case_ids:
        actions = db.session.execute(
            select(PlanAction).where(PlanAction.case_id.in_(case_ids), PlanAction.shared_with_guardian.is_(True),
                                     PlanAction.status != "cancelled").order_by(PlanAction.id)).scalars()
        for action in actions:
            goals.setdefault(action.case_id, []).append(action.goal)
    return goals


def card_for(assignment: Assignment, goals: list[str]) -> AssignmentCard:
    """The portal card: the guardian projection of the case plus the assignment's next meeting."""
    seen = guardian_projection(assignment.case, goals)
    return AssignmentCard(assignment=assignment, given_name=seen.given_name, school_name=seen.school_name,
                          grade=seen.grade, goals=seen.goals, next_meeting_on=assignment.next_meeting_on)


def portal_for(user, audit: bool = True) -> Portal:
    """The portal of ``user``; each student shown is one ``guardian_assignment_viewed`` event."""
    guardian = guardian_for_user(user)
    if guardian is None:
        return Portal(guardian=None)
    portal = Portal(guardian=guardian, missing=missing_requirements(guardian))
    assignments = list(db.session.execute(
        select(Assignment).where(Assignment.guardian_id == guardian.id,
                                 Assignment.status.in_((*SHOWN, "suspended")))
        .options(joinedload(Assignment.case).joinedload(SupportCase.student),
                 joinedload(Assignment.case).joinedload(SupportCase.school))
        .order_by(Assignment.created_at.desc(), Assignment.id.desc())).scalars())
    portal.suspended = [SUSPEND_REASONS.get(a.suspended_reason or "other", SUSPEND_REASONS["other"])
                        for a in assignments if a.status == "suspended"]
    if portal.paused:  # no student data at all while the guardian may not serve
        return portal
    shown = [a for a in assignments if a.status in SHOWN]
    goals = shared_goals([a.case_id for a in shown])
    portal.cards = [card_for(a, goals.get(a.case_id, [])) for a in shown]
    if audit:
        for card in portal.cards:
            record("guardian_assignment_viewed", obj=card.assignment, subject=card.assignment.case.student)
    return portal
