"""The auditor's search of the trail (접속기록 조회) and the KST month helpers it shares with the
monthly access review (access_review.py)."""
from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field

from flask_babel import gettext as _
from sqlalchemy import func, literal_column, or_, select

from ..auth.models import User
from ..db import today_kst
from ..domain import DomainError
from ..extensions import db
from ..i18n import language
from ..words import month_text
from .models import AuditEvent

KST_OFFSET = dt.timedelta(hours=9)
_MONTH = re.compile(r"^(\d{4})-(\d{2})$")


def kst_day_start_utc(day: dt.date) -> dt.datetime:
    """The naive-UTC instant at which ``day`` begins in Seoul."""
    return dt.datetime.combine(day, dt.time()) - KST_OFFSET


def parse_month(text: str | None) -> dt.date:
    """'YYYY-MM' -> the first day of that month, or DomainError on the 'month' field."""
    match = _MONTH.match((text or "").strip())
    if not match or not 1 <= int(match.group(2)) <= 12 or int(match.group(1)) < 2000:
        raise DomainError(_("점검할 달을 YYYY-MM 형식(예: 2026-03)으로 입력해 주세요."), "month")
    return dt.date(int(match.group(1)), int(match.group(2)), 1)


def next_month(first: dt.date) -> dt.date:
    return dt.date(first.year + first.month // 12, first.month % 12 + 1, 1)


def previous_month(first: dt.date) -> dt.date:
    return (first - dt.timedelta(days=1)).replace(day=1)


def current_month() -> dt.date:
    return today_kst().replace(day=1)


def month_label(first: dt.date) -> str:
    """"2026년 3월" / "March 2026" in the page's language."""
    return month_text(first.year, first.month, language())



@dataclass
class SearchCriteria:
    start: dt.date | None = None  #: first KST day, inclusive
    end: dt.date | None = None  #: last KST day, inclusive
    actor: str | None = None  #: login of the acting user
    action: str | None = None
    subject: str | None = None  #: pseudonymous subject reference
    outcome: str | None = None

    def as_details(self) -> dict:
        """The filters as audit details (no personal values: ids, logins and references only)."""
        return {k: (v.isoformat() if isinstance(v, dt.date) else v)
                for k, v in self.__dict__.items() if v not in (None, "")}


@dataclass
class EventPage:
    rows: list = field(default_factory=list)
    has_older: bool = False
    has_newer: bool = False

    @property
    def oldest_id(self) -> int | None:
        return self.rows[-1].id if self.rows else None

    @property
    def newest_id(self) -> int | None:
        return self.rows[0].id if self.rows else None


#: what the auditor sees of an event: ids and references, never a decrypted value
SEARCH_COLUMNS = (AuditEvent.id, AuditEvent.occurred_at, AuditEvent.actor_id, AuditEvent.actor_login,
                  AuditEvent.role, AuditEvent.organisation_id, AuditEvent.ip, AuditEvent.action,
                  AuditEvent.object_type, AuditEvent.object_id, AuditEvent.subject_ref,
                  AuditEvent.outcome, AuditEvent.reason, AuditEvent.details)


#: a bounded count of matching index entries (a probe) stops here
PROBE_CAP = 20_000


def _plain(column, value):
    """``column = value`` that no index serves (the expression hides the column), so that the
    database walks the one index chosen for the page and only filters on this condition."""
    return (column + 0 if column.type.python_type is int else column.concat("")) == value


def _filters(criteria: SearchCriteria) -> list[tuple[str, object, object]]:
    """(name, indexable condition, the same condition kept off indexes) for every filter but
    the date range."""
    ev = AuditEvent
    out = []
    if criteria.subject:
        subject = criteria.subject.strip()
        out.append(("subject", ev.subject_ref == subject, _plain(ev.subject_ref, subject)))
    if criteria.actor:
        # resolve the login first so the query filters on the indexed actor_id
        user_id = db.session.execute(select(User.id).filter_by(login=criteria.actor.strip())).scalar()
        if user_id is None:
            raise DomainError(_("그 아이디의 사용자가 없습니다."), "actor")
        out.append(("actor", ev.actor_id == user_id, _plain(ev.actor_id, user_id)))
    if criteria.action:
        action = criteria.action.strip()
        out.append(("action", ev.action == action, _plain(ev.action, action)))
    if criteria.outcome == "denied":
        # a literal, so that the partial index (WHERE outcome = 'denied') applies
        out.append(("denied", ev.outcome == literal_column("'denied'"), _plain(ev.outcome, "denied")))
    elif criteria.outcome:
        out.append(("outcome", None, ev.outcome == criteria.outcome))
    return out


def _groups(filters: list) -> list[tuple[str, ...]]:
    """The filters an index can lead with, alone or (actor and action) as a pair."""
    names = [name for name, indexed, _ in filters if indexed is not None]
    if "subject" in names:  # always narrow: a student's events
        return [("subject",)]
    pair = ("actor", "action") if {"actor", "action"} <= set(names) else ()
    # on a tie (both probes full) the usually narrower comes first: denials, then the pair
    return ([("denied",)] if "denied" in names else []) + ([pair] if pair else []) + \
        [(name,) for name in names if name not in pair and name != "denied"]


def _driving(filters: list, window: list) -> tuple[str, ...]:
    """The filters whose index the page walks; every other filter is kept off the indexes.

    Each index (subject, actor, action, actor+action, denied, and occurred_at without any)
    holds its events in (occurred_at, id) order, so the newest matches come first and the
    walk stops after one page, with no sort.  Of several candidates the narrowest wins by a
    probe that counts at most PROBE_CAP index entries in the date window."""
    groups = _groups(filters)
    if len(groups) < 2:
        return groups[0] if groups else ()
    indexed = {name: condition for name, condition, _ in filters}
    counts = []
    for group in groups:
        probe = select(AuditEvent.id).where(*(indexed[n] for n in group), *window).limit(PROBE_CAP)
        counts.append(db.session.execute(select(func.count()).select_from(probe.subquery())).scalar())
    return min(zip(counts, range(len(groups)), groups))[2]


def _time_window(criteria: SearchCriteria, cursor: int | None, older: bool) -> list | None:
    """The date range and the cursor as conditions on (occurred_at, id), with one bound per
    side on occurred_at: SQLite bounds an index scan by a single condition on each side.
    None when the cursor event does not exist (start again from the newest page)."""
    ev = AuditEvent
    lower = kst_day_start_utc(criteria.start) if criteria.start else None  # inclusive
    upper = kst_day_start_utc(criteria.end + dt.timedelta(days=1)) if criteria.end else None  # exclusive
    conds = []
    if cursor is not None:
        at = db.session.execute(select(ev.occurred_at).where(ev.id == cursor)).scalar()
        if at is None:
            return None
        if older:
            conds.append(or_(ev.occurred_at < at, ev.id < cursor))
            if upper is None or at < upper:
                conds.append(ev.occurred_at <= at)
                upper = None
        else:
            conds.append(or_(ev.occurred_at > at, ev.id > cursor))
            if lower is None or at > lower:
                lower = at
    if lower is not None:
        conds.append(ev.occurred_at >= lower)
    if upper is not None:
        conds.append(ev.occurred_at < upper)
    return conds


def search_events(criteria: SearchCriteria, *, before: int | None = None, after: int | None = None,
                  limit: int = 50) -> EventPage:
    """One page of matching events, newest first (occurred_at, then id), by keyset: no total
    count, no OFFSET, and the database walks one index in page order and stops after the page.

    ``before`` shows the page of events older than that event id, ``after`` the page newer
    than it; one extra row fetched in the reading direction says whether another page exists.
    """
    ev = AuditEvent
    filters = _filters(criteria)
    cursor = after if after is not None else before
    window = _time_window(criteria, cursor, older=after is None)
    if window is None:  # a stale cursor: start again from the newest page
        after = before = None
        window = _time_window(criteria, None, older=True)
    driving = _driving(filters, _time_window(criteria, None, older=True))
    conds = [indexed if name in driving else plain for name, indexed, plain in filters]
    query = select(*SEARCH_COLUMNS).where(*conds, *window)
    order = (ev.occurred_at, ev.id)
    if after is not None:
        rows = db.session.execute(query.order_by(*(c.asc() for c in order)).limit(limit + 1)).all()
        # we came from the older page, so older events exist
        return EventPage(rows=rows[:limit][::-1], has_older=True, has_newer=len(rows) > limit)
    rows = db.session.execute(query.order_by(*(c.desc() for c in order)).limit(limit + 1)).all()
    return EventPage(rows=rows[:limit], has_older=len(rows) > limit, has_newer=before is not None)
