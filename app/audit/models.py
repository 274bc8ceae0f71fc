"""The append-only audit trail (접속기록) with its hash chain."""
from __future__ import annotations

import datetime as dt
from typing import Optional

from sqlalchemy import BigInteger, DateTime, ForeignKey, Index, Integer, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db

GENESIS_HASH = "0" * 64


class AuditEvent(db.Model):
    """One event.  Never updated or deleted (database triggers refuse both), except that a
    retention run may replace a sealed subject reference by its tombstone and nothing else."""

    __tablename__ = "audit_event"
    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    #: indexed by ix_audit_event_review, whose first column it is (0009)
    occurred_at: Mapped[dt.datetime] = mapped_column(DateTime, nullable=False)
    actor_id: Mapped[Optional[int]] = mapped_column(Integer)  # no FK: events outlive users
    actor_login: Mapped[Optional[str]] = mapped_column(String(64))
    role: Mapped[Optional[str]] = mapped_column(String(32))
    organisation_id: Mapped[Optional[int]] = mapped_column(Integer)
    ip: Mapped[Optional[str]] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(64), nullable=False)
    object_type: Mapped[Optional[str]] = mapped_column(String(40))
    object_id: Mapped[Optional[str]] = mapped_column(String(64))
    #: pseudonymous reference of the data subject (a student's uid), never a name; replaced by a
    #: retention tombstone ("retained:<uid>") when the student's data is deleted (app/audit/tombstones.py)
    subject_ref: Mapped[Optional[str]] = mapped_column(String(64))
    #: HMAC (128 bits, hex) of ["subject", subject_ref] under the event's audit key: the hash covers this seal in
    #: subject_ref's place, so a tombstone can replace the reference and the chain still verifies;
    #: verify checks that every reference that is not a tombstone still matches its seal.
    #: NULL for events without a subject and for events sealed before 0018 (they hash subject_ref)
    subject_seal: Mapped[Optional[str]] = mapped_column(String(64))
    outcome: Mapped[str] = mapped_column(String(10), nullable=False, default="allowed")
    reason: Mapped[Optional[str]] = mapped_column(Text)
    request_id: Mapped[Optional[str]] = mapped_column(String(64))
    #: canonical JSON of non-personal details
    details: Mapped[Optional[str]] = mapped_column(Text)
    prev_hash: Mapped[str] = mapped_column(String(64), nullable=False)
    #: HMAC-SHA256 under audit key ``key_id`` (SHA-256 for events before the keyed chain began)
    hash: Mapped[str] = mapped_column(String(64), nullable=False)
    #: the key ring's audit key that sealed this event; NULL only before the switch (re-seal)
    key_id: Mapped[Optional[str]] = mapped_column(String(32))

    # auditor searches filter by one of these and read newest first within a time range, so each
    # index ends in occurred_at (SQLite appends the rowid: pages come in (occurred_at, id) order
    # without a sort); denials are rare and get a partial index of their own; an actor and an
    # action together have their own (app/audit/review.py keeps both indexable then)
    __table_args__ = (
        Index("ix_audit_event_actor_time", "actor_id", "occurred_at"),
        Index("ix_audit_event_action_time", "action", "occurred_at"),
        Index("ix_audit_event_subject_time", "subject_ref", "occurred_at"),
        Index("ix_audit_event_actor_action_time", "actor_id", "action", "occurred_at"),
        Index("ix_audit_event_denied_time", "occurred_at", sqlite_where=text("outcome = 'denied'"),
              postgresql_where=text("outcome = 'denied'")),
        # the monthly access review reads only these columns: answered from the index alone
        Index("ix_audit_event_review", "occurred_at", "id", "actor_id", "subject_ref", "action", "outcome"),
        # the few events with a reason (overrides, exports, reviews): the override list reads only these
        Index("ix_audit_event_reasoned", "action", "occurred_at", sqlite_where=text("reason IS NOT NULL"),
              postgresql_where=text("reason IS NOT NULL")),
        # verify's check that SHA-256 (unkeyed) events only form a prefix, without a full scan
        Index("ix_audit_event_unkeyed", "id", sqlite_where=text("key_id IS NULL"),
              postgresql_where=text("key_id IS NULL")),
        # verify reads each distinct (reference, seal, key) in order from here, without a sort
        Index("ix_audit_event_subject_seal", "subject_ref", "subject_seal", "key_id",
              sqlite_where=text("subject_seal IS NOT NULL"), postgresql_where=text("subject_seal IS NOT NULL")),
        # ids are never reused on SQLite, even after the newest rows of a purge are gone
        {"sqlite_autoincrement": True},
    )

    #: the fields the hash covers, in order (subject_ref's slot holds subject_seal when there is one)
    HASHED_FIELDS = ("occurred_at", "actor_id", "actor_login", "role", "organisation_id", "ip",
                     "action", "object_type", "object_id", "subject_ref", "outcome", "reason",
                     "request_id", "details")


