"""Who is told: the people an assignment, a concern or a guardian's status change must reach."""
from __future__ import annotations

from sqlalchemy import or_, select

from ..auth.models import Organisation, User
from ..extensions import db
from ..permissions import DISTRICT_COORDINATOR, SCHOOL_LEAD, SCHOOL_ROLES


def office_coordinators(office_code: str) -> list[User]:
    """The active coordinators of one district office."""
    return list(db.session.execute(select(User).join(Organisation, User.organisation_id == Organisation.id).where(
        User.role == DISTRICT_COORDINATOR, User.active.is_(True), Organisation.kind == "district_office",
        Organisation.office_code == office_code).order_by(User.id)).scalars())


def school_team(school_id: int, roles: tuple[str, ...] = SCHOOL_ROLES) -> list[User]:
    """The active school team (or only its leads) of one school."""
    return list(db.session.execute(select(User).where(
        User.organisation_id == school_id, User.role.in_(roles), User.active.is_(True))
        .order_by(User.id)).scalars())


def school_leads(school_id: int) -> list[User]:
    """The active school leads (교감) of one school."""
    return school_team(school_id, (SCHOOL_LEAD,))


def case_team(case) -> list[User]:
    """The school team of the case's school and the coordinators of its district office (one query)."""
    office_ids = select(Organisation.id).where(Organisation.kind == "district_office",
                                               Organisation.office_code == case.school.office_code)
    return list(db.session.execute(
        select(User).where(User.active.is_(True), or_(
            (User.role.in_(SCHOOL_ROLES)) & (User.organisation_id == case.school_id),
            (User.role == DISTRICT_COORDINATOR) & (User.organisation_id.in_(office_ids))))
        .order_by(User.id)).scalars())
