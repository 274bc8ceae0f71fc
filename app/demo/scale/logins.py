"""``<instance>/scale-logins.json`` (mode 0600): one login per role, chosen among the busiest,
and the ids the benchmark builds its URLs from (the contract in scripts/bench's brief)."""
from __future__ import annotations

import json
import os
import datetime as dt
from collections import Counter
from pathlib import Path

from flask import current_app

from ...permissions import (ADMIN, AGENCY_COORDINATOR, AUDITOR, DISTRICT_COORDINATOR, GUARDIAN, SCHOOL_LEAD,
                            SCHOOL_STAFF)
from .build import Build

FILE_NAME = "scale-logins.json"
OPEN_REFERRALS = ("sent", "accepted", "in_service")
#: the lead whose school takes the benchmark's class-list imports (2,000 new students a run)
IMPORTER = "importer"


def _quiet_school(b: Build, per_school: Counter, office: str) -> int:
    """A school outside the measured office with the fewest cases: the benchmark's imports grow
    it, and no measured page counts its students (importing into the measured school made every
    run's lead home slower than the last)."""
    others = [s for s in b.schools if s.office != office] or b.schools
    return min(others, key=lambda s: (per_school.get(s.id, 0), s.id)).id


def _pick(b: Build) -> tuple[dict, dict]:
    per_school = Counter(c.school_id for c in b.cases)
    school = per_school.most_common(1)[0][0]
    per_office = Counter(c.office for c in b.cases)
    office = per_office.most_common(1)[0][0]
    per_agency = Counter(agency for _uid, _case, agency, _status, _sent in b.referrals.values())
    agency = per_agency.most_common(1)[0][0] if per_agency else b.agency_ids[0]
    owners = Counter(c.owner_id for c in b.cases if c.school_id == school)
    full = [(info[3], gid) for gid, info in b.guardians.items() if info[2] and info[4] >= info[3]]
    some = [(info[4], gid) for gid, info in b.guardians.items() if info[2]]
    guardian = max(full or some)[1]
    users = {SCHOOL_STAFF: owners.most_common(1)[0][0], SCHOOL_LEAD: b.leads[school],
             DISTRICT_COORDINATOR: b.coordinators[office][0], GUARDIAN: b.guardians[guardian][2],
             AGENCY_COORDINATOR: b.agency_users[agency][0], AUDITOR: b.auditors[0], ADMIN: b.admins[0],
             IMPORTER: b.leads[_quiet_school(b, per_school, office)]}
    chron = b.chronology_lines
    school_cases = [c for c in b.cases if c.school_id == school]
    longest = max(school_cases, key=lambda c: chron.get(c.id, 0))
    district = next((c for c in b.cases if c.office == office and c.status == "in_support"), None) or next(
        c for c in b.cases if c.office == office)
    referral = next((uid for uid, _case, a, status, _sent in b.referrals.values()
                     if a == agency and status in OPEN_REFERRALS), None)
    chain = b.chain
    students = {c.student_uid for c in b.cases}
    subject = next((s for s, _n in chain.subjects.most_common() if s in students), None)
    actor = next((a for a, _n in chain.actors.most_common() if b.users[a][1] not in (AUDITOR, ADMIN)), None)
    weekdays = sorted((n, day) for day, n in chain.days.items()
                      if day.weekday() < 5 and 7 <= (b.today - day).days <= 90)
    audit_day = weekdays[len(weekdays) // 2][1] if weekdays else b.today
    first_of_month = b.today.replace(day=1)
    previous = (first_of_month - dt.timedelta(days=1)).replace(day=1)
    targets = {"case_long_chronology": longest.uid, "case_district": district.uid, "referral_busiest": referral,
               "student_subject": subject, "actor_login": b.users[actor][0] if actor else None,
               "audit_day": audit_day.isoformat(), "review_month": previous.strftime("%Y-%m")}
    return users, targets


def write(b: Build) -> dict:
    users, targets = _pick(b)
    data = {"scale": b.scale, "seed": b.seed, "password": b.password,
            "users": {role: {"login": b.users[user_id][0], "totp_secret": b.totp.get(user_id)}
                      for role, user_id in users.items()},
            "targets": targets}
    path = Path(current_app.instance_path) / FILE_NAME
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        json.dump(data, fh, ensure_ascii=False, indent=2)
    os.chmod(path, 0o600)
    data["path"] = str(path)
    return data
