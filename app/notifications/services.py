"""Creating, resolving and reading notifications; callers commit.

An alert points to its object with ``object_key`` ("referral:12", "concern:3", "plan_action:7" …).
When the object is handled — by anyone — ``resolve`` marks every alert about it resolved, so it
leaves everyone's unread lists by itself; ``resolve_case`` does the same for a whole case.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from flask import has_request_context
from flask_login import current_user

from flask_babel import lazy_gettext as _l, lazy_pgettext
from sqlalchemy import func, select, update

from ..audit.services import record
from ..db import utcnow
from ..extensions import db
from .mail_outbox import enqueue_alert
from .models import Notification

#: how many unread alerts a home page shows (the rest are on the "모두 보기" page)
HOME_LIMIT = 5
#: alert kind -> label (filters and badges on the list page)
KINDS = {
    "concern": lazy_pgettext("alert kind", "우려 보고"), "concern_overdue": _l("우려 미확인"), "concern_acknowledged": _l("우려 확인"),
    "referral": _l("기관 의뢰"), "referral_override": _l("동의 없는 긴급 의뢰"), "referral_overdue": _l("의뢰 회신 기한 경과"), "assignment_proposed": lazy_pgettext("alert kind", "연계 제안"),
    "assignment_suspended": _l("배정 일시 중지"), "assignment_end_requested": _l("배정 종료 요청"),
    "assignment_reactivatable": _l("배정 재개 가능"), "assignment_ended": _l("배정 종료"), "check_expiring": _l("조회 만료 예정"),
    "check_lapsed": _l("조회 만료"), "conference": _l("사례회의"), "conference_action": _l("사례회의 실행 과제"),
    "conference_review": _l("사례 점검일"),
    "consent": _l("동의"), "case": _l("사례"), "transfer": _l("전학 이관"), "transfer_overdue": _l("전학 이관 회신 기한 경과"), "training_expiring": _l("개인정보 교육 만료 예정"),
}


def object_key(kind: str, obj_or_id) -> str:
    """The key of an object, e.g. object_key("referral", referral) -> "referral:12"."""
    return f"{kind}:{getattr(obj_or_id, 'id', obj_or_id)}"


def notify(user_id: int, kind: str, text, *, link: str | None = None, case_id: int | None = None,
           guardian_id: int | None = None, dedupe_key: str | None = None,
           about: str | None = None, deadline: dt.date | None = None,
           student_id: int | None = None) -> Notification | None:
    """Queue one alert; with ``dedupe_key`` a second call with the same key does nothing.
    ``text``: a message marked with _l (stored, shown in each reader's language) or plain text.

    ``about`` (an ``object_key``) marks an alert that asks for something to be done about an
    object: handling it resolves the alert.  Plain news ("의뢰가 취소되었습니다") carries no
    ``about``.  ``case_id`` marks an alert about an open case: closing or withdrawing the case
    resolves it, so alerts sent *because* a case closed carry no ``case_id``.  ``student_id``
    names the student an alert is about (its text may name them): retention deletes by it.

    The e-mail (if the user wants one) is queued in the same transaction: the kind, the sender's
    organisation (the signed-in user's; none for a scheduled command), ``deadline`` and the link,
    never ``text`` (mail_outbox.py)."""
    if dedupe_key and db.session.execute(select(Notification.id).filter_by(dedupe_key=dedupe_key)).first():
        return None
    note = Notification(user_id=user_id, kind=kind, link=link, case_id=case_id, guardian_id=guardian_id,
                        dedupe_key=dedupe_key, object_key=about, student_id=student_id)
    note.text = text
    db.session.add(note)
    enqueue_alert(note, deadline=deadline, sender_org_id=_sender_org_id())
    return note


def _sender_org_id() -> int | None:
    if has_request_context() and current_user and current_user.is_authenticated:
        return current_user.organisation_id
    return None


def resolve(key: str, *, kinds: tuple[str, ...] | None = None, user_ids=None) -> int:
    """Resolve the open alerts about one object (optionally only some kinds or recipients)."""
    db.session.flush()
    query = update(Notification).where(Notification.object_key == key, Notification.resolved_at.is_(None))
    if kinds:
        query = query.where(Notification.kind.in_(kinds))
    if user_ids is not None:
        query = query.where(Notification.user_id.in_(list(user_ids)))
    return db.session.execute(query.values(resolved_at=utcnow()).execution_options(synchronize_session=False)).rowcount


def resolve_case(case_id: int) -> int:
    """Resolve every open alert about a case (it closed or was withdrawn)."""
    db.session.flush()
    return db.session.execute(
        update(Notification).where(Notification.case_id == case_id, Notification.resolved_at.is_(None))
        .values(resolved_at=utcnow()).execution_options(synchronize_session=False)).rowcount


def _open(user):
    return (Notification.user_id == user.id) & Notification.read_at.is_(None) & Notification.resolved_at.is_(None)


def unread_for(user, limit: int = HOME_LIMIT) -> list[Notification]:
    """The user's unread, unresolved alerts, newest first (concerns first)."""
    return list(db.session.execute(
        select(Notification).where(_open(user))
        .order_by((Notification.kind == "concern").desc(), Notification.created_at.desc(), Notification.id.desc())
        .limit(limit)).scalars())


def unread_count(user) -> int:
    """How many unread, unresolved alerts the user has (the home panel's badge)."""
    return db.session.execute(select(func.count(Notification.id)).where(_open(user))).scalar_one()


@dataclass
class AlertFilters:
    state: str = "unread"   # unread | all | resolved
    kind: str = ""


def alerts_query(user, filters: AlertFilters):
    """The user's own alerts for the list page, newest first (a Select for db.paginate)."""
    query = select(Notification).where(Notification.user_id == user.id)
    if filters.state == "unread":
        query = query.where(Notification.read_at.is_(None), Notification.resolved_at.is_(None))
    elif filters.state == "resolved":
        query = query.where(Notification.resolved_at.is_not(None))
    if filters.kind in KINDS:
        query = query.where(Notification.kind == filters.kind)
    return query.order_by(Notification.created_at.desc(), Notification.id.desc())


def mark_read(note: Notification, user) -> None:
    """Dismiss one of the user's own alerts."""
    if note.user_id != user.id:
        raise PermissionError("not your notification")
    note.read_at = utcnow()
    record("notification_read", obj=note, actor=user, details={"kind": note.kind})


def mark_all_read(user) -> int:
    """모두 확인: dismiss every unread alert of the user (one audit event with the count)."""
    count = db.session.execute(
        update(Notification).where(Notification.user_id == user.id, Notification.read_at.is_(None))
        .values(read_at=utcnow()).execution_options(synchronize_session=False)).rowcount
    if count:
        record("notifications_read_all", object_type="notification", actor=user, details={"count": count})
    return count
