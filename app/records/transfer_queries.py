"""Reads for transfers: the destination search, one case's transfers, the list page, the home
panels and the daily command.  Every list starts from ``permissions.transfer_scope``."""
from __future__ import annotations

import datetime as dt

from sqlalchemy import exists, func, select
from sqlalchemy.orm import joinedload, selectinload

from ..auth.models import Organisation, User
from ..cases.models import SupportCase
from ..db import today_kst
from ..extensions import db
from ..permissions import DISTRICT_COORDINATOR, SCHOOL_LEAD, has_role, transfer_scope
from .transfer_models import CaseTransfer

#: destinations shown at once: a name search narrows Seoul's ~1,400 schools to a short list
DESTINATION_LIMIT = 30
#: a school's name is at most this long; a longer search is cut here
QUERY_MAX = 100
#: transfers on a home panel (the rest are on the list page)
HOME_LIMIT = 5


def _has_active_lead():
    return exists().where(User.organisation_id == Organisation.id, User.role == SCHOOL_LEAD,
                          User.active.is_(True))


def destination_condition(exclude_id: int | None = None):
    """A school that can receive a transfer: an active school with at least one active lead
    (someone must answer it), other than ``exclude_id`` (the own school)."""
    condition = (Organisation.kind == "school") & Organisation.active.is_(True) & _has_active_lead()
    if exclude_id is not None:
        condition = condition & (Organisation.id != exclude_id)
    return condition


def destination_schools(query: str, exclude_id: int | None, limit: int = DESTINATION_LIMIT) -> list[Organisation]:
    """Schools whose name contains ``query`` (at least one character), by name, at most ``limit``."""
    words = (query or "").strip()[:QUERY_MAX]
    if not words:
        return []
    pattern = "%" + words.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
    return list(db.session.execute(
        select(Organisation).where(destination_condition(exclude_id), Organisation.name.like(pattern, escape="\\"))
        .options(joinedload(Organisation.gu)).order_by(Organisation.name, Organisation.id).limit(limit)).scalars())


def is_destination(school: Organisation | None, exclude_id: int | None) -> bool:
    """The same rule as the search, for the one school a form posted."""
    if school is None:
        return False
    return db.session.execute(select(Organisation.id).where(
        Organisation.id == school.id, destination_condition(exclude_id))).first() is not None


def open_transfer_for(case: SupportCase) -> CaseTransfer | None:
    """The case's transfer still waiting for the new school, if any (at most one)."""
    return db.session.execute(select(CaseTransfer).where(CaseTransfer.case_id == case.id, CaseTransfer.status == "sent")
                              .order_by(CaseTransfer.id.desc())).scalars().first()


def transfers_for_case(case: SupportCase) -> list[CaseTransfer]:
    """Every transfer of the case, newest first, schools loaded."""
    return list(db.session.execute(select(CaseTransfer).where(CaseTransfer.case_id == case.id)
                                   .options(joinedload(CaseTransfer.to_school), joinedload(CaseTransfer.from_school))
                                   .order_by(CaseTransfer.sent_at.desc(), CaseTransfer.id.desc())).scalars())


#: the list page's tabs
VIEWS = ("incoming", "outgoing", "overdue", "all")


def _loaded(query):
    return query.options(joinedload(CaseTransfer.from_school), joinedload(CaseTransfer.to_school),
                         selectinload(CaseTransfer.student))


def transfers_query(user, view: str = "incoming", day: dt.date | None = None):
    """The list page's Select (for db.paginate): within the user's scope, by tab.  A coordinator's
    "incoming" and "outgoing" are the office's schools' (to and from them)."""
    day = day or today_kst()
    query = select(CaseTransfer).where(transfer_scope(user))
    org = user.organisation
    if has_role(user, SCHOOL_LEAD):
        incoming, outgoing = CaseTransfer.to_school_id == org.id, CaseTransfer.from_school_id == org.id
    else:
        schools = select(Organisation.id).where(Organisation.kind == "school",
                                                Organisation.office_code == org.office_code)
        incoming, outgoing = CaseTransfer.to_school_id.in_(schools), CaseTransfer.from_school_id.in_(schools)
    if view == "incoming":
        query = query.where(incoming)
    elif view == "outgoing":
        query = query.where(outgoing)
    elif view == "overdue":
        query = query.where(CaseTransfer.status == "sent", CaseTransfer.due_on < day)
    order = [(CaseTransfer.status != "sent"), CaseTransfer.due_on, CaseTransfer.id.desc()]
    return _loaded(query).order_by(*order)


def home_transfers(user, day: dt.date | None = None) -> dict:
    """A lead's open incoming and outgoing transfers; a coordinator's overdue ones (both offices)."""
    day = day or today_kst()
    if has_role(user, SCHOOL_LEAD):
        base = _loaded(select(CaseTransfer).where(CaseTransfer.status == "sent")).order_by(CaseTransfer.due_on,
                                                                                           CaseTransfer.id)
        return {"incoming": list(db.session.execute(base.where(CaseTransfer.to_school_id == user.organisation_id)
                                                    .limit(HOME_LIMIT)).scalars()),
                "outgoing": list(db.session.execute(base.where(CaseTransfer.from_school_id == user.organisation_id)
                                                    .limit(HOME_LIMIT)).scalars())}
    if has_role(user, DISTRICT_COORDINATOR):
        query = _loaded(select(CaseTransfer).where(transfer_scope(user), CaseTransfer.status == "sent",
                                                   CaseTransfer.due_on < day)).order_by(CaseTransfer.due_on,
                                                                                         CaseTransfer.id)
        return {"overdue": list(db.session.execute(query.limit(HOME_LIMIT)).scalars())}
    return {}


def overdue_transfer_ids(day: dt.date) -> list[int]:
    """Open transfers past their answer day not yet alerted (the daily command's work)."""
    return list(db.session.execute(select(CaseTransfer.id).where(
        CaseTransfer.status == "sent", CaseTransfer.due_on < day, CaseTransfer.overdue_alerted_on.is_(None))
        .order_by(CaseTransfer.due_on, CaseTransfer.id)).scalars())


def count_open(case_id: int) -> int:
    return db.session.execute(select(func.count(CaseTransfer.id)).where(
        CaseTransfer.case_id == case_id, CaseTransfer.status == "sent")).scalar_one()


def already_registered(transfer: CaseTransfer) -> bool:
    """The new school already has a student with the same name and birth date (blind index): a
    new school often registers the student on enrolment, before the case arrives; accepting
    then leaves two records the lead should merge or tidy (shown as a warning, not refused)."""
    from ..students.models import Student
    key = transfer.student.name_birth_bidx
    if not key:
        return False
    return db.session.execute(select(Student.id).where(
        Student.school_id == transfer.to_school_id, Student.name_birth_bidx == key,
        Student.id != transfer.student_id).limit(1)).first() is not None
