"""The case chronology: one time-ordered list of everything that happened to a case.

Every feature's services append a line with ``add_event`` in the same transaction as their
change; the case page reads it back newest first, filtered by kind.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from flask_babel import lazy_gettext as _l, lazy_pgettext, to_user_timezone
from sqlalchemy import select, tuple_
from sqlalchemy.orm import selectinload

from ..db import utcnow
from ..extensions import db
from ..i18n import language
from ..words import date_text
from .models import CaseEvent, SupportCase

#: chronology line kinds (the filter tabs of the case page)
EVENT_KINDS = {"request": _l("요청"), "status": lazy_pgettext("chronology kind", "상태 변경"), "consent": _l("동의"),
               "note": lazy_pgettext("chronology kind", "기록"),
               "plan": _l("지원 계획"), "escalation": _l("교육지원청"), "referral": _l("기관 의뢰"),
               "assignment": _l("교육후견인"), "conference": _l("사례회의"), "satisfaction": _l("만족도"),
               "transfer": _l("전학")}


def listing(labels: list):
    """Several labels (marked messages or text) as one stored parameter, "a, b, c" in the reader's
    language: nested messages, since a joined string would freeze one language."""
    if not labels:
        return ""
    if len(labels) == 1:
        return labels[0]
    return _l("%(first)s, %(rest)s", first=labels[0], rest=listing(labels[1:]))


def add_event(case: SupportCase, kind: str, text, actor=None, when: dt.datetime | None = None,
              link: str | None = None) -> CaseEvent:
    """Append one chronology line (``link``: where its object opens, e.g. a concern page).  ``text`` is a
    message marked with _l (stored, shown in each reader's language) or plain typed text."""
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


#: chronology lines shown at once on the case page; "더 보기" shows the next older ones
CHRONOLOGY_PAGE = 100


@dataclass(frozen=True)
class Line:
    """One chronology line ready to show: every value computed once in Python, so the template
    only prints (no filter call, no lazy load per line)."""

    uid: str
    kind: str
    label: str
    iso: str
    when: str
    actor: str | None
    text: str
    link: str | None


@dataclass
class Chronology:
    lines: list[Line]
    #: the uid of the oldest line shown when older lines exist (the "더 보기" link's cursor)
    older: str | None
    #: whether this is a later page (started from a cursor)
    continued: bool


def when_texts(moments: list[dt.datetime]) -> list[str]:
    """'2026. 12. 1. 09:05' (or '1 Dec 2026 09:05') in the user's time zone, as ``kdatetime`` writes it,
    with the date part written once per distinct day (pages repeat days)."""
    days: dict[dt.date, str] = {}
    lang = language()
    texts = []
    for moment in moments:
        local = to_user_timezone(moment)
        day = local.date()
        if day not in days:
            days[day] = date_text(day, lang)
        texts.append(f"{days[day]} {local.hour:02d}:{local.minute:02d}")
    return texts


def chronology(case: SupportCase, kind: str | None = None, older: str | None = None,
               size: int = CHRONOLOGY_PAGE) -> Chronology:
    """The newest ``size`` lines (optionally of one kind), or the ``size`` lines just older than
    the line ``older`` (a uid of this case's chronology): keyset pages on (occurred_at, id), so
    every line appears exactly once however far one goes.  One query, plus one for the actors."""
    query = (select(CaseEvent).where(CaseEvent.case_id == case.id).options(selectinload(CaseEvent.actor))
             .order_by(CaseEvent.occurred_at.desc(), CaseEvent.id.desc()).limit(size + 1))
    if kind in EVENT_KINDS:
        query = query.where(CaseEvent.kind == kind)
    if older:
        cursor = (select(CaseEvent.occurred_at, CaseEvent.id)
                  .where(CaseEvent.uid == older[:36], CaseEvent.case_id == case.id).subquery())
        # a row-value comparison: an index range on (case_id, occurred_at), no scan of the whole case
        query = query.join(cursor, tuple_(CaseEvent.occurred_at, CaseEvent.id) < tuple_(cursor.c.occurred_at, cursor.c.id))
    events = list(db.session.execute(query).scalars())
    more, events = len(events) > size, events[:size]
    names: dict[int, str] = {}
    lines = []
    for event, when in zip(events, when_texts([e.occurred_at for e in events])):
        actor = None
        if event.actor is not None:
            actor = names.setdefault(event.actor.id, event.actor.display_name)
        lines.append(Line(event.uid, event.kind, EVENT_KINDS.get(event.kind, event.kind), event.occurred_at.isoformat() + "Z",
                          when, actor, event.text, event.link))
    return Chronology(lines, events[-1].uid if more and events else None, bool(older))
