"""Hand-made statistics data with known answers.

Records are inserted directly with the dates each test needs (the services stamp today); the
KST boundary test drives the real services under freezegun instead.  ``district`` builds one
district (서부: 마포구, 서대문구, 은평구) with two schools and a few records of every kind; the
expected counts in the tests are worked out from it by hand."""
from __future__ import annotations

import datetime as dt
import itertools
from types import SimpleNamespace

import pytest
from freezegun import freeze_time

from app.agencies.models import Referral
from app.cases.models import CaseNeed, CaseSelection, Consent, PlanAction, SupportCase
from app.cases.satisfaction import CaseSatisfaction
from app.conferences.models import ActionItem, Conference, ConferenceCase
from app.extensions import db
from app.guardians.models import Assignment, Guardian, RecordCheck
from app.reports.filters import ReportFilters, month_end, school_year_bounds, semester_bounds
from app.reports.tables import Scope
from app.students.models import Student

#: "today" of every test that uses ``frozen``: 2026-07-15 12:00 KST
TODAY = dt.date(2026, 7, 15)
NOW_UTC = "2026-07-15 03:00:00"
_n = itertools.count(1)


def D(text: str) -> dt.date:
    return dt.date.fromisoformat(text)


def T(text: str) -> dt.datetime:
    """A naive-UTC datetime."""
    return dt.datetime.fromisoformat(text)


def semester1(year: int = 2026, **extra) -> ReportFilters:
    return ReportFilters("semester", *semester_bounds(year, 1), f"{year}학년도 1학기", **extra)


def school_year(year: int, **extra) -> ReportFilters:
    return ReportFilters("year", *school_year_bounds(year), f"{year}학년도", **extra)


def month(year: int, m: int, **extra) -> ReportFilters:
    return ReportFilters("month", dt.date(year, m, 1), month_end(year, m), f"{year}년 {m}월", **extra)


class Data:
    """Direct inserts with chosen dates; ``user`` fills every who-did-it column."""

    def __init__(self, build):
        self.build = build
        self.user = build.user("district_coordinator", organisation=build.organisation("district_office"))

    def add(self, obj):
        db.session.add(obj)
        db.session.flush()
        return obj

    def case(self, school, requested_on: str, status: str = "requested", risk: str = "general",
             domains=("learning",), closed_on: str | None = None) -> SupportCase:
        student = self.add(Student(school_id=school.id))
        case = self.add(SupportCase(school_id=school.id, student_id=student.id, status=status, risk_level=risk,
                                    requested_by="staff", requested_on=D(requested_on),
                                    closed_on=D(closed_on) if closed_on else None))
        for domain in domains:
            self.add(CaseNeed(case_id=case.id, domain=domain))
        return case

    def selection(self, case, meeting_on: str, selected: bool = True):
        return self.add(CaseSelection(case_id=case.id, selected=selected, meeting_on=D(meeting_on),
                                      decided_by_id=self.user.id))

    def referral(self, case, agency, status: str, sent_at: str | None, respond_by: str | None = None,
                 responded_at: str | None = None):
        return self.add(Referral(case_id=case.id, agency_id=agency.id, status=status, created_by_id=self.user.id,
                                 sent_at=T(sent_at) if sent_at else None,
                                 respond_by=D(respond_by) if respond_by else None,
                                 responded_at=T(responded_at) if responded_at else None))

    def guardian(self, office_code: str, gu: str, status: str = "active") -> Guardian:
        return self.add(Guardian(office_code=office_code, gu_id=self.build.gu(gu).id, status=status,
                                 name=f"후견인{next(_n)}"))

    def check(self, guardian, kind: str, result: str, valid_until: str | None):
        return self.add(RecordCheck(guardian_id=guardian.id, kind=kind, consent_on=D("2026-01-01"),
                                    requested_on=D("2026-01-02"), result=result,
                                    valid_until=D(valid_until) if valid_until else None))

    def both_checks(self, guardian, valid_until: str):
        for kind in ("sex_offence", "child_abuse"):
            self.check(guardian, kind, "clear", valid_until)

    def assignment(self, case, guardian, status: str, created_at: str, accepted_at: str | None = None,
                   closed_at: str | None = None, close_reason: str | None = None):
        return self.add(Assignment(case_id=case.id, guardian_id=guardian.id, status=status, proposed_by_id=self.user.id,
                                   created_at=T(created_at), accepted_at=T(accepted_at) if accepted_at else None,
                                   closed_at=T(closed_at) if closed_at else None, close_reason=close_reason))

    def plan_action(self, case, status: str = "open", due_on: str | None = None, completed_on: str | None = None):
        return self.add(PlanAction(case_id=case.id, status=status, due_on=D(due_on) if due_on else None,
                                   completed_on=D(completed_on) if completed_on else None))

    def consent(self, case, party: str, given_on: str, withdrawn_on: str | None = None, expires_on: str | None = None):
        return self.add(Consent(case_id=case.id, party=party, given_on=D(given_on), method="written",
                                withdrawn_on=D(withdrawn_on) if withdrawn_on else None,
                                expires_on=D(expires_on) if expires_on else None, recorded_by_id=self.user.id))

    def survey(self, case, party: str, score: int, surveyed_on: str):
        return self.add(CaseSatisfaction(case_id=case.id, party=party, score=score, surveyed_on=D(surveyed_on),
                                         recorded_by_id=self.user.id))

    def conference(self, organiser, kind: str, status: str, starts_at: str):
        return self.add(Conference(kind=kind, status=status, organiser_id=organiser.id,
                                   office_code=organiser.office_code, starts_at=T(starts_at),
                                   created_by_id=self.user.id))

    def discussed(self, conference, case, decision: str | None):
        return self.add(ConferenceCase(conference_id=conference.id, case_id=case.id, decision=decision))

    def item(self, conference, case, status: str, due_on: str | None = None, plan=None, updated_at: str | None = None):
        fields = {"updated_at": T(updated_at)} if updated_at else {}
        return self.add(ActionItem(conference_id=conference.id, case_id=case.id, status=status,
                                   due_on=D(due_on) if due_on else None,
                                   plan_action_id=plan.id if plan is not None else None, **fields))


