"""The auditor's tools: event search and the monthly access review (접속기록 점검)."""
from __future__ import annotations

import datetime as dt
import re
import statistics
from dataclasses import dataclass, field

from sqlalchemy import case, distinct, extract, func, or_, select
from sqlalchemy.exc import IntegrityError

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
#: an action with at least this many events is walked in time order rather than sorted
COMMON_ACTION = 5000
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


def _action_condition(action: str, by_time: bool):
    """``action = ?``, kept off the action index on SQLite when a time-ordered page would
    otherwise sort every event of a common action (SQLite keeps no statistics to know)."""
    condition = AuditEvent.action == action
    if by_time and db.session.get_bind().dialect.name == "sqlite":
        probe = select(AuditEvent.id).where(condition).limit(COMMON_ACTION).subquery()
        if db.session.execute(select(func.count()).select_from(probe)).scalar() >= COMMON_ACTION:
            return AuditEvent.action.concat("") == action  # an expression: the time index leads
    return condition


def _conditions(criteria: SearchCriteria, by_time: bool) -> list:
    """Every filter but the date range, which _time_window combines with the page cursor."""
    conds = []
    if criteria.actor:
        # resolve the login first so the query filters on the indexed actor_id
        user_id = db.session.execute(select(User.id).filter_by(login=criteria.actor.strip())).scalar()
        if user_id is None:
            raise DomainError("그 아이디의 사용자가 없습니다.", "actor")
        conds.append(AuditEvent.actor_id == user_id)
    if criteria.action:
        conds.append(_action_condition(criteria.action.strip(), by_time))
    if criteria.subject:
        conds.append(AuditEvent.subject_ref == criteria.subject.strip())
    if criteria.outcome:
        conds.append(AuditEvent.outcome == criteria.outcome)
    return conds


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


def _page_order(criteria: SearchCriteria) -> str:
    """How to reach the newest matching events without sorting many rows.

    An actor or a date range: (occurred_at, id), as the (actor_id, occurred_at) and occurred_at
    indexes deliver it.  Otherwise id, as the action and subject indexes deliver it on SQLite;
    on PostgreSQL ``id + 0`` makes the subject index find a student's few events to sort,
    rather than walk the primary key backwards hoping to meet them.  Both are newest first:
    occurred_at is read under the chain lock, so it grows with id.
    """
    if criteria.subject:
        return "subject"
    return "time" if criteria.actor or criteria.start or criteria.end else "id"


def search_events(criteria: SearchCriteria, *, before: int | None = None, after: int | None = None,
                  limit: int = 50) -> EventPage:
    """One page of matching events, newest first, by keyset (no total count).

    ``before`` shows the page of events older than that event id, ``after`` the page newer
    than it; one extra row fetched in the reading direction says whether another page exists.
    """
    ev = AuditEvent
    mode = _page_order(criteria)
    conds = _conditions(criteria, by_time=mode == "time")
    cursor = after if after is not None else before
    if mode == "time":
        order = (ev.occurred_at, ev.id)
        window = _time_window(criteria, cursor, older=after is None)
        if window is None:  # a stale cursor: start again from the newest page
            after = before = None
            window = _time_window(criteria, None, older=True)
        conds += window
    else:
        fence = mode == "subject" and db.session.get_bind().dialect.name == "postgresql"
        order = (ev.id + 0,) if fence else (ev.id,)
        conds += _time_window(criteria, None, older=True)
        if cursor is not None:
            conds.append(ev.id > cursor if after is not None else ev.id < cursor)
    query = select(*SEARCH_COLUMNS).where(*conds)
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
    after-hours events, and the unusual-volume flag; flagged and busiest users first."""
    first = month if isinstance(month, dt.date) else parse_month(month)
    start, end = kst_day_start_utc(first), kst_day_start_utc(next_month(first))
    query = (select(AuditEvent.actor_id, func.max(AuditEvent.actor_login), func.max(AuditEvent.role),
                    func.count(AuditEvent.id), func.count(distinct(AuditEvent.subject_ref)),
                    _count_where(_is_export()), _count_where(AuditEvent.outcome == "denied"),
                    _count_where(_after_hours_utc()))
             .where(AuditEvent.occurred_at >= start, AuditEvent.occurred_at < end)
             .group_by(AuditEvent.actor_id))
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
