"""The conference reads of the home pages and the my-work page: my open action items and the
case reviews coming up, each started from the user's own scope (their items, their school's or
office's cases) and read with the student and school each line shows, in a constant number of
queries."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import and_, case as sql_case, exists, false, func, select, union_all
from sqlalchemy.orm import aliased, joinedload

from ..agencies.models import Referral
from ..agencies.referral_queries import agency_projections
from ..cases.models import SupportCase
from ..extensions import db
from ..guardians.portal import guardian_projection
from ..students.models import Student
from ..permissions import AGENCY_COORDINATOR, DISTRICT_COORDINATOR, GUARDIAN, SCHOOL_ROLES, case_scope
from .common import FINISHED_CASES
from .models import ACTION_ITEM_STATUSES, ActionItem, CaseReview, Conference, ConferenceCase


@dataclass
class MyItem:
    """An action item on a home page, with its conference and case."""

    item: ActionItem
    conference: Conference
    case: SupportCase
    overdue: bool
    #: the student as this reader may see them (None: an agency the referral shares no name with)
    student: str | None = None


#: reviews this many days ahead (and every past one) count as coming up
REVIEW_WINDOW_DAYS = 14
#: an open item, written as "none of the finished statuses": the same rows (the statuses are a
#: closed list), but a condition no plan can start from, so each owner's own index leads even
#: where SQLite has no statistics (an equality on status would walk every open item in the city)
OPEN_ITEM = ActionItem.status.not_in(tuple(s for s in ACTION_ITEM_STATUSES if s != "open"))


def _owned_item_ids(user):
    """Ids of the open action items ``user`` owns: their own, their school team's, their
    agency's — one index-friendly select per kind of owner, never a scan of every open item."""
    parts = [select(ActionItem.id).where(ActionItem.owner_user_id == user.id, OPEN_ITEM)]
    if user.role in SCHOOL_ROLES and user.organisation_id:
        parts.append(select(ActionItem.id).join(SupportCase, ActionItem.case_id == SupportCase.id).where(
            SupportCase.school_id == user.organisation_id, ActionItem.owner_kind == "school_team", OPEN_ITEM))
    if user.role == AGENCY_COORDINATOR and user.organisation_id:
        parts.append(select(ActionItem.id).where(ActionItem.owner_agency_id == user.organisation_id,
                                                 ActionItem.owner_kind == "agency", OPEN_ITEM))
    return parts[0] if len(parts) == 1 else union_all(*parts)


def _my_items_query(user, day: dt.date):
    overdue = and_(ActionItem.due_on.is_not(None), ActionItem.due_on < day)
    return (select(ActionItem, Conference, SupportCase)
            .join(Conference, ActionItem.conference_id == Conference.id)
            .join(SupportCase, ActionItem.case_id == SupportCase.id)
            .where(ActionItem.id.in_(_owned_item_ids(user)), SupportCase.status.not_in(FINISHED_CASES))
            .order_by(sql_case((overdue, 0), else_=1), ActionItem.due_on.is_(None), ActionItem.due_on, ActionItem.id))


def my_action_items(user, day: dt.date, limit: int = 50, offset: int = 0) -> list[MyItem]:
    """Open items the user owns (or their school team or agency owns), overdue first."""
    if not (user and user.is_authenticated):
        return []
    rows = db.session.execute(_my_items_query(user, day)
                              .options(joinedload(SupportCase.student), joinedload(SupportCase.school))
                              .limit(limit).offset(offset)).all()
    names = student_labels(user, [case for _item, _conf, case in rows])
    return [MyItem(item, conf, case, item.due_on is not None and item.due_on < day, names.get(case.id))
            for item, conf, case in rows]


def count_action_items(user, day: dt.date) -> int:
    """How many lines ``my_action_items`` has in all (the my-work page's pages)."""
    if not (user and user.is_authenticated):
        return 0
    return db.session.execute(select(func.count()).select_from(
        _my_items_query(user, day).order_by(None).with_only_columns(ActionItem.id).subquery())).scalar_one()