@pytest.fixture
def frozen():
    with freeze_time(NOW_UTC):
        yield


@pytest.fixture
def data(build):
    return Data(build)


@pytest.fixture
def district(data, build, frozen):
    """서부교육지원청 with 가나초 (A) and 다라중 (B), an inactive school, a school of another office,
    and records of every kind; comments give each record's part in the expected figures."""
    A = build.school("마포구", name="가나초등학교", school_level="elementary")
    B = build.school("서대문구", name="다라중학교", school_level="middle")
    build.school("은평구", name="마바초등학교(폐교)", active=False)
    X = build.school("강남구", name="사아초등학교")
    office = build.organisation("district_office", "마포구")
    youth = build.agency(agency_kind="청소년상담복지센터")
    family = build.agency(agency_kind="가족센터")

    # cases requested in the 1st semester of 2026 (Mar–Aug): A1 A2 A3 B1 B2; A0 A4 before it
    a1 = data.case(A, "2026-03-05", domains=("learning", "learning"))   # a domain twice counts once
    a2 = data.case(A, "2026-03-20", "in_support", "crisis", ("learning", "welfare"))
    a3 = data.case(A, "2026-04-10", "closed", domains=("health",), closed_on="2026-06-01")
    a4 = data.case(A, "2026-02-10", "in_support", "intensive")
    a0 = data.case(A, "2025-05-01", "monitoring")
    b1 = data.case(B, "2026-04-02", "selected", "emergency", ("welfare",))
    b2 = data.case(B, "2026-05-15", "withdrawn", domains=("career",), closed_on="2026-05-20")
    x1 = data.case(X, "2026-03-10")

    for case, day in ((a2, "2026-03-25"), (a3, "2026-04-15"), (b1, "2026-04-20"), (a4, "2026-02-20"),
                      (x1, "2026-03-12")):
        data.selection(case, day)
    data.selection(b2, "2026-05-18", selected=False)

    # referrals: a2 answered in 2 KST days; a3 sent 00:30 KST on 1 March (overdue); a4 23:30 KST on 28 Feb
    data.referral(a2, youth, "in_service", "2026-03-30 10:00:00", "2026-04-03", "2026-04-01 01:00:00")
    data.referral(a3, youth, "sent", "2026-02-28 15:30:00", "2026-03-05")
    data.referral(a4, youth, "accepted", "2026-02-28 14:30:00", "2026-03-04", "2026-03-02 01:00:00")
    data.referral(b1, family, "declined", "2026-04-25 03:00:00", "2026-04-30", "2026-04-29 01:00:00")
    data.referral(a1, family, "sent", "2026-07-14 01:00:00", "2026-07-20")
    data.referral(b1, family, "draft", None)
    data.referral(x1, youth, "accepted", "2026-03-15 01:00:00", "2026-03-20", "2026-03-16 01:00:00")

    g1 = data.guardian("SEOBU", "마포구")
    g2 = data.guardian("SEOBU", "마포구")
    g5 = data.guardian("SEOBU", "서대문구")
    data.guardian("SEOBU", "은평구", "screening")
    gx = data.guardian("GANGNAMSEOCHO", "강남구")
    data.both_checks(g1, "2027-01-01")                          # valid
    data.check(g2, "sex_offence", "clear", "2026-08-01")        # lapses within 30 days
    data.check(g2, "child_abuse", "clear", "2027-01-01")
    data.check(g5, "sex_offence", "clear", "2027-01-01")        # one kind only: lapsed
    data.both_checks(gx, "2027-01-01")

    # assignments: a2 active (accepted 5 Apr KST), b1 proposed, a3 and a4 closed early, a0 closed after 9 months
    data.assignment(a2, g1, "active", "2026-04-03 01:00:00", "2026-04-05 02:00:00")
    data.assignment(b1, g2, "proposed", "2026-05-01 01:00:00")
    data.assignment(a3, g1, "closed", "2026-04-20 01:00:00", "2026-04-25 01:00:00", "2026-06-01 03:00:00", "case_closed")
    data.assignment(a4, g2, "closed", "2026-02-25 01:00:00", "2026-02-26 01:00:00", "2026-03-15 03:00:00", "goals_met")
    data.assignment(a0, g2, "closed", "2025-05-20 01:00:00", "2025-06-01 01:00:00", "2026-03-10 03:00:00", "goals_met")
    data.assignment(x1, gx, "active", "2026-03-20 01:00:00", "2026-03-21 01:00:00")

    # plan actions (today 2026-07-15): A overdue 1, on time 1, none 1; B overdue 1
    data.plan_action(a2, due_on="2026-07-01")
    data.plan_action(a2, due_on="2026-08-01")
    data.plan_action(a2)
    data.plan_action(a2, "done", "2026-05-01", "2026-04-30")
    data.plan_action(a3, due_on="2026-05-01")                     # closed case: not counted
    data.plan_action(b1, due_on="2026-07-14")

    # consents in force today: a2 both; a4 some (parent withdrawn); a0 none (expired); a1 none; b1 some
    data.consent(a2, "student", "2026-03-26")
    data.consent(a2, "parent", "2026-03-26")
    data.consent(a4, "student", "2026-02-21")
    data.consent(a4, "parent", "2026-02-21", withdrawn_on="2026-07-01")
    data.consent(a0, "student", "2025-05-02", expires_on="2026-07-10")
    data.consent(b1, "parent", "2026-04-21")
    data.consent(a3, "student", "2026-04-16")                     # closed case: not counted

    data.survey(a3, "student", 5, "2026-06-05")
    data.survey(a3, "parent", 4, "2026-06-05")

    # conferences of 서부 (and one of 강남서초, one before the period)
    c1 = data.conference(A, "school_meeting", "held", "2026-04-10 01:00:00")
    c2 = data.conference(office, "district", "held", "2026-05-10 01:00:00")
    data.conference(A, "school_meeting", "cancelled", "2026-06-01 01:00:00")
    data.conference(office, "living_area", "scheduled", "2026-08-20 01:00:00")
    cx = data.conference(X, "school_meeting", "held", "2026-04-10 01:00:00")
    c0 = data.conference(A, "school_meeting", "held", "2026-02-27 01:00:00")
    data.discussed(c1, a2, "continue")
    data.discussed(c1, a3, "close")
    data.discussed(c2, b1, "refer")
    data.discussed(cx, x1, "continue")
    data.discussed(c0, a4, "modify")
    on_time = data.plan_action(a2, "done", "2026-05-01", "2026-04-28")
    late = data.plan_action(a2, "done", "2026-05-01", "2026-05-03")
    followed = data.plan_action(a2, "done", "2026-05-01", "2026-04-20")
    data.item(c1, a2, "done", "2026-05-01", on_time)              # done on time
    data.item(c1, a2, "done", "2026-05-01", late)                 # done late
    data.item(c1, a2, "open", "2026-07-01")                       # overdue
    data.item(c1, a3, "case_closed", "2026-05-01")                # ended
    data.item(c1, a2, "open", "2026-05-01", followed)             # its plan action is done: on time
    data.item(c2, b1, "open", "2026-08-01")                       # open
    data.item(c2, b1, "done", None, updated_at="2026-06-01 01:00:00")  # no due day: on time
    data.item(cx, x1, "open", "2026-05-01")
    db.session.commit()
    return SimpleNamespace(A=A, B=B, X=X, office=office, a0=a0, a1=a1, a2=a2, a3=a3, a4=a4, b1=b1, b2=b2, x1=x1,
                           scope=Scope("district", "school", office_code="SEOBU", name="서부교육지원청"))
