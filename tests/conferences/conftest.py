"""The conference world: one school with two consented cases (a matched guardian on one, an
accepted agency referral on the other), a case without consent, a foreign case, and the
district coordinator; ``make_conference`` schedules a conference in it."""
from __future__ import annotations

import datetime as dt
from types import SimpleNamespace

import pytest

from app.agencies import referrals as r
from app.conferences import services as cs
from app.db import utcnow
from app.extensions import db

from ..agencies.conftest import agency_with_service  # noqa: F401  (fixture)
from ..factories import consent_both
from ..guardians.conftest import coordinator, eligible_guardian  # noqa: F401  (fixtures)
from ..guardians.portal_setup import matched


@pytest.fixture
def conference_world(build, eligible_guardian, coordinator, agency_with_service):  # noqa: F811
    """Everything through the real services, committed.

    ``school``, ``lead``, ``staff``; ``guardian_case`` (in support, conference-sharing consent,
    ``guardian`` / ``guardian_user`` matched and active); ``referral_case`` (in support, consent,
    ``referral`` accepted by ``agency`` whose coordinator is ``agent``); ``private_case``
    (planning, no consent at all); ``coordinator`` (서부, the school's office);
    ``other_school`` / ``other_lead`` / ``other_case`` (another 마포구 school)."""
    school = build.school(name="망원테스트초등학교")
    lead = build.user("school_lead", organisation=school, display_name="박교감")
    staff = build.user("school_staff", organisation=school, display_name="최상담")
    pair = matched(build, eligible_guardian, coordinator, school=school)
    referral_case = build.case(school=school, status="in_support", lead=lead)
    service = agency_with_service()
    agency = service.organisation
    agent = build.user("agency_coordinator", organisation=agency, display_name="정기관")
    consent_both(referral_case, lead, purposes=("agency_referral",), agency_kinds=[agency.agency_kind])
    referral = r.create_referral(referral_case, staff, agency=agency, service=service, reason="정서 상담",
                                 shared_items=["needs"])
    r.send_referral(referral, staff)
    db.session.commit()
    r.accept_referral(referral, agent)
    db.session.commit()
    private_case = build.case(school=school, status="planning", lead=lead)
    other_school = build.school()
    other_lead = build.user("school_lead", organisation=other_school)
    other_case = build.case(school=other_school, status="in_support", lead=other_lead)
    return SimpleNamespace(
        school=school, lead=lead, staff=staff, coordinator=coordinator,
        guardian_case=pair.case, guardian=pair.guardian, guardian_user=pair.user, assignment=pair.assignment,
        referral_case=referral_case, referral=referral, agency=agency, service=service, agent=agent,
        private_case=private_case, other_school=other_school, other_lead=other_lead, other_case=other_case)


def in_days(days: int, hour: int = 15) -> dt.datetime:
    """A naive KST datetime ``days`` from now, at ``hour`` o'clock."""
    kst_today = (utcnow() + dt.timedelta(hours=9)).date()
    return dt.datetime.combine(kst_today + dt.timedelta(days=days), dt.time(hour, 0))


def start(conference) -> None:
    """Move a scheduled conference's start an hour into the past, as time would have made it
    (results may be recorded only once the meeting has started; test_started.py tests the rule
    itself under freezegun)."""
    conference.starts_at = utcnow() - dt.timedelta(hours=1)
    db.session.commit()


@pytest.fixture
def make_conference(conference_world):
    """``make_conference(actor=None, kind="school_meeting", cases=None, users=None, externals=(),
    started=False, **kw)``: scheduled (by default by the lead, about the guardian and referral
    cases, with the staff, the guardian and the agent where their case is discussed, and the
    coordinator) and committed; ``started`` moves its start into the past so it can be recorded."""
    w = conference_world

    def _make(actor=None, kind: str = "school_meeting", cases=None, users=None, externals=(), started=False, **kw):
        cases = cases if cases is not None else [w.guardian_case, w.referral_case]
        if users is None:
            users = [w.staff] + ([w.guardian_user] if w.guardian_case in cases else []) + \
                ([w.agent] if w.referral_case in cases else []) + [w.coordinator]
        values = dict(starts_at=in_days(3), place="망원초 상담실", online_link=None)
        values.update(kw)
        conference = cs.schedule_conference(actor or w.lead, kind=kind, case_ids=[c.id for c in cases],
                                            participant_user_ids=[u.id for u in users], externals=list(externals),
                                            **values)
        db.session.commit()
        if started:
            start(conference)
        return conference
    return _make
