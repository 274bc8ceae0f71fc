"""Alerts resolve by themselves when the object they are about is handled (signals in app/signals.py)."""
from __future__ import annotations

from sqlalchemy import select

from .. import signals
from ..auth.models import User
from ..extensions import db
from .services import object_key, resolve, resolve_case


@signals.case_closed.connect
def _case_closed(case, **_kwargs):
    resolve_case(case.id)


@signals.case_withdrawn.connect
def _case_withdrawn(case, **_kwargs):
    resolve_case(case.id)


@signals.referral_resolved.connect
def _referral_resolved(referral, status: str, **_kwargs):
    """Accepted: the agency's "new referral" alert is answered, and nobody's "overdue" alert
    stands any more.  Ended: every alert about it."""
    key = object_key("referral", referral)
    if status == "accepted":
        agency_users = select(User.id).where(User.organisation_id == referral.agency_id)
        resolve(key, user_ids=db.session.execute(agency_users).scalars().all())
        resolve(key, kinds=("referral_overdue",))
    else:
        resolve(key)


@signals.concern_acknowledged.connect
def _concern_acknowledged(concern, **_kwargs):
    resolve(object_key("concern", concern))


@signals.assignment_ended.connect
def _assignment_ended(assignment, **_kwargs):
    resolve(object_key("assignment", assignment))


@signals.plan_action_finished.connect
def _plan_action_finished(action, **_kwargs):
    resolve(object_key("plan_action", action))


@signals.conference_held.connect
def _conference_held(conference, **_kwargs):
    resolve(object_key("conference", conference), kinds=("conference",))


#: alert object keys (object_key kinds) of rows about a student, by the table the rows live in
RETENTION_KEY_KINDS = {"referral": "referral", "guardian_assignment": "assignment", "guardian_concern": "concern",
                       "conference_action_item": "action_item", "case_transfer": "transfer"}
#: the tables whose uids appear in alert links (/cases/<uid>, /guardians/me/<assignment uid> …)
RETENTION_LINK_TABLES = ("student", "support_case", "referral", "guardian_assignment", "guardian_concern",
                         "case_transfer")


@signals.student_retained_until_passed.connect
def forget_student_alerts(student, rows=None, uids=None, **_kwargs) -> dict:
    """Delete every alert about the student (by case, by object key or by a link naming one of
    their rows) and the mail queued for it: an alert's text may name the student."""
    from sqlalchemy import delete, or_

    from .mail_models import OutboxMessage
    from .models import Notification
    rows, uids = rows or {}, uids or {}
    keys = [f"{kind}:{i}" for table, kind in RETENTION_KEY_KINDS.items() for i in rows.get(table, ())]
    links = [u for table in RETENTION_LINK_TABLES for u in uids.get(table, ())]
    conditions = [Notification.id.in_(rows.get("notification", ())),
                  Notification.case_id.in_(rows.get("support_case", ()))]
    if keys:
        conditions.append(Notification.object_key.in_(keys))
    conditions += [Notification.link.contains(u, autoescape=True) for u in links]
    ids = list(db.session.execute(select(Notification.id).where(or_(*conditions))).scalars())
    mail = [OutboxMessage.link.contains(u, autoescape=True) for u in links]
    outbox = db.session.execute(delete(OutboxMessage).where(
        or_(OutboxMessage.notification_id.in_(ids), *mail))).rowcount if ids or mail else 0
    if ids:
        db.session.execute(delete(Notification).where(Notification.id.in_(ids)))
    return {"notification": len(ids), "mail_outbox": outbox}
