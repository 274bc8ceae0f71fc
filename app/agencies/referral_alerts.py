"""Who hears about a referral, and in which words.

The agency reads the student only as the referral shares them (``agency_student_label``); the
school team reads the full name.  Dates are written the Korean way (2026. 12. 8.).  An alert that
asks for something to be done about the referral carries ``about`` (it resolves once the referral
is answered or ended, see notifications/reactions.py); plain news carries none.
"""
from __future__ import annotations

from sqlalchemy import select

from ..auth.models import Organisation, User
from ..extensions import db
from ..i18n import korean_date
from ..words import short_date_text
from ..notifications.services import notify, object_key
from ..permissions import AGENCY_COORDINATOR, DISTRICT_COORDINATOR
from .models import Referral
from .referral_queries import agency_student_label


def school_link(referral: Referral) -> str:
    return f"/agencies/referrals/{referral.uid}"


def agency_link(referral: Referral) -> str:
    return f"/agencies/inbox/{referral.uid}"


def agency_users(agency_id: int) -> list[User]:
    """The active coordinators of an agency."""
    return list(db.session.execute(select(User).where(
        User.role == AGENCY_COORDINATOR, User.organisation_id == agency_id, User.active.is_(True))).scalars())


def office_coordinators(office_code: str) -> list[User]:
    """The active coordinators of a district office."""
    return list(db.session.execute(select(User).join(Organisation, User.organisation_id == Organisation.id).where(
        User.role == DISTRICT_COORDINATOR, User.active.is_(True), Organisation.kind == "district_office",
        Organisation.office_code == office_code)).scalars())


def sent_on(referral: Referral) -> str:
    """'2026. 12. 8.에 보낸 ' for the referral's sending day (empty for a draft)."""
    return f"{korean_date(referral.sent_at.date())}에 보낸 " if referral.sent_at else ""


def notify_agency_new(referral: Referral) -> None:
    """Tell the agency a referral arrived; answering it (accept or decline) resolves the alert."""
    text = (f"{referral.case.school.name}에서 새 의뢰가 도착했습니다 ({agency_student_label(referral)}). "
            f"{short_date_text(referral.respond_by)}까지 회신해 주세요.")
    for user in agency_users(referral.agency_id):
        notify(user.id, "referral", text, link=agency_link(referral), about=object_key("referral", referral))


def notify_agency(referral: Referral, text: str) -> None:
    """News for the agency about one of its referrals (no ``case_id``: the agency has no case)."""
    for user in agency_users(referral.agency_id):
        notify(user.id, "referral", text, link=agency_link(referral))


def notify_sender(referral: Referral, text: str) -> None:
    """News for the school member who sent (or wrote) the referral, naming the student in full."""
    user_id = referral.sent_by_id or referral.created_by_id
    notify(user_id, "referral", f"{referral.agency.name}: {referral.case.student.name} 학생 {text}",
           link=school_link(referral), case_id=referral.case_id)


def notify_override(referral: Referral) -> None:
    """The district coordinators review a referral sent without consent: about the referral, so it
    resolves once the referral ended (or the case closed)."""
    case = referral.case
    text = f"{case.school.name}: {case.student.name} 학생을 동의 없이 {referral.agency.name}에 긴급 의뢰"
    for user in office_coordinators(case.school.office_code):
        notify(user.id, "referral_override", text, link=school_link(referral), case_id=case.id,
               about=object_key("referral", referral))
