"""Who hears about a referral, and in which words.

The agency reads the student only as the referral shares them (``agency_student_label``); the
school team reads the full name.  Texts are stored lazy messages (stored_messages.py): each reader
sees them in their own language, dates included (2026. 12. 8. / 8 Dec 2026).  An alert that
asks for something to be done about the referral carries ``about`` (it resolves once the referral
is answered or ended, see notifications/reactions.py); plain news carries none.
"""
from __future__ import annotations

import datetime as dt

from flask_babel import lazy_gettext as _l
from flask_babel.speaklater import LazyString
from sqlalchemy import select

from ..audit.services import record
from ..auth.models import Organisation, User
from ..cases.chronology import add_event
from ..extensions import db
from ..notifications.services import notify, object_key
from ..permissions import AGENCY_COORDINATOR, DISTRICT_COORDINATOR, SCHOOL_LEAD
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


def school_leads(school_id: int) -> list[User]:
    """The active school leads (교감) of one school."""
    return list(db.session.execute(select(User).where(
        User.role == SCHOOL_LEAD, User.organisation_id == school_id, User.active.is_(True))).scalars())


def sent_on(referral: Referral) -> dt.date | None:
    """The referral's sending day (None for a draft), a parameter of the agency's messages."""
    return referral.sent_at.date() if referral.sent_at else None


def notify_agency_new(referral: Referral) -> None:
    """Tell the agency a referral arrived; answering it (accept or decline) resolves the alert."""
    text = _l("%(school)s에서 새 의뢰가 도착했습니다 (%(student)s). %(day)s까지 회신해 주세요.",
              school=referral.case.school.name, student=agency_student_label(referral), day=referral.respond_by)
    for user in agency_users(referral.agency_id):
        notify(user.id, "referral", text, link=agency_link(referral), about=object_key("referral", referral),
               deadline=referral.respond_by, student_id=referral.case.student_id)


def notify_agency(referral: Referral, text: LazyString) -> None:
    """News for the agency about one of its referrals (no ``case_id``: the agency has no case);
    ``text`` is a lazy message (``_l(...)`` with its parameters)."""
    for user in agency_users(referral.agency_id):
        notify(user.id, "referral", text, link=agency_link(referral), student_id=referral.case.student_id)


def notify_sender(referral: Referral, text: LazyString) -> None:
    """News for the school member who sent (or wrote) the referral, naming the student in full;
    ``text`` is a lazy message, put after the agency and the student."""
    user_id = referral.sent_by_id or referral.created_by_id
    notify(user_id, "referral", _l("%(agency)s: %(name)s 학생 %(text)s", agency=referral.agency.name,
                                   name=referral.case.student.name, text=text),
           link=school_link(referral), case_id=referral.case_id, student_id=referral.case.student_id)


def notify_override(referral: Referral) -> None:
    """The district coordinators review a referral sent without consent: about the referral, so it
    resolves once the referral ended (or the case closed)."""
    case = referral.case
    text = _l("%(school)s: %(name)s 학생을 동의 없이 %(agency)s에 긴급 의뢰", school=case.school.name,
              name=case.student.name, agency=referral.agency.name)
    for user in office_coordinators(case.school.office_code):
        notify(user.id, "referral_override", text, link=school_link(referral), case_id=case.id,
               about=object_key("referral", referral))


def escalate_overdue(referral: Referral, today: dt.date) -> int:
    """A referral past its answer day: the school's leads and the office's coordinators are told
    (always at once by e-mail: mail_outbox.ALWAYS_IMMEDIATE_KINDS), and the agency is reminded.
    Once per person (dedupe keys): a daily run repeats nothing.  Returns the alerts created."""
    case = referral.case
    about = object_key("referral", referral)
    school_text = _l("%(agency)s: %(name)s 학생 의뢰의 회신 기한(%(day)s)이 지났습니다.", agency=referral.agency.name,
                     name=case.student.name, day=referral.respond_by)
    agency_text = _l("%(school)s의 의뢰(%(student)s) 회신 기한(%(day)s)이 지났습니다. 수락 또는 거절로 회신해 주세요.",
                     school=case.school.name, student=agency_student_label(referral), day=referral.respond_by)
    created = 0
    school_side = {u.id: u for u in school_leads(case.school_id) + office_coordinators(case.school.office_code)}
    for user_id in school_side:
        created += notify(user_id, "referral_overdue", school_text, link=school_link(referral), case_id=case.id,
                          about=about, deadline=referral.respond_by,
                          dedupe_key=f"referral-overdue:{referral.id}:{user_id}") is not None
    for user in agency_users(referral.agency_id):
        created += notify(user.id, "referral_overdue", agency_text, link=agency_link(referral), about=about,
                          deadline=referral.respond_by, student_id=case.student_id,
                          dedupe_key=f"referral-overdue:{referral.id}:{user.id}") is not None
    if created:
        add_event(case, "referral", _l("%(agency)s 의뢰 회신 기한(%(day)s) 경과 — 학교 관리자·교육지원청 담당자에게 알림",
                                       agency=referral.agency.name, day=referral.respond_by))
        record("referral_overdue_escalated", obj=referral, subject=case.student, actor=None,
               details={"notified": created, "respond_by": referral.respond_by.isoformat()})
    return created
