"""The state one ``flask demo scale`` run carries from phase to phase."""
from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass, field
from typing import Any

from .rows import Writer, make_uid

#: Seoul scale (DESIGN.md "Performance targets"), multiplied by --scale
SEOUL = {"schools": 1_400, "students": 60_000, "guardians": 3_000, "agencies": 1_500, "referrals": 150_000,
         "conferences": 40_000, "audit_events": 5_000_000}
#: how far back the data goes (the audit trail's retention is two years)
HISTORY_DAYS = 730


@dataclass
class School:
    id: int
    uid: str
    gu_id: int
    gu_name: str
    office: str
    level: str
    weight: float


@dataclass
class Case:
    """What later phases need to know of one generated support case."""
    id: int
    uid: str
    school_id: int
    office: str
    student_id: int
    student_uid: str
    status: str
    requested_on: dt.date
    #: the last day the case was active (closed_on, or today)
    until: dt.date
    owner_id: int
    lead_id: int
    #: both parties' consent in force today for guardian matching / conference sharing
    consented: bool = False
    #: consents were given on this day (None: no consent)
    consent_on: dt.date | None = None
    #: agencies the consents name for referrals (chosen before the consents are written)
    agencies: list[int] = field(default_factory=list)
    #: a consent of this case was withdrawn on this day
    withdrawn_on: dt.date | None = None
    risk: str = "general"
    student_name: str = ""
    need_domains: list[str] = field(default_factory=list)
    first_need_id: int | None = None


@dataclass
class Build:
    scale: float
    seed: int
    password: str
    conn: Any
    ring: Any
    session: Any
    now: dt.datetime
    today: dt.date
    rng: random.Random = None
    writer: Writer = None
    offices: dict[str, int] = field(default_factory=dict)
    city_id: int = 0
    gus: list[tuple[int, str, str]] = field(default_factory=list)
    schools: list[School] = field(default_factory=list)
    #: agency id -> (uid, kind, gu id); ``agency_weights`` the Zipf weights in the same order
    agencies: dict[int, tuple[str, str, int]] = field(default_factory=dict)
    agency_ids: list[int] = field(default_factory=list)
    agency_weights: list[float] = field(default_factory=list)
    agency_services: dict[int, list[int]] = field(default_factory=dict)
    #: user id -> (login, role, organisation id, uid)
    users: dict[int, tuple[str, str, int | None, str]] = field(default_factory=dict)
    staff: dict[int, list[int]] = field(default_factory=dict)
    leads: dict[int, int] = field(default_factory=dict)
    coordinators: dict[str, list[int]] = field(default_factory=dict)
    agency_users: dict[int, list[int]] = field(default_factory=dict)
    auditors: list[int] = field(default_factory=list)
    admins: list[int] = field(default_factory=list)
    totp: dict[int, str] = field(default_factory=dict)
    cases: list[Case] = field(default_factory=list)
    #: guardian id -> [uid, office, user id or None, capacity, active assignments]
    guardians: dict[int, list] = field(default_factory=dict)
    #: assignment id -> (uid, case, guardian user id, day it started)
    assignments: dict[int, tuple] = field(default_factory=dict)
    #: referral id -> (uid, case, agency id, status, day sent or None)
    referrals: dict[int, tuple] = field(default_factory=dict)
    #: (day ordinal, (conference uid, an organiser-side user id)) per conference
    conference_days: list[tuple] = field(default_factory=list)
    #: audit events of things that happened: (occurred_at, actor id, action, object type, object id,
    #: subject uid, details)
    lifecycle: list[tuple] = field(default_factory=list)
    #: case id -> chronology lines written
    chronology_lines: dict[int, int] = field(default_factory=dict)
    accounts: Any = None
    counts: dict[str, int] = field(default_factory=dict)
    chain: Any = None

    def __post_init__(self) -> None:
        self.rng = random.Random(self.seed)
        self.writer = Writer(self)

    def commit(self) -> None:
        """End this phase's transaction and carry on in a new one on the same connection."""
        self.writer.flush()
        self.session.commit()
        self.conn = self.session.connection()
        self.tune()

    def tune(self) -> None:
        if self.conn.dialect.name == "sqlite":  # this connection only, for the build
            self.conn.exec_driver_sql("PRAGMA cache_size=-1048576")  # 1 GiB
            self.conn.exec_driver_sql("PRAGMA temp_store=MEMORY")

    def n(self, what: str, minimum: int = 1) -> int:
        return max(minimum, round(SEOUL[what] * self.scale))

    def uid(self) -> str:
        return make_uid(self.rng)

    def day_ago(self, days: int) -> dt.date:
        return self.today - dt.timedelta(days=days)

    def at(self, day: dt.date, hour: int | None = None) -> dt.datetime:
        """A naive UTC moment on a KST working day: 09:00–18:00 Seoul time unless ``hour``."""
        rng = self.rng
        if day.weekday() >= 5 and rng.random() < 0.9:  # offices work on weekdays: Saturday's on Friday,
            day += dt.timedelta(days=-1 if day.weekday() == 5 else 1)  # Sunday's on Monday
        hour = rng.randrange(9, 18) if hour is None else hour
        moment = dt.datetime(day.year, day.month, day.day, hour, rng.randrange(60), rng.randrange(60),
                             rng.randrange(1_000_000)) - dt.timedelta(hours=9)
        if moment >= self.now:  # today's office hours have not come yet: yesterday's
            moment -= dt.timedelta(days=1)
        return min(moment, self.now - dt.timedelta(minutes=5))

    def clamp(self, moment: dt.datetime) -> dt.datetime:
        """Nothing happened after the build started."""
        return min(moment, self.now - dt.timedelta(minutes=1))

    def audit(self, when: dt.datetime, actor_id: int | None, action: str, object_type: str | None,
              object_id: str | None, subject: str | None = None, details: dict | None = None) -> None:
        when = min(when, self.now - dt.timedelta(minutes=1))
        self.lifecycle.append((when, actor_id, action, object_type, object_id, subject, details))
