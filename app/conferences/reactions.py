"""Reactions of this feature to lifecycle signals (app/signals.py); connected by the app factory.

* A case closed: its open action items end as "사례 종결로 종료" (their reminders resolve), so
  they leave every home list and the daily reminder.
* Conference-sharing consent withdrawn or expired: a chronology line says that later
  conferences discuss the case within the school team only.  The shared view itself is
  computed from consent at each reading (access.visible_cases), so nothing else changes here.
"""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from .. import signals
from ..audit.services import record
from ..cases.chronology import add_event
from ..cases.consent import consent_covers
from ..extensions import db
from ..notifications.services import object_key, resolve
from .models import ActionItem

SHARING = "conference_sharing"
SHARING_STOPPED = {"withdrawn": _l("사례회의 정보 공유 동의 철회: 이후 회의에서 학교 지원팀만 논의"),
                   "expired": _l("사례회의 정보 공유 동의 만료: 이후 회의에서 학교 지원팀만 논의")}


@signals.case_closed.connect
def _case_closed(case, actor=None, **_kwargs):
    """Every open action item of the closed case ends with it."""
    items = list(db.session.execute(select(ActionItem).where(
        ActionItem.case_id == case.id, ActionItem.status == "open").order_by(ActionItem.id)).scalars())
    for item in items:
        item.status = "case_closed"
        record("conference_action_status", obj=item, subject=case.student, actor=actor,
               details={"from": "open", "to": "case_closed"})
        resolve(object_key("action_item", item))
    if items:
        add_event(case, "conference", _l("사례 종결로 사례회의 실행 과제 %(n)d건 종료", n=len(items)), actor)


def _sharing_stopped(case, actor, party, purposes, cause: str) -> None:
    if SHARING not in (purposes or ()) or consent_covers(case, SHARING):
        return  # another consent still covers sharing, or this one never did
    add_event(case, "conference", SHARING_STOPPED[cause], actor)
    record("conference_sharing_stopped", obj=case, subject=case.student, actor=actor,
           details={"party": party, "cause": cause})


@signals.consent_withdrawn.connect
def _consent_withdrawn(case, actor=None, party=None, purposes=(), **_kwargs):
    _sharing_stopped(case, actor, party, purposes, "withdrawn")


@signals.consent_expired.connect
def _consent_expired(case, actor=None, party=None, purposes=(), **_kwargs):
    _sharing_stopped(case, actor, party, purposes, "expired")


@signals.student_transferred.connect
def _student_transferred(case, **_kwargs):
    """The case's review row (case_review: school and office) follows it to the new school."""
    from .reviews import refresh_reviews
    refresh_reviews([case.id])


@signals.student_retained_until_passed.connect
def forget_student_conference_records(student, rows=None, uids=None, **_kwargs) -> dict:
    """Delete the student's conference records: reviews, action items and case records; strip their
    cases from amendment copies; a meeting left with no case goes whole (participants, minutes,
    amendments and its invitations).  Minutes of a meeting that also discussed others stay."""
    from sqlalchemy import delete, func, or_

    from ..notifications.mail_models import OutboxMessage
    from ..notifications.models import Notification
    from .models import CaseReview, Conference, ConferenceAmendment, ConferenceCase, ConferenceParticipant
    rows, uids = rows or {}, uids or {}
    cc_ids, item_ids = rows.get("conference_case", ()), rows.get("conference_action_item", ())
    case_ids, case_uids = rows.get("support_case", ()), set(uids.get("support_case", ()))
    touched = set(db.session.execute(select(ConferenceCase.conference_id).where(ConferenceCase.id.in_(cc_ids))).scalars())
    touched |= set(db.session.execute(select(ActionItem.conference_id).where(ActionItem.id.in_(item_ids))).scalars())
    counts = {"case_review": db.session.execute(delete(CaseReview).where(
        or_(CaseReview.case_id.in_(case_ids), CaseReview.conference_case_id.in_(cc_ids)))).rowcount}
    db.session.execute(delete(ActionItem).where(ActionItem.id.in_(item_ids)))
    db.session.execute(delete(ConferenceCase).where(ConferenceCase.id.in_(cc_ids)))
    counts.update(conference_action_item=len(item_ids), conference_case=len(cc_ids), conference=0,
                  conference_amendment=0, conference_participant=0)
    for conference in db.session.execute(select(Conference).where(Conference.id.in_(touched))).scalars().all():
        remaining = db.session.execute(select(func.count()).select_from(ConferenceCase)
                                       .where(ConferenceCase.conference_id == conference.id)).scalar()
        amendments = db.session.execute(select(ConferenceAmendment)
                                        .where(ConferenceAmendment.conference_id == conference.id)).scalars().all()
        if remaining:
            for amendment in amendments:  # the earlier versions keep the other cases' decisions
                previous = amendment.previous if isinstance(amendment.previous, dict) else None
                if previous and case_uids & set(previous.get("cases") or {}):
                    previous = {**previous, "cases": {k: v for k, v in previous["cases"].items() if k not in case_uids}}
                    amendment.previous = previous
                    counts["conference_amendment"] += 1
            continue
        alerts = list(db.session.execute(select(Notification.id).where(or_(
            Notification.object_key == object_key("conference", conference),
            Notification.link.contains(conference.uid, autoescape=True)))).scalars())
        if alerts:
            db.session.execute(delete(OutboxMessage).where(OutboxMessage.notification_id.in_(alerts)))
            db.session.execute(delete(Notification).where(Notification.id.in_(alerts)))
        counts["conference_amendment"] += len(amendments)
        counts["conference_participant"] += db.session.execute(delete(ConferenceParticipant).where(
            ConferenceParticipant.conference_id == conference.id)).rowcount
        db.session.execute(delete(ConferenceAmendment).where(ConferenceAmendment.conference_id == conference.id))
        db.session.execute(delete(ActionItem).where(ActionItem.conference_id == conference.id))
        db.session.execute(delete(Conference).where(Conference.id == conference.id))
        counts["conference"] += 1
    return counts