class AuditCheckpoint(db.Model):
    """A retention purge: events up to ``last_event_id`` were removed, and the chain of the
    remaining events starts from ``last_event_hash``.  Triggers let DELETE touch only events
    a checkpoint covers, and refuse UPDATE and DELETE on checkpoints themselves."""

    __tablename__ = "audit_checkpoint"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, nullable=False)
    #: events that occurred before this instant were purged
    purged_before: Mapped[dt.datetime] = mapped_column(DateTime, nullable=False)
    last_event_id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), nullable=False)
    #: hash of the last purged event: the prev_hash the first remaining event must carry
    last_event_hash: Mapped[str] = mapped_column(String(64), nullable=False)
    events_removed: Mapped[int] = mapped_column(Integer, nullable=False)
    actor_login: Mapped[Optional[str]] = mapped_column(String(64))
    #: audit key and HMAC over (id-free) checkpoint fields: a row inserted without the key is forged
    key_id: Mapped[Optional[str]] = mapped_column(String(32))
    signature: Mapped[Optional[str]] = mapped_column(String(64))


class AuditReview(db.Model):
    """An auditor's mark that one month's access records were reviewed (접속기록 점검)."""

    __tablename__ = "audit_review"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    #: the reviewed month, 'YYYY-MM' (KST)
    month: Mapped[str] = mapped_column(String(7), unique=True, nullable=False)
    reviewer_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), nullable=False)
    reviewed_at: Mapped[dt.datetime] = mapped_column(DateTime, nullable=False)
    comment: Mapped[str] = mapped_column(Text, nullable=False)


class AuditMonthSummary(db.Model):
    """A settled month's access-review figures were stored (once, by the first review of it).

    A month's events never change once it has ended (events are appended with the time they
    happen; a tombstone keeps one reference per subject), so its per-user figures are read back
    instead of aggregated again over hundreds of thousands of events (app/audit/review_totals.py)."""

    __tablename__ = "audit_month_summary"
    #: the KST month, 'YYYY-MM'
    month: Mapped[str] = mapped_column(String(7), primary_key=True)
    computed_at: Mapped[dt.datetime] = mapped_column(DateTime, nullable=False)
    users: Mapped[int] = mapped_column(Integer, nullable=False)


class AuditMonthUser(db.Model):
    """One user's figures in a stored month (actor_id NULL: events without a signed-in user)."""

    __tablename__ = "audit_month_user"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    month: Mapped[str] = mapped_column(ForeignKey("audit_month_summary.month", ondelete="CASCADE"),
                                       nullable=False, index=True)
    actor_id: Mapped[Optional[int]] = mapped_column(Integer)  # no FK: events outlive users
    actor_login: Mapped[Optional[str]] = mapped_column(String(64))
    role: Mapped[Optional[str]] = mapped_column(String(32))
    events: Mapped[int] = mapped_column(Integer, nullable=False)
    subjects: Mapped[int] = mapped_column(Integer, nullable=False)
    exports: Mapped[int] = mapped_column(Integer, nullable=False)
    denials: Mapped[int] = mapped_column(Integer, nullable=False)
    after_hours: Mapped[int] = mapped_column(Integer, nullable=False)
