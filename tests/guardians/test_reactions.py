"""Guardians' reactions to the lifecycle signals: closing a case ends its assignments with the code
chosen on the close form; consent for guardian matching withdrawn or expired pauses the active
assignments and withdraws proposals; the case page's guardians section."""
import app.guardians.portal_views  # noqa: F401  (routes exist before apps are created)

import datetime as dt

import pytest
from freezegun import freeze_time
from sqlalchemy import func, select

from app.audit.models import AuditEvent
from app.cases import services as cs
from app.cases.consent import record_consent, withdraw_consent
from app.cases.models import CaseEvent, Consent
from app.db import today_kst
from app.domain import DomainError
from app.extensions import db
from app.guardians.assignments import accept_assignment, propose_assignment, reactivate_assignment
from app.guardians.services import create_guardian_login
from app.guardians.models import CLOSE_REASONS, Assignment
from app.guardians.portal import portal_for
from app.guardians.reactions import case_section, close_items
from app.lifecycle import close_items as all_close_items
from app.notifications.models import Notification
from app.notifications.services import notify
from tests.factories import DEFAULT_PASSWORD

from .portal_setup import matched


@pytest.fixture
def pair(build, eligible_guardian, coordinator):
    """An active assignment, plus a second guardian proposed for the same case."""
    pair = matched(build, eligible_guardian, coordinator)
    pair.case.guardians_needed = 2
    pair.proposal = propose_assignment(pair.case, eligible_guardian(), coordinator)
    db.session.commit()
    return pair


def _outcomes(case):
    return {need.id: ("improved", "") for need in case.needs}


def _events(case, text):
    return [e.text for e in db.session.execute(select(CaseEvent).filter_by(case_id=case.id)).scalars()
            if text in e.text]


def _audit(action):
    return list(db.session.execute(select(AuditEvent).filter_by(action=action)).scalars())


# -- closing the case ---------------------------------------------------------------------------

def test_close_items_ask_about_every_counted_assignment(pair):
    items = close_items(pair.case)
    assert [i.key for i in items] == [f"assignment_{pair.assignment.id}", f"assignment_{pair.proposal.id}"]
    first = items[0]
    assert first.label == f"교육후견인 {pair.guardian.name} 배정 종료 사유"
    assert first.kind == "choice" and first.required
    assert first.options[0] == ("case_closed", "사례 종결") and set(dict(first.options)) == set(CLOSE_REASONS)
    assert {i.key for i in all_close_items(pair.case)} >= {i.key for i in items}  # through the signal


def test_closing_ends_assignments_with_the_chosen_code(pair, client, login):
    staff_alert = notify(pair.lead.id, "assignment_suspended", "이전 알림", case_id=pair.case.id)
    db.session.commit()
    cs.close_case(pair.case, pair.lead, reason="goals_met", outcomes=_outcomes(pair.case),
                  choices={f"assignment_{pair.assignment.id}": "goals_met"})
    db.session.commit()
    active, proposal = pair.assignment, pair.proposal
    assert (active.status, active.close_reason, active.rematchable) == ("closed", "goals_met", True)
    assert (proposal.status, proposal.close_reason) == ("closed", "case_closed")
    assert active.closed_at is not None
    closed = _audit("assignment_closed")
    assert {e.object_id for e in closed} == {active.uid, proposal.uid}
    assert all(e.actor_id == pair.lead.id and e.subject_ref == pair.case.student.uid for e in closed)
    assert _events(pair.case, "교육후견인 연계 종료: 목표 달성") and _events(pair.case, "교육후견인 연계 제안 철회: 사례 종결")
    # the guardian is told (news: no case, nothing to resolve), by given name only
    news = db.session.execute(select(Notification).filter_by(user_id=pair.user.id, kind="assignment_ended")).scalar_one()
    given = pair.case.student.given_name
    assert news.text == f"{given} 학생과의 교육후견인 활동이 종료되었습니다 (목표 달성)."
    assert news.case_id is None and news.object_key is None and pair.case.student.name not in news.text
    assert db.session.get(Notification, staff_alert.id).resolved_at is not None
    # the portal no longer shows the student, and the assignment page is gone for the guardian
    assert portal_for(pair.user, audit=False).cards == []
    login(pair.user)
    assert client.get(f"/guardians/me/{pair.assignment.uid}").status_code == 404
    assert given not in client.get("/guardians/me").get_data(as_text=True)