def student_labels(user, cases) -> dict[int, str | None]:
    """{case id: the student as ``user`` may name them}: the full name for the school team and
    coordinators, the given name for a guardian, for an agency the name only where one of its
    referrals shares it (else None).  Callers load the cases with their student and school."""
    cases = list({c.id: c for c in cases}.values())
    if not cases or not (user and user.is_authenticated):
        return {}
    if user.role in SCHOOL_ROLES or user.role == DISTRICT_COORDINATOR:
        return {c.id: c.student.name for c in cases}
    if user.role == GUARDIAN:  # the portal's projection (its goals are not needed here)
        return {c.id: guardian_projection(c, goals=[]).given_name for c in cases}
    named: dict[int, str] = {}
    if user.role == AGENCY_COORDINATOR and user.organisation_id:
        # the inbox's projection: the name only while a referral shares it and may still be read
        referrals = [r for r in db.session.execute(select(Referral).where(
            Referral.agency_id == user.organisation_id, Referral.case_id.in_([c.id for c in cases]))
            .order_by(Referral.id)).scalars() if "student_name" in (r.shared_items or ())]
        for referral, seen in zip(referrals, agency_projections(referrals)):
            name = seen.shared.get("student_name")
            if name:
                named[referral.case_id] = name
    return {c.id: named.get(c.id) for c in cases}


def current_reviews():
    """SQL condition on ConferenceCase: the latest held decision of its case (later ones supersede)."""
    later, later_conf = aliased(ConferenceCase), aliased(Conference)
    superseded = exists().where(later.case_id == ConferenceCase.case_id, later.conference_id == later_conf.id,
                                later_conf.status == "held", later_conf.starts_at > Conference.starts_at)
    return and_(Conference.status == "held", ConferenceCase.next_review_on.is_not(None), ~superseded,
                SupportCase.status.not_in(FINISHED_CASES))


def _review_lead(user):
    """The index the upcoming reviews are read from: the user's school or office (the permission
    itself is case_scope, applied as well; this only lets one index range lead the plan)."""
    if user.role in SCHOOL_ROLES:
        return CaseReview.school_id == user.organisation_id
    if user.role == DISTRICT_COORDINATOR and user.organisation is not None:
        return CaseReview.office_code == user.organisation.office_code
    return false()


@dataclass(frozen=True)
class UpcomingReview:
    """A case review on a home page: the case's link, the student's name, the review date."""

    case_id: int
    case_uid: str
    student_name: str
    review_on: dt.date


def _reviews_query(user, day: dt.date, within: int, *columns):
    """The reviews coming up as ``columns`` (the count needs no student: every case has one)."""
    return (select(*columns).select_from(CaseReview)
            .join(SupportCase, SupportCase.id == CaseReview.case_id)
            .where(_review_lead(user), CaseReview.review_on <= day + dt.timedelta(days=within), case_scope(user),
                   SupportCase.status.not_in(FINISHED_CASES)))


def my_upcoming_reviews(user, day: dt.date, within: int = REVIEW_WINDOW_DAYS, limit: int = 50,
                        offset: int = 0) -> list[UpcomingReview]:
    """The reviews due by ``day + within`` (past ones included) on open cases the user may see,
    soonest first.

    Read from case_review, each case's current review kept by school and office (reviews.py):
    one index range in date order, stopped at ``limit`` — never the review dates of every case
    of the office (that probing cost a district home ~20 ms at Seoul scale).  Plain rows of the
    four values a line shows: loading 50 cases, conferences and students as partial objects
    cost ~7 ms of a district home at Seoul scale (the SQL, under 1 ms)."""
    if not (user and user.is_authenticated and user.organisation_id):
        return []
    rows = db.session.execute(
        _reviews_query(user, day, within, SupportCase.id, SupportCase.uid, Student.uid, Student.name_enc,
                       CaseReview.review_on).join(Student, Student.id == SupportCase.student_id)
        .order_by(CaseReview.review_on, CaseReview.case_id).limit(limit).offset(offset)).all()
    return [UpcomingReview(case_id, case_uid, Student.name.read(Student, student_uid, name_enc), review_on)
            for case_id, case_uid, student_uid, name_enc, review_on in rows]


def count_upcoming_reviews(user, day: dt.date, within: int = REVIEW_WINDOW_DAYS) -> int:
    """How many lines ``my_upcoming_reviews`` has in all (the my-work page's pages)."""
    if not (user and user.is_authenticated and user.organisation_id):
        return 0
    return db.session.execute(_reviews_query(user, day, within, func.count())).scalar_one()
