"""A settled month's access-review figures, stored once and read back.

The review aggregates a month of events: at Seoul scale about 375,000, close to a second each
time.  An auditor mostly reviews a month that has ended, and an ended month's figures can no
longer change: events are appended with the moment they happen, never updated (a retention
tombstone swaps one subject reference for another, one to one, so the distinct count holds).
So a settled month's per-user rows are stored once — by `flask audit summarise` (hourly, beside
`flask audit anchor`) or when the month is marked reviewed — and every review reads them back;
the page itself never writes them (a GET writes nothing but its audit event).  The current
month, the first hour after a month ends (a request begun before midnight may still append) and
a month not yet stored are aggregated live.  A purge of old events forgets the months it touched.
"""
from __future__ import annotations

import datetime as dt

from sqlalchemy import delete, func, insert, select
from sqlalchemy.exc import IntegrityError

from ..db import utcnow
from ..extensions import db
from . import access_review as ar
from .models import AuditEvent, AuditMonthSummary, AuditMonthUser
from .review import KST_OFFSET, kst_day_start_utc, next_month
from .services import record

#: a month is settled this long after it ends in Seoul
SETTLE_AFTER = dt.timedelta(hours=1)
FIGURES = ("events", "subjects", "exports", "denials", "after_hours")


def is_settled(first: dt.date, now: dt.datetime | None = None) -> bool:
    return (now or utcnow()) >= kst_day_start_utc(next_month(first)) + SETTLE_AFTER


def month_rows(first: dt.date) -> list[ar.AccessRow]:
    """The review rows of the month starting ``first``: the stored ones, else aggregated live."""
    if is_settled(first):
        stored = _stored(first.strftime("%Y-%m"))
        if stored is not None:
            return stored
    return ar.monthly_access_summary(first)


def store_month(first: dt.date, actor=None) -> bool:
    """Store a settled month's rows (audited, in the caller's transaction); False if the month
    is not settled or is stored already (also by a concurrent run a moment ago)."""
    key = first.strftime("%Y-%m")
    if not is_settled(first) or db.session.get(AuditMonthSummary, key) is not None:
        return False
    rows = ar.monthly_access_summary(first)
    try:
        with db.session.begin_nested():
            db.session.execute(insert(AuditMonthSummary).values(month=key, computed_at=utcnow(), users=len(rows)))
            if rows:
                db.session.execute(insert(AuditMonthUser), [
                    {"month": key, "actor_id": r.actor_id, "actor_login": r.login, "role": r.role,
                     **{f: getattr(r, f) for f in FIGURES}} for r in rows])
    except IntegrityError:
        return False  # stored by another run a moment ago: the same figures
    record("access_review_summarised", object_type="audit_review", object_id=key, actor=actor,
           details={"month": key, "users": len(rows)})
    return True


def settled_months_to_store() -> list[dt.date]:
    """Every settled month from the oldest event on that is not stored yet, oldest first."""
    oldest = db.session.execute(select(func.min(AuditEvent.occurred_at))).scalar()
    if oldest is None:
        return []
    stored = set(db.session.execute(select(AuditMonthSummary.month)).scalars())
    month, months = (oldest + KST_OFFSET).date().replace(day=1), []
    while is_settled(month):
        if month.strftime("%Y-%m") not in stored:
            months.append(month)
        month = next_month(month)
    return months


def _stored(key: str) -> list[ar.AccessRow] | None:
    if db.session.get(AuditMonthSummary, key) is None:
        return None
    # plain rows, not ORM objects: a busy month has ~10,000 users, and building that many
    # instances cost 0.3-1 s at Seoul scale where the tuples take a few ms
    columns = [AuditMonthUser.actor_id, AuditMonthUser.actor_login, AuditMonthUser.role,
               *(getattr(AuditMonthUser, f) for f in FIGURES)]
    rows = db.session.execute(select(*columns).where(AuditMonthUser.month == key).order_by(AuditMonthUser.id))
    return ar.flagged([ar.AccessRow(*row) for row in rows])


def forget_months_before(purged_before: dt.datetime) -> None:
    """Drop the stored months that began before ``purged_before`` (naive UTC): their events
    were purged, and a review of what is left is aggregated from what is left."""
    months = [m for m in db.session.execute(select(AuditMonthSummary.month)).scalars()
              if kst_day_start_utc(dt.date(int(m[:4]), int(m[5:]), 1)) < purged_before]
    if months:
        db.session.execute(delete(AuditMonthUser).where(AuditMonthUser.month.in_(months)))
        db.session.execute(delete(AuditMonthSummary).where(AuditMonthSummary.month.in_(months)))
