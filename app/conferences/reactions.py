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
