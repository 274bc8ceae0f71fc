"""The everyday reads of the trail: who looked at what, always something that existed that day
and that the reader's role may open (a school its cases, a coordinator its office's, an agency
its referrals, a guardian their assignments)."""
from __future__ import annotations

import datetime as dt
from bisect import bisect_right
from itertools import accumulate

from .build import Build

#: action -> share of the everyday reads
MIX = (("case_viewed", 0.55), ("home_viewed", 0.12), ("case_list_viewed", 0.07), ("login", 0.05),
       ("student_viewed", 0.04), ("referral_viewed", 0.04), ("referral_inbox_viewed", 0.03),
       ("logout", 0.02), ("guardian_assignment_viewed", 0.02), ("conference_minutes_viewed", 0.015),
       ("guardian_viewed", 0.015), ("notification_list_viewed", 0.01), ("audit_searched", 0.005),
       ("login_failed", 0.004), ("permission_denied", 0.003))
#: share of case views that are the district coordinator's (the rest: the school team's)
COORDINATOR_SHARE = 0.2
#: share of case views that go to the one case everybody looks at (the auditor's subject search)
HOT_SHARE = 0.004


class Pool:
    """Items with the day they came to exist, for 'one that existed on day d' in O(log n)."""

    def __init__(self, items: list[tuple[int, object]]) -> None:
        items.sort(key=lambda pair: pair[0])
        self.days = [d for d, _ in items]
        self.items = [i for _, i in items]

    def pick(self, rng, day: int):
        """One that existed on ``day``, recent ones far likelier (the open cases get read)."""
        k = bisect_right(self.days, day)
        return self.items[k - 1 - int(k * rng.random() ** 2)] if k else None


class Views:
    def __init__(self, b: Build) -> None:
        self.b, self.rng = b, b.rng
        self.actions = [a for a, _ in MIX]
        self.cum = list(accumulate(w for _, w in MIX))
        by_school: dict[int, list] = {}
        by_office: dict[str, list] = {}
        for case in b.cases:
            item = (case.requested_on.toordinal(), case)
            by_school.setdefault(case.school_id, []).append(item)
            by_office.setdefault(case.office, []).append(item)
        self.school_ids = list(by_school)
        self.school_cum = list(accumulate(len(by_school[s]) for s in self.school_ids))
        self.schools = {s: Pool(items) for s, items in by_school.items()}
        self.office_codes = list(by_office)
        self.office_cum = list(accumulate(len(by_office[o]) for o in self.office_codes))
        self.offices = {o: Pool(items) for o, items in by_office.items()}
        by_agency: dict[int, list] = {}
        for ref_id, (uid, case, agency_id, _status, sent_day) in b.referrals.items():
            if sent_day is not None:
                by_agency.setdefault(agency_id, []).append((sent_day.toordinal(), (uid, case)))
        self.agency_ids = list(by_agency)
        self.agency_cum = list(accumulate(len(by_agency[a]) for a in self.agency_ids))
        self.agencies = {a: Pool(items) for a, items in by_agency.items()}
        self.assignments = Pool([(day.toordinal(), (uid, case, user_id))
                                 for uid, case, user_id, day in b.assignments.values() if user_id])
        self.guardians: dict[str, list[str]] = {}
        for info in b.guardians.values():
            self.guardians.setdefault(info[1], []).append(info[0])
        self.guardian_offices = sorted(self.guardians)
        self.conferences = Pool(list(b.conference_days))
        self.users = list(b.users)
        # the case with the longest chronology is also the one most read
        self.hot = max(b.cases, key=lambda c: b.chronology_lines.get(c.id, 0)) if b.cases else None

    def _weighted(self, keys, cum):
        return keys[bisect_right(cum, self.rng.random() * cum[-1])]

    def _school_case(self, day: int):
        school = self._weighted(self.school_ids, self.school_cum)
        return self.schools[school].pick(self.rng, day), school

    def one(self, day: dt.date) -> tuple:
        """(actor id, action, object type, object id, subject, details[, outcome]) of one read."""
        rng, b = self.rng, self.b
        action = self.actions[bisect_right(self.cum, rng.random() * self.cum[-1])]
        ordinal = day.toordinal()
        if action in ("case_viewed", "student_viewed", "case_list_viewed"):
            if rng.random() < COORDINATOR_SHARE:
                office = self._weighted(self.office_codes, self.office_cum)
                case = self.offices[office].pick(rng, ordinal)
                actor = rng.choice(b.coordinators[office])
            else:
                case, school = self._school_case(ordinal)
                team = b.staff[school]
                actor = rng.choice(team) if rng.random() < 0.8 else b.leads[school]
            if action == "case_viewed" and self.hot and self.hot.requested_on <= day and rng.random() < HOT_SHARE:
                case, actor = self.hot, b.leads[self.hot.school_id]
            if case is None or action == "case_list_viewed":
                return actor, "case_list_viewed", "support_case", None, None, {"page": 1}
            if action == "student_viewed":
                return actor, action, "student", case.student_uid, case.student_uid, None
            return actor, action, "support_case", case.uid, case.student_uid, None
        if action in ("referral_viewed", "referral_inbox_viewed") and self.agency_ids:
            agency = self._weighted(self.agency_ids, self.agency_cum)
            actor = rng.choice(b.agency_users[agency])
            picked = self.agencies[agency].pick(rng, ordinal)
            if action == "referral_inbox_viewed" or picked is None:
                return actor, "referral_inbox_viewed", "referral_inbox", str(agency), None, None
            uid, case = picked
            return actor, action, "referral", uid, case.student_uid, None
        if action == "guardian_assignment_viewed":
            picked = self.assignments.pick(rng, ordinal)
            if picked:
                uid, case, user_id = picked
                return user_id, action, "guardian_assignment", uid, case.student_uid, None
        if action == "guardian_viewed" and self.guardians:
            office = rng.choice(self.guardian_offices)
            guardian = rng.choice(self.guardians[office])
            return rng.choice(b.coordinators[office]), action, "guardian", guardian, None, None
        if action == "conference_minutes_viewed":
            picked = self.conferences.pick(rng, ordinal)
            if picked:
                uid, actor = picked
                return actor, action, "conference", uid, None, None
        if action == "audit_searched":
            return rng.choice(b.auditors), action, "audit_event", None, None, {"action": "case_viewed"}
        actor = rng.choice(self.users)
        user = b.users[actor]
        if action == "login_failed":
            return None, action, "login", user[0], None, {"failures": 1, "locked": False}, "denied"
        if action == "permission_denied":
            return actor, action, "endpoint", "cases.case_page", None, None, "denied"
        if action in ("login", "logout"):
            return actor, action, "user", user[3], None, None
        if action == "notification_list_viewed":
            return actor, action, "notification", None, None, None
        return actor, "home_viewed", "home", user[1], None, {"rows_shown": rng.randrange(0, 21)}
