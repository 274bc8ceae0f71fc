"""Read-only figures and lists the home pages show (wired in by app/home); constant query count."""
from __future__ import annotations

import datetime as dt

from sqlalchemy import and_, func, select
from sqlalchemy.orm import aliased, joinedload

from ..cases.models import SupportCase
from ..db import today_kst
from ..extensions import db
from ..permissions import DISTRICT_COORDINATOR, SCHOOL_ROLES, case_scope, has_role
from .models import Guardian, GuardianConcern, RecordCheck

#: checks ending within this many days count as "expiring" on the coordinator's home
EXPIRING_DAYS = 30
VETTING = ("applicant", "screening", "trained")


def open_concerns(user, limit: int = 5) -> list[GuardianConcern]:
    """Open concerns the user may read (school team of the school, coordinator of the office),
    oldest first, with case, student and school loaded (one query)."""
    if not has_role(user, *SCHOOL_ROLES, DISTRICT_COORDINATOR):
        return []
    return list(db.session.execute(
        select(GuardianConcern).join(SupportCase, SupportCase.id == GuardianConcern.case_id)
        .where(GuardianConcern.status == "open", case_scope(user))
        .options(joinedload(GuardianConcern.case).joinedload(SupportCase.student),
                 joinedload(GuardianConcern.case).joinedload(SupportCase.school))
        .order_by(GuardianConcern.raised_at, GuardianConcern.id).limit(limit)).unique().scalars())


def guardian_figures(user, today: dt.date | None = None) -> dict[str, int]:
    """The coordinator's office: guardians active, in vetting, and with a clear check (not yet
    renewed) ending within 30 days — each guardian counted once.  Zeros for anyone else."""
    office = user.organisation.office_code if (has_role(user, DISTRICT_COORDINATOR) and user.organisation) else None
    if not office:
        return {"active": 0, "vetting": 0, "expiring": 0}
    today = today or today_kst()
    in_office = Guardian.office_code == office
    active = func.count().filter(Guardian.status == "active")
    vetting = func.count().filter(Guardian.status.in_(VETTING))
    counts = db.session.execute(select(active, vetting).select_from(Guardian).where(in_office)).one()
    later = aliased(RecordCheck)
    renewed = select(later.id).where(later.guardian_id == RecordCheck.guardian_id, later.kind == RecordCheck.kind,
                                     later.result == "clear", later.valid_until > RecordCheck.valid_until).exists()
    expiring = db.session.execute(
        select(func.count(func.distinct(RecordCheck.guardian_id))).select_from(RecordCheck)
        .join(Guardian, Guardian.id == RecordCheck.guardian_id)
        .where(in_office, Guardian.status != "retired", RecordCheck.result == "clear",
               and_(RecordCheck.valid_until >= today,
                    RecordCheck.valid_until <= today + dt.timedelta(days=EXPIRING_DAYS)),
               ~renewed)).scalar_one()
    return {"active": int(counts[0] or 0), "vetting": int(counts[1] or 0), "expiring": int(expiring or 0)}
