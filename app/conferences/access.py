"""Who may see, organise and record a conference, which of its cases each viewer may see, and
the home-page reads (my action items, upcoming reviews)."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import and_, case as sql_case, exists, false, or_, select
from sqlalchemy.orm import aliased, joinedload

from ..agencies.models import Referral
from ..agencies.referral_queries import UNNAMED_STUDENT, AgencyProjection, agency_projection
from ..auth.models import Organisation, User
from ..cases.consent import consent_covers
from ..cases.models import SupportCase
from ..extensions import db
from ..guardians.models import Assignment, Guardian
from ..guardians.portal import GuardianProjection, guardian_projection
from ..permissions import AGENCY_COORDINATOR, DISTRICT_COORDINATOR, GUARDIAN, SCHOOL_ROLES, case_scope
from .models import ActionItem, Conference, ConferenceCase, ConferenceParticipant

#: referral statuses that make an agency a party to the case
TAKEN_ON = ("accepted", "in_service")
SCHOOL_KINDS = ("school_meeting", "living_area")
WITHHELD_MESSAGE = "동의가 없어 학교 지원팀만 논의할 수 있습니다."
#: case statuses whose action items and reviews no longer belong on anyone's lists
FINISHED_CASES = ("closed", "not_selected", "withdrawn")


@dataclass
class CaseView:
    """One case of a conference as a viewer may see it."""

    conference_case: ConferenceCase
    case: SupportCase
    #: entitled, but the viewer is outside the school and consent does not cover conference sharing
    withheld: bool
    #: consent covers conference sharing (else only the school team may discuss it)
    sharing_allowed: bool
    #: what a guardian or agency participant may see of the student (their portal's or inbox's
    #: projection); None for the school team and coordinators, who see the case in full
    projection: GuardianProjection | AgencyProjection | None = None

    @property
    def audience(self) -> str:
        """"full", "guardian" or "agency": which view of the case the templates render."""
        if self.projection is None:
            return "full"
        return "guardian" if isinstance(self.projection, GuardianProjection) else "agency"


@dataclass
class MyItem:
    """An action item on a home page, with its conference and case."""

    item: ActionItem
    conference: Conference
    case: SupportCase
    overdue: bool
    #: the student as this reader may see them (None: an agency the referral shares no name with)
    student: str | None = None


def _office(user) -> str | None:
    return user.organisation.office_code if user is not None and user.organisation is not None else None


def is_organiser_side(user, conference: Conference) -> bool:
    """The school team of the organiser school, or a coordinator of the office for district ones."""
    if not (user and user.is_authenticated):
        return False
    if conference.kind in SCHOOL_KINDS:
        return user.role in SCHOOL_ROLES and user.organisation_id == conference.organiser_id
    return user.role == DISTRICT_COORDINATOR and _office(user) == conference.office_code


def is_participant(user, conference: Conference) -> bool:
    """The user is on the conference's participant list."""
    return bool(user and user.is_authenticated and any(p.user_id == user.id for p in conference.participants))


def can_view_conference(user, conference: Conference) -> bool:
    """The organiser side or a participant."""
    return conference is not None and (is_organiser_side(user, conference) or is_participant(user, conference))


def can_record_conference(user, conference: Conference) -> bool:
    """The organiser side, while the conference is still scheduled (recording opens at its start)."""
    return conference is not None and conference.status == "scheduled" and is_organiser_side(user, conference)


def can_amend_conference(user, conference: Conference) -> bool:
    """The organiser side, once the meeting has been recorded."""
    return conference is not None and conference.status == "held" and is_organiser_side(user, conference)


def conference_scope(user):
    """SQL condition on Conference for the conferences ``user`` may see."""
    if not (user and user.is_authenticated):
        return false()
    mine = Conference.id.in_(select(ConferenceParticipant.conference_id).where(ConferenceParticipant.user_id == user.id))
    if user.role in SCHOOL_ROLES:
        return or_(mine, and_(Conference.kind.in_(SCHOOL_KINDS), Conference.organiser_id == user.organisation_id))
    if user.role == DISTRICT_COORDINATOR and _office(user):
        return or_(mine, and_(Conference.kind == "district", Conference.office_code == _office(user)))
    return mine


def conferences_visible_to(user):
    """The scope query every conference list starts from (soonest first)."""
    return select(Conference).where(conference_scope(user)).order_by(Conference.starts_at.desc(), Conference.id.desc())


def guardian_case_ids(user, case_ids) -> set[int]:
    """Cases (of ``case_ids``) where the guardian-user has an active assignment."""
    return set(db.session.execute(select(Assignment.case_id).join(Guardian, Assignment.guardian_id == Guardian.id)
                                  .where(Guardian.user_id == user.id, Assignment.status == "active",
                                         Assignment.case_id.in_(list(case_ids)))).scalars())


def agency_case_ids(agency_id: int, case_ids) -> set[int]:
    """Cases (of ``case_ids``) the agency has taken on (accepted or in service)."""
    return set(db.session.execute(select(Referral.case_id).where(
        Referral.agency_id == agency_id, Referral.status.in_(TAKEN_ON), Referral.case_id.in_(list(case_ids)))).scalars())


def entitled_case_ids(user, cases) -> set[int]:
    """The cases (of ``cases``) this user is entitled to by role, before consent."""
    if not (user and user.is_authenticated and user.active):
        return set()
    ids = [c.id for c in cases]
    if user.role in SCHOOL_ROLES:
        return {c.id for c in cases if c.school_id == user.organisation_id}
    if user.role == DISTRICT_COORDINATOR:
        return {c.id for c in cases if c.school.office_code == _office(user)}
    if user.role == GUARDIAN:
        return guardian_case_ids(user, ids)
    if user.role == AGENCY_COORDINATOR and user.organisation_id:
        return agency_case_ids(user.organisation_id, ids)
    return set()


