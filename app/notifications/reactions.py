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
