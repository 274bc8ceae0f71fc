"""The auditor's tools: event search and the monthly access review (접속기록 점검)."""
from __future__ import annotations

import datetime as dt
import re
import statistics
from dataclasses import dataclass, field

from sqlalchemy import case, distinct, extract, func, literal_column, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import aliased

from ..auth.models import User
from ..db import today_kst, utcnow
from ..domain import DomainError
from ..extensions import db
from .models import AuditEvent, AuditReview
from .services import record

KST_OFFSET = dt.timedelta(hours=9)
#: office hours in KST: events from 07:00 up to 21:00 are inside them
OFFICE_START_HOUR, OFFICE_END_HOUR = 7, 21
#: unusual volume: more than max(VOLUME_FACTOR × the month's median per-user count, VOLUME_FLOOR)
VOLUME_FACTOR, VOLUME_FLOOR = 3, 200
EXPORT_ACTIONS_EXACT = ("audit_exported",)
EXPORT_ACTION_SUFFIXES = ("_exported", "_downloaded")
_MONTH = re.compile(r"^(\d{4})-(\d{2})$")


def kst_day_start_utc(day: dt.date) -> dt.datetime:
    """The naive-UTC instant at which ``day`` begins in Seoul."""
    return dt.datetime.combine(day, dt.time()) - KST_OFFSET


def parse_month(text: str | None) -> dt.date:
    """'YYYY-MM' -> the first day of that month, or DomainError on the 'month' field."""
    match = _MONTH.match((text or "").strip())
    if not match or not 1 <= int(match.group(2)) <= 12 or int(match.group(1)) < 2000:
        raise DomainError("점검할 달을 YYYY-MM 형식(예: 2026-03)으로 입력해 주세요.", "month")
    return dt.date(int(match.group(1)), int(match.group(2)), 1)