def test_a_safety_concern_closure_bars_rematching(pair):
    cs.close_case(pair.case, pair.lead, reason="goals_met", outcomes=_outcomes(pair.case),
                  choices={f"assignment_{pair.assignment.id}": "safety_concern",
                           f"assignment_{pair.proposal.id}": "other"})
    db.session.commit()
    assert (pair.assignment.close_reason, pair.assignment.rematchable) == ("safety_concern", False)
    assert pair.proposal.close_reason == "other"


@pytest.mark.parametrize("choices", [{}, {"assignment_0": "goals_met"}, "bogus"])
def test_closing_without_a_valid_code_refuses_and_nothing_changes(pair, choices):
    if choices == "bogus":
        choices = {f"assignment_{pair.assignment.id}": "bogus"}
    before = db.session.execute(select(func.count(AuditEvent.id))).scalar_one()
    with pytest.raises(DomainError) as refused:
        cs.close_case(pair.case, pair.lead, reason="goals_met", outcomes=_outcomes(pair.case), choices=choices)
    assert refused.value.field == f"assignment_{pair.assignment.id}"
    assert refused.value.message == f"교육후견인 {pair.guardian.name} 배정의 종료 사유를 선택해 주세요."
    db.session.rollback()
    db.session.expire_all()
    assert pair.case.status == "in_support"
    assert (pair.assignment.status, pair.proposal.status) == ("active", "proposed")
    assert db.session.execute(select(func.count(AuditEvent.id))).scalar_one() == before
    assert portal_for(pair.user, audit=False).cards


# -- consent for guardian matching ----------------------------------------------------------

def _consent(case, party):
    return db.session.execute(select(Consent).filter_by(case_id=case.id, party=party)).scalars().first()


def _team_alerts(case):
    return list(db.session.execute(select(Notification).filter_by(kind="assignment_suspended", case_id=case.id)
                                   .where(Notification.link == f"/cases/{case.uid}")).scalars())


@pytest.mark.parametrize("party", ["student", "parent"])
def test_withdrawn_consent_pauses_assignments_and_withdraws_proposals(build, pair, coordinator, party):
    staff = build.user("school_staff", organisation=pair.case.school)
    withdraw_consent(_consent(pair.case, party), pair.case, pair.lead)
    db.session.commit()
    assert (pair.assignment.status, pair.assignment.suspended_reason) == ("suspended", "consent_withdrawn")
    assert (pair.proposal.status, pair.proposal.close_reason) == ("closed", "consent_withdrawn")
    # the school team and the office's coordinator: one alert each, naming the student in full
    alerts = _team_alerts(pair.case)
    assert {n.user_id for n in alerts} == {pair.lead.id, staff.id, coordinator.id}
    assert alerts[0].text == (f"{pair.case.student.name} 학생({pair.case.school.name})의 교육후견인 연계 동의가 "
                              "철회되어 교육후견인 활동 1건을 일시 중지했습니다, 연계 제안 1건을 철회했습니다.")
    # the guardian loses the student at once
    assert portal_for(pair.user, audit=False).cards == []
    guardian_note = db.session.execute(select(Notification).filter_by(
        user_id=pair.user.id, kind="assignment_suspended")).scalar_one()
    assert pair.case.student.name not in guardian_note.text and pair.case.student.given_name in guardian_note.text
    suspended = _audit("assignment_suspended")
    assert len(suspended) == 1 and suspended[0].object_id == pair.assignment.uid
    assert f'"party":"{party}"' in suspended[0].details and '"trigger":"withdrawn"' in suspended[0].details
    assert [e.object_id for e in _audit("assignment_closed")] == [pair.proposal.uid]
    assert _events(pair.case, "교육후견인 활동 일시 중지: 연계 동의 철회·만료")


