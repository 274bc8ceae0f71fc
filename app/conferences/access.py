"""Who may see, organise and record a conference and which of its cases each viewer may see; the
home-page reads (my action items, upcoming reviews) live in my_work.py and are re-exported here."""
from __future__ import annotations

from dataclasses import dataclass

from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, false, or_, select
from sqlalchemy.orm import joinedload

from ..agencies.models import Referral
from ..agencies.referral_queries import UNNAMED_STUDENT, AgencyProjection, agency_projections
from ..auth.models import Organisation, User
from ..cases.consent import covering_case_ids
from ..cases.models import SupportCase
from ..extensions import db
from ..guardians.models import Assignment, Guardian
from ..guardians.portal import GuardianProjection, guardian_projection, shared_goals
from ..permissions import AGENCY_COORDINATOR, DISTRICT_COORDINATOR, GUARDIAN, SCHOOL_ROLES
from .common import FINISHED_CASES  # noqa: F401  (re-exported)
from .models import Conference, ConferenceCase, ConferenceParticipant
from .my_work import MyItem, current_reviews, my_action_items, my_upcoming_reviews, student_labels  # noqa: F401

#: referral statuses that make an agency a party to the case
TAKEN_ON = ("accepted", "in_service")
SCHOOL_KINDS = ("school_meeting", "living_area")
WITHHELD_MESSAGE = _l("동의가 없어 학교 지원팀만 논의할 수 있습니다.")


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


def _conference_cases(conference: Conference) -> list[ConferenceCase]:
    """The conference's cases, each with its student and school (one query)."""
    return list(db.session.execute(
        select(ConferenceCase).where(ConferenceCase.conference_id == conference.id)
        .options(joinedload(ConferenceCase.case).joinedload(SupportCase.student),
                 joinedload(ConferenceCase.case).joinedload(SupportCase.school))
        .order_by(ConferenceCase.id)).scalars())


def visible_cases(user, conference: Conference) -> list[CaseView]:
    """The conference's cases this viewer may see; outside the case's school, a case without
    conference-sharing consent is marked withheld.  Consent and projections are read for all
    the cases at once."""
    items = _conference_cases(conference)
    if is_organiser_side(user, conference):
        entitled = {cc.case_id for cc in items}
    elif is_participant(user, conference):
        entitled = entitled_case_ids(user, [cc.case for cc in items])
    else:
        return []
    items = [cc for cc in items if cc.case_id in entitled]
    sharing = covering_case_ids([cc.case_id for cc in items], "conference_sharing")
    views = []
    for cc in items:
        allowed = cc.case_id in sharing
        inside = user.role in SCHOOL_ROLES and user.organisation_id == cc.case.school_id
        views.append(CaseView(cc, cc.case, withheld=not (inside or allowed), sharing_allowed=allowed))
    seen = projections_for(user, [view.case for view in views if not view.withheld])
    for view in views:
        view.projection = None if view.withheld else seen.get(view.case.id)
    return views


def projections_for(user, cases) -> dict[int, GuardianProjection | AgencyProjection | None]:
    """{case id: what ``user`` may see of the case's student on a conference page}: a guardian
    what the guardian portal shows, an agency what its referral shared; None (everything) for the
    school team and coordinators.  A constant number of queries for any number of cases."""
    cases = list({c.id: c for c in cases}.values())
    ids = [c.id for c in cases]
    if user.role == GUARDIAN:
        goals = shared_goals(ids)
        return {c.id: guardian_projection(c, goals.get(c.id, [])) for c in cases}
    if user.role == AGENCY_COORDINATOR and ids:
        latest: dict[int, Referral] = {}
        for referral in db.session.execute(select(Referral).where(
                Referral.agency_id == user.organisation_id, Referral.case_id.in_(ids), Referral.status.in_(TAKEN_ON))
                .order_by(Referral.sent_at.desc(), Referral.id.desc())).scalars():
            latest.setdefault(referral.case_id, referral)
        seen = dict(zip(latest, agency_projections(list(latest.values()))))
        # entitlement needs a taken-on referral; without one, fail closed: the label only
        return {i: seen.get(i) or AgencyProjection(None, UNNAMED_STUDENT) for i in ids}
    return {i: None for i in ids}


def projection_for(user, case: SupportCase) -> GuardianProjection | AgencyProjection | None:
    """What ``user`` may see of ``case``'s student on a conference page (``projections_for``)."""
    return projections_for(user, [case]).get(case.id)


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
