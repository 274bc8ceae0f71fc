"""The case chronology: one time-ordered list of everything that happened to a case.

Every feature's services append a line with ``add_event`` in the same transaction as their
change; the case page reads it back newest first, filtered by kind.
"""
from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from ..db import utcnow
from ..extensions import db
from .models import CaseEvent, SupportCase

EVENT_KINDS = {"request": "요청", "status": "상태 변경", "consent": "동의", "note": "기록",
               "plan": "지원 계획", "escalation": "교육지원청", "referral": "기관 의뢰",
               "assignment": "교육후견인", "conference": "사례회의"}


def add_event(case: SupportCase, kind: str, text: str, actor=None, when: dt.datetime | None = None,
              link: str | None = None) -> CaseEvent:
    """Append one chronology line (``link``: where its object opens, e.g. a concern page)."""
    event = CaseEvent(case_id=case.id, kind=kind, actor_id=getattr(actor, "id", None), occurred_at=when or utcnow(),
                      link=link)
    event.text = text
    db.session.add(event)
    return event


def case_events(case: SupportCase, kind: str | None = None, limit: int = 200) -> list[CaseEvent]:
    """Newest first, optionally of one kind; the actor is loaded with the events (no N+1)."""
    query = (select(CaseEvent).where(CaseEvent.case_id == case.id).options(selectinload(CaseEvent.actor))
             .order_by(CaseEvent.occurred_at.desc(), CaseEvent.id.desc()).limit(limit))
    if kind in EVENT_KINDS:
        query = query.where(CaseEvent.kind == kind)
    return list(db.session.execute(query).scalars())
