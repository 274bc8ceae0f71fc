"""The monthly access review (접속기록 점검, 개인정보의 안전성 확보조치 기준 제8조): per user and
month, how much they read, how many data subjects, exports, denials and after-hours events, and
who needs a look; the auditor marks a finished month reviewed."""
from __future__ import annotations

import datetime as dt
import statistics
from dataclasses import dataclass

from flask_babel import gettext as _
from sqlalchemy import DateTime, case, column, distinct, extract, func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import aliased
from sqlalchemy.sql.expression import TableClause

from ..auth.models import User
from ..db import utcnow
from ..domain import DomainError
from ..extensions import db
from .models import AuditEvent, AuditReview
from .review import current_month, kst_day_start_utc, month_label, next_month, parse_month
from .services import record

#: office hours in KST: events from 07:00 up to 21:00 are inside them
OFFICE_START_HOUR, OFFICE_END_HOUR = 7, 21
#: unusual volume: more than max(VOLUME_FACTOR × the month's median per-user count, VOLUME_FLOOR)
VOLUME_FACTOR, VOLUME_FLOOR = 3, 200
EXPORT_ACTIONS_EXACT = ("audit_exported",)
EXPORT_ACTION_SUFFIXES = ("_exported", "_downloaded")


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


class IndexedBy(TableClause):
    """A table read through a named index on SQLite (``FROM t INDEXED BY ix``), plain elsewhere.

    The month's aggregate must read the covering review index; which index SQLite's planner
    picks depends on the statistics ANALYZE last wrote (after one upgrade it chose a skip-scan
    of (action, occurred_at) and the review took 1.4 s instead of 0.6 s)."""

    inherit_cache = True

    def __init__(self, name: str, index: str, *columns) -> None:
        super().__init__(name, *columns)
        self.index = index


@compiles(IndexedBy)
def _plain_table(element, compiler, **kw):
    return compiler.visit_table(element, **kw)


@compiles(IndexedBy, "sqlite")
def _sqlite_indexed_table(element, compiler, **kw):
    text = compiler.visit_table(element, **kw)
    return f"{text} INDEXED BY {element.index}" if kw.get("asfrom") else text


#: the columns of ix_audit_event_review, the only ones the month's aggregate reads
REVIEW_SLICE = IndexedBy("audit_event", "ix_audit_event_review", column("occurred_at", DateTime), column("id"),
                         column("actor_id"), column("subject_ref"), column("action"), column("outcome"))


def _after_hours_utc(events=AuditEvent):
    """KST office hours (07:00–20:59) are UTC hours 22–23 and 0–11, so after hours is UTC hours
    12–21; both SQLite and PostgreSQL extract the hour of the stored UTC time the same way."""
    start = (OFFICE_END_HOUR - 9) % 24   # 21 KST -> 12 UTC
    end = (OFFICE_START_HOUR - 9) % 24   # 07 KST -> 22 UTC (exclusive)
    return extract("hour", events.occurred_at).between(start, end - 1)


def _is_export(events=AuditEvent):
    # '_' is a LIKE wildcard: escape it so only the literal suffix matches
    return or_(events.action.in_(EXPORT_ACTIONS_EXACT),
               *(events.action.like("%" + suffix.replace("_", "!_"), escape="!")
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
    ev, newest = REVIEW_SLICE.c, aliased(AuditEvent)
    # grouped by an expression, not the bare column: grouping by actor_id let SQLite walk the
    # (actor_id, occurred_at) index for its order and read 600,000 table rows at random (2.3 s);
    # the month's slice of the covering index (named: see IndexedBy) is read and sorted instead
    actor = (ev.actor_id + 0).label("actor_id")
    stats = (select(actor, func.max(ev.id).label("last_id"), func.count().label("events"),
                    func.count(distinct(ev.subject_ref)).label("subjects"),
                    _count_where(_is_export(ev)).label("exports"),
                    _count_where(ev.outcome == "denied").label("denials"),
                    _count_where(_after_hours_utc(ev)).label("after_hours"))
             .select_from(REVIEW_SLICE)
             .where(ev.occurred_at >= start, ev.occurred_at < end)
             .group_by(actor).subquery())
    query = (select(stats.c.actor_id, newest.actor_login, newest.role, stats.c.events, stats.c.subjects,
                    stats.c.exports, stats.c.denials, stats.c.after_hours)
             .join(newest, newest.id == stats.c.last_id))
    return flagged([AccessRow(actor_id, login, role, int(n), int(subjects), int(exports or 0),
                              int(denials or 0), int(after or 0))
                    for actor_id, login, role, n, subjects, exports, denials, after in db.session.execute(query)])


def flagged(rows: list[AccessRow]) -> list[AccessRow]:
    """The rows with the month's unusual-volume flag set, flagged and busiest users first."""
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
        raise DomainError(_("점검 의견을 입력해 주세요."), "comment")
    first = parse_month(month)
    key = first.strftime("%Y-%m")
    if first > current_month():
        raise DomainError(_("아직 오지 않은 달은 점검할 수 없습니다."), "month")
    if first == current_month():
        raise DomainError(_("이번 달은 끝난 뒤에 점검 완료로 표시할 수 있습니다."), "month")
    if review_for(key) is not None:
        raise DomainError(_("%(month)s은 이미 점검 완료로 표시되었습니다.", month=month_label(first)), "month")
    review = AuditReview(month=key, reviewer_id=actor.id, reviewed_at=utcnow(), comment=comment)
    try:
        with db.session.begin_nested():  # a concurrent mark of the same month loses cleanly
            db.session.add(review)
    except IntegrityError:
        raise DomainError(_("%(month)s은 이미 점검 완료로 표시되었습니다.", month=month_label(first)),
                          "month") from None
    record("access_review_marked", obj=review, actor=actor, reason=comment, details={"month": key})
    return review
