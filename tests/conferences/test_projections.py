"""Minimal projections (issue 12): on the conference page a guardian sees what their portal shows
(given name, school, grade, shared goals) and an agency what its referral shared; neither sees the
full name, the class and number, the decision notes or the minutes.  The portal, the inbox and the
conference page use the same projection function per audience."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from app.agencies import referrals as r
from app.agencies.portal_views import inbox_row
from app.agencies.referral_queries import UNNAMED_STUDENT, agency_projection
from app.cases.consent import withdraw_consent
from app.cases.models import Consent
from app.conferences import access
from app.conferences import services as cs
from app.extensions import db
from app.guardians.portal import guardian_projection, portal_for

from ..guardians.portal_setup import PRIVATE_GOAL, SHARED_GOAL

NOTE_G, NOTE_R, MINUTES = "후견인 활동 유지, 보호자 면담 결과 반영", "상담 주기 조정", "두 학생 모두 논의함"


def page(client, url: str) -> str:
    response = client.get(url)
    assert response.status_code == 200, (url, response.status_code)
    return response.get_data(as_text=True)


@pytest.fixture
def held(conference_world, make_conference):
    """A district conference about both cases, recorded with a note per case and minutes."""
    w = conference_world
    conference = make_conference(actor=w.coordinator, kind="district", cases=[w.guardian_case, w.referral_case],
                                 users=[w.guardian_user, w.agent, w.lead], started=True)
    cs.record_meeting(conference, w.coordinator, attended_participant_ids=[], minutes=MINUTES,
                      decisions={w.guardian_case.id: dict(decision="continue", note=NOTE_G, actions=[]),
                                 w.referral_case.id: dict(decision="modify", note=NOTE_R, actions=[])})
    db.session.commit()
    return conference


def urls(conference) -> list[str]:
    return [f"/conferences/{conference.uid}", f"/conferences/{conference.uid}/print"]


def test_a_guardian_sees_their_portal_projection(conference_world, held, client, login):
    w = conference_world
    student = w.guardian_case.student
    seen = guardian_projection(w.guardian_case)
    assert (seen.given_name, seen.school_name, seen.grade, seen.goals) == (
        student.given_name, w.school.name, student.grade, [SHARED_GOAL])
    # the portal card is built from the same projection
    [card] = portal_for(w.guardian_user, audit=False).cards
    assert (card.given_name, card.school_name, card.grade, card.goals) == (
        seen.given_name, seen.school_name, seen.grade, seen.goals)
    login(w.guardian_user)
    for url in urls(held):
        html = page(client, url)
        assert student.given_name in html and w.school.name in html and f"{student.grade}학년" in html
        assert student.name not in html and student.class_label not in html
        assert NOTE_G not in html and MINUTES not in html and PRIVATE_GOAL not in html
        assert w.referral_case.student.name not in html and NOTE_R not in html
    assert SHARED_GOAL in page(client, urls(held)[0])
    [row] = access.visible_cases(w.guardian_user, held)
    assert row.audience == "guardian" and row.projection == seen


def test_an_agency_sees_only_what_its_referral_shared(conference_world, held, client, login):
    w = conference_world
    student = w.referral_case.student
    assert w.referral.shared_items == ["needs"]
    login(w.agent)
    for url in urls(held):
        html = page(client, url)
        assert UNNAMED_STUDENT in html
        assert student.name not in html and student.class_label not in html and NOTE_R not in html
        assert MINUTES not in html
        assert w.guardian_case.student.name not in html and NOTE_G not in html
    # the inbox row and the conference row come from the same projection
    [row] = access.visible_cases(w.agent, held)
    assert row.audience == "agency" and row.projection.label == UNNAMED_STUDENT
    assert row.projection.shared == inbox_row(w.referral).shared == agency_projection(w.referral).shared


def test_a_referral_that_shares_the_name_and_class_shows_them(conference_world, make_conference, build, client,
                                                              login, agency_with_service):
    w = conference_world
    service = agency_with_service()
    agent = build.user("agency_coordinator", organisation=service.organisation)
    referral = r.create_referral(w.referral_case, w.staff, agency=service.organisation, service=service,
                                 reason="정서 상담", shared_items=["student_name", "school_grade"])
    r.send_referral(referral, w.staff)
    db.session.commit()
    r.accept_referral(referral, agent)
    db.session.commit()
    conference = make_conference(actor=w.coordinator, kind="district", cases=[w.referral_case],
                                 users=[agent, w.lead], started=True)
    cs.record_meeting(conference, w.coordinator, attended_participant_ids=[], minutes=MINUTES,
                      decisions={w.referral_case.id: dict(decision="modify", note=NOTE_R, actions=[])})
    db.session.commit()
    student = w.referral_case.student
    login(agent)
    html = page(client, f"/conferences/{conference.uid}")
    assert student.name in html and student.class_label in html  # both were shared
    assert NOTE_R not in html and MINUTES not in html
    assert inbox_row(referral).student_name == student.name == agency_projection(referral).label


def test_withdrawn_consent_leaves_the_agency_the_label_only(conference_world, held, client, login):
    w = conference_world
    for consent in db.session.execute(select(Consent).filter_by(case_id=w.referral_case.id)).scalars().all():
        if any(p.purpose == "agency_referral" for p in consent.purposes):
            withdraw_consent(consent, w.referral_case, w.lead)
    db.session.commit()
    seen = agency_projection(w.referral)
    assert seen.hidden == "consent" and seen.shared == {} and seen.label == UNNAMED_STUDENT
    login(w.agent)
    html = page(client, f"/conferences/{held.uid}")
    assert UNNAMED_STUDENT in html and w.referral_case.student.name not in html


@pytest.mark.parametrize("who", ["lead", "coordinator"])
def test_the_school_team_and_coordinator_still_see_everything(conference_world, held, client, login, who):
    w = conference_world
    login(getattr(w, who))
    html = page(client, urls(held)[0])
    for case in (w.guardian_case, w.referral_case):
        assert case.student.name in html and case.student.class_label in html
    assert NOTE_G in html and NOTE_R in html and MINUTES in html
    assert all(row.audience == "full" for row in access.visible_cases(getattr(w, who), held))