def test_consent_still_covering_leaves_assignments_alone(pair):
    # the student consented twice; withdrawing one of them still leaves matching covered
    extra = record_consent(pair.case, pair.lead, party="student", purposes=["guardian_matching"],
                           given_on=today_kst(), method="written")
    conference_only = record_consent(pair.case, pair.lead, party="parent", purposes=["conference_sharing"],
                                     given_on=today_kst(), method="written")
    db.session.commit()
    withdraw_consent(extra, pair.case, pair.lead)
    withdraw_consent(conference_only, pair.case, pair.lead)
    db.session.commit()
    assert (pair.assignment.status, pair.proposal.status) == ("active", "proposed")
    assert _team_alerts(pair.case) == [] and _audit("assignment_suspended") == []
    assert portal_for(pair.user, audit=False).cards


def test_expired_consent_pauses_assignments(app, build, eligible_guardian, coordinator):
    school = build.school()
    lead = build.user("school_lead", organisation=school)
    case = build.case(school=school, status="planning", lead=lead)
    for party in ("student", "parent"):
        record_consent(case, lead, party=party, purposes=["guardian_matching"], given_on=today_kst(),
                       method="written", expires_on=today_kst() + dt.timedelta(days=10))
    cs.start_support(case, lead)
    db.session.commit()
    guardian = eligible_guardian()
    user = create_guardian_login(coordinator, guardian, "guardian-expiry", DEFAULT_PASSWORD)
    user.password_temporary = False
    assignment = propose_assignment(case, guardian, coordinator)
    db.session.commit()
    accept_assignment(assignment, user)
    db.session.commit()
    with freeze_time(dt.datetime.combine(today_kst() + dt.timedelta(days=11), dt.time(1))):
        result = app.test_cli_runner().invoke(args=["cases", "consent-expiry"])
        assert result.exit_code == 0, result.output
        db.session.expire_all()
        assert (assignment.status, assignment.suspended_reason) == ("suspended", "consent_withdrawn")
        alerts = _team_alerts(case)
        assert {n.user_id for n in alerts} >= {lead.id, coordinator.id}
        assert "만료되어" in alerts[0].text
        event = _audit("assignment_suspended")[0]
        assert event.actor_id is None and '"trigger":"expired"' in event.details
        assert portal_for(user, audit=False).cards == []
        # the command runs daily: a second run changes nothing
        app.test_cli_runner().invoke(args=["cases", "consent-expiry"])
        assert len(_audit("assignment_suspended")) == 1


def test_reactivation_waits_for_consent(pair, coordinator):
    withdraw_consent(_consent(pair.case, "parent"), pair.case, pair.lead)
    db.session.commit()
    with pytest.raises(DomainError, match="연계 동의가 없습니다"):
        reactivate_assignment(pair.assignment, coordinator)


# -- the case page section ----------------------------------------------------------------------

def test_case_section_for_school_and_coordinator_only(build, pair, coordinator):
    section = case_section(pair.case, user=pair.lead)
    assert section.template == "guardians/_case_section.html" and section.order == 10
    assert [a.id for a in section.context["assignments"]] == [pair.proposal.id, pair.assignment.id]
    assert not section.context["can_manage"] and not section.context["can_match"]
    assert case_section(pair.case, user=coordinator).context["can_match"]
    for outsider in (pair.user, build.user("school_lead"), build.user("agency_coordinator"),
                     build.user("district_coordinator", organisation=build.organisation("district_office", "강남구"))):
        assert case_section(pair.case, user=outsider) is None


@pytest.mark.parametrize("who", ["lead", "coordinator"])
def test_case_page_shows_assignments_concerns_and_links(pair, coordinator, client, login, who):
    from app.guardians.activity import log_activity
    log_activity(pair.assignment, pair.user, occurred_on=today_kst(), minutes=30, kind="emotional",
                 concern=True, concern_description="학생이 밤에 혼자 있는 날이 많다고 했습니다.")
    db.session.commit()
    login(pair.lead if who == "lead" else coordinator)
    html = client.get(f"/cases/{pair.case.uid}").get_data(as_text=True)
    assert 'data-testid="case-guardians"' in html and pair.guardian.name in html and "활동 중" in html
    assert 'data-testid="case-concern"' in html and "/guardians/concerns/" in html and "확인 대기" in html
    links = (f"/guardians/match/{pair.case.uid}", "/guardians/match/batch", f"/guardians/assignments/{pair.assignment.uid}")
    assert all((link in html) == (who == "coordinator") for link in links)