def next_month(first: dt.date) -> dt.date:
    return dt.date(first.year + first.month // 12, first.month % 12 + 1, 1)


def previous_month(first: dt.date) -> dt.date:
    return (first - dt.timedelta(days=1)).replace(day=1)


def current_month() -> dt.date:
    return today_kst().replace(day=1)


def month_label(first: dt.date) -> str:
    return f"{first.year}년 {first.month}월"



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
            raise DomainError("그 아이디의 사용자가 없습니다.", "actor")
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


@dataclass
class AccessRow:
    """One user's access in a month; actor_id None gathers events without a logged-in user."""

    actor_id: int | None
    login: str | None
    role: str | None
    events: int
    subjects: int
    exports: int
    denials: int
    after_hours: int
    unusual: bool = False

    @property
    def needs_attention(self) -> bool:
        return bool(self.unusual or self.exports or self.denials or self.after_hours)


@dataclass
class VolumeRule:
    median: float
    threshold: float


def _after_hours_utc():
    """KST office hours (07:00–20:59) are UTC hours 22–23 and 0–11, so after hours is UTC hours
    12–21; both SQLite and PostgreSQL extract the hour of the stored UTC time the same way."""
    start = (OFFICE_END_HOUR - 9) % 24   # 21 KST -> 12 UTC
    end = (OFFICE_START_HOUR - 9) % 24   # 07 KST -> 22 UTC (exclusive)
    return extract("hour", AuditEvent.occurred_at).between(start, end - 1)


def _is_export():
    # '_' is a LIKE wildcard: escape it so only the literal suffix matches
    return or_(AuditEvent.action.in_(EXPORT_ACTIONS_EXACT),
               *(AuditEvent.action.like("%" + suffix.replace("_", "!_"), escape="!")
                 for suffix in EXPORT_ACTION_SUFFIXES))


def _count_where(condition):
    return func.sum(case((condition, 1), else_=0))


def volume_rule(rows: list[AccessRow]) -> VolumeRule:
    """The month's unusual-volume threshold: max(3 × median per-user count, 200)."""
    counts = [r.events for r in rows if r.actor_id is not None]
    median = statistics.median(counts) if counts else 0
    return VolumeRule(median=median, threshold=max(VOLUME_FACTOR * median, VOLUME_FLOOR))


def monthly_access_summary(month: str | dt.date) -> list[AccessRow]:
    """Per user for a KST month, in one GROUP BY query: events, subjects, exports, denials,
    after-hours events, and the unusual-volume flag; flagged and busiest users first.

    The aggregate reads only columns of the (occurred_at, id, actor_id, subject_ref,
    action, outcome) index, so the database answers it from that index alone (no table rows);
    each user's login and role are those of their newest event of the month, read by id."""
    first = month if isinstance(month, dt.date) else parse_month(month)
    start, end = kst_day_start_utc(first), kst_day_start_utc(next_month(first))
    ev, newest = AuditEvent, aliased(AuditEvent)
    # grouped by an expression, not the bare column: grouping by actor_id let SQLite walk the
    # (actor_id, occurred_at) index for its order and read 600,000 table rows at random (2.3 s);
    # by the expression it reads the month's slice of the covering index and sorts (0.7 s)
    actor = (ev.actor_id + 0).label("actor_id")
    stats = (select(actor, func.max(ev.id).label("last_id"), func.count().label("events"),
                    func.count(distinct(ev.subject_ref)).label("subjects"),
                    _count_where(_is_export()).label("exports"),
                    _count_where(ev.outcome == "denied").label("denials"),
                    _count_where(_after_hours_utc()).label("after_hours"))
             .where(ev.occurred_at >= start, ev.occurred_at < end)
             .group_by(actor).subquery())
    query = (select(stats.c.actor_id, newest.actor_login, newest.role, stats.c.events, stats.c.subjects,
                    stats.c.exports, stats.c.denials, stats.c.after_hours)
             .join(newest, newest.id == stats.c.last_id))
    rows = [AccessRow(actor_id, login, role, int(n), int(subjects), int(exports or 0),
                      int(denials or 0), int(after or 0))
            for actor_id, login, role, n, subjects, exports, denials, after in db.session.execute(query)]
    rule = volume_rule(rows)
    for row in rows:
        row.unusual = row.events > rule.threshold
    rows.sort(key=lambda r: (not r.unusual, not r.needs_attention, -r.events, r.login or ""))
    return rows


def review_for(month: str | dt.date) -> AuditReview | None:
    """The review mark of a month, if any."""
    key = month.strftime("%Y-%m") if isinstance(month, dt.date) else month
    return db.session.execute(select(AuditReview).filter_by(month=key)).scalar_one_or_none()


def reviewer_login(review: AuditReview | None) -> str | None:
    """The reviewer's login (never their encrypted name)."""
    return review and db.session.execute(select(User.login).filter_by(id=review.reviewer_id)).scalar()


def mark_month_reviewed(month: str, comment: str, actor) -> AuditReview:
    """Mark a finished month's access records reviewed, audited in the same transaction."""
    comment = (comment or "").strip()
    if not comment:
        raise DomainError("점검 의견을 입력해 주세요.", "comment")
    first = parse_month(month)
    key = first.strftime("%Y-%m")
    if first > current_month():
        raise DomainError("아직 오지 않은 달은 점검할 수 없습니다.", "month")
    if first == current_month():
        raise DomainError("이번 달은 끝난 뒤에 점검 완료로 표시할 수 있습니다.", "month")
    if review_for(key) is not None:
        raise DomainError(f"{month_label(first)}은 이미 점검 완료로 표시되었습니다.", "month")
    review = AuditReview(month=key, reviewer_id=actor.id, reviewed_at=utcnow(), comment=comment)
    try:
        with db.session.begin_nested():  # a concurrent mark of the same month loses cleanly
            db.session.add(review)
    except IntegrityError:
        raise DomainError(f"{month_label(first)}은 이미 점검 완료로 표시되었습니다.", "month") from None
    record("access_review_marked", obj=review, actor=actor, reason=comment, details={"month": key})
    return review