def visible_cases(user, conference: Conference) -> list[CaseView]:
    """The conference's cases this viewer may see; outside the case's school, a case without
    conference-sharing consent is marked withheld."""
    items = list(conference.cases)
    if is_organiser_side(user, conference):
        entitled = {cc.case_id for cc in items}
    elif is_participant(user, conference):
        entitled = entitled_case_ids(user, [cc.case for cc in items])
    else:
        return []
    views = []
    for cc in items:
        if cc.case_id not in entitled:
            continue
        allowed = consent_covers(cc.case, "conference_sharing")
        inside = user.role in SCHOOL_ROLES and user.organisation_id == cc.case.school_id
        withheld = not (inside or allowed)
        views.append(CaseView(cc, cc.case, withheld=withheld, sharing_allowed=allowed,
                              projection=None if withheld else projection_for(user, cc.case)))
    return views


def projection_for(user, case: SupportCase) -> GuardianProjection | AgencyProjection | None:
    """What ``user`` may see of ``case``'s student on a conference page: a guardian what the
    guardian portal shows, an agency what its referral shared; None (everything) for the school
    team and coordinators."""
    if user.role == GUARDIAN:
        return guardian_projection(case)
    if user.role == AGENCY_COORDINATOR:
        referral = db.session.execute(select(Referral).where(
            Referral.agency_id == user.organisation_id, Referral.case_id == case.id, Referral.status.in_(TAKEN_ON))
            .order_by(Referral.sent_at.desc(), Referral.id.desc())).scalars().first()
        # entitlement needs a taken-on referral; without one, fail closed: the label only
        return agency_projection(referral) if referral is not None else AgencyProjection(None, UNNAMED_STUDENT)
    return None


def my_action_items(user, day: dt.date, limit: int = 50) -> list[MyItem]:
    """Open items the user owns (or their school team or agency owns), overdue first."""
    if not (user and user.is_authenticated):
        return []
    owned = [ActionItem.owner_user_id == user.id]
    if user.role in SCHOOL_ROLES:
        owned.append(and_(ActionItem.owner_kind == "school_team", SupportCase.school_id == user.organisation_id))
    if user.role == AGENCY_COORDINATOR and user.organisation_id:
        owned.append(and_(ActionItem.owner_kind == "agency", ActionItem.owner_agency_id == user.organisation_id))
    overdue = and_(ActionItem.due_on.is_not(None), ActionItem.due_on < day)
    rows = db.session.execute(
        select(ActionItem, Conference, SupportCase)
        .join(Conference, ActionItem.conference_id == Conference.id)
        .join(SupportCase, ActionItem.case_id == SupportCase.id)
        .where(ActionItem.status == "open", SupportCase.status.not_in(FINISHED_CASES), or_(*owned))
        .options(joinedload(SupportCase.student))
        .order_by(sql_case((overdue, 0), else_=1), ActionItem.due_on.is_(None), ActionItem.due_on, ActionItem.id)
        .limit(limit)).all()
    names = student_labels(user, [case for _item, _conf, case in rows])
    return [MyItem(item, conf, case, item.due_on is not None and item.due_on < day, names.get(case.id))
            for item, conf, case in rows]


def student_labels(user, cases) -> dict[int, str | None]:
    """{case id: the student as ``user`` may name them}: the full name for the school team and
    coordinators, the given name for a guardian, for an agency the name only where one of its
    referrals shares it (else None)."""
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
        for referral in db.session.execute(select(Referral).where(
                Referral.agency_id == user.organisation_id, Referral.case_id.in_([c.id for c in cases]))
                .order_by(Referral.id)).scalars():
            name = agency_projection(referral).shared.get("student_name")
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


def my_upcoming_reviews(user, day: dt.date, within: int = 14, limit: int = 50) -> list[tuple]:
    """(ConferenceCase, Conference, SupportCase) rows with a review due by ``day + within`` (past
    ones included) on cases the user may see, soonest first."""
    return list(db.session.execute(
        select(ConferenceCase, Conference, SupportCase)
        .join(Conference, ConferenceCase.conference_id == Conference.id)
        .join(SupportCase, ConferenceCase.case_id == SupportCase.id)
        .where(case_scope(user), current_reviews(), ConferenceCase.next_review_on <= day + dt.timedelta(days=within))
        .order_by(ConferenceCase.next_review_on, ConferenceCase.id).limit(limit)).all())


def eligible_users(office_code: str, cases) -> list[User]:
    """Users who may be invited to a conference about ``cases``: the cases' school teams, the
    office's coordinators, guardians active on the cases, coordinators of agencies that took one on."""
    ids = [c.id for c in cases]
    school_ids = list({c.school_id for c in cases})
    guardians = select(Guardian.user_id).join(Assignment, Assignment.guardian_id == Guardian.id).where(
        Assignment.case_id.in_(ids), Assignment.status == "active")
    agencies = select(Referral.agency_id).where(Referral.case_id.in_(ids), Referral.status.in_(TAKEN_ON))
    offices = select(Organisation.id).where(Organisation.kind == "district_office",
                                            Organisation.office_code == office_code)
    return list(db.session.execute(select(User).where(User.active.is_(True), or_(
        and_(User.role.in_(SCHOOL_ROLES), User.organisation_id.in_(school_ids)),
        and_(User.role == DISTRICT_COORDINATOR, User.organisation_id.in_(offices)),
        and_(User.role == GUARDIAN, User.id.in_(guardians)),
        and_(User.role == AGENCY_COORDINATOR, User.organisation_id.in_(agencies))))
        .order_by(User.role, User.id)).scalars())
