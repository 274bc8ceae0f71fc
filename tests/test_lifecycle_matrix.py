"""The safeguarding loop as one matrix: for each lifecycle signal, the state of every object that
depends on the case — assignments, proposals, referrals, plan actions, conference action items,
alerts, what the guardian's portal and the agency's inbox show, chronology lines and audit events.

One world is built through the real services of every feature; each test fires one signal the way
a user would, commits, and checks every dependent object.  Runs on SQLite and on PostgreSQL.
"""
from __future__ import annotations

import datetime as dt

import pytest
from freezegun import freeze_time
from sqlalchemy import select

from app.agencies import referrals as r
from app.agencies.models import Referral
from app.agencies.referral_queries import shared_items_visible
from app.audit.models import AuditEvent
from app.cases import services as s
from app.cases.consent import record_consent, withdraw_consent
from app.cases.models import CaseEvent, Consent, PlanAction
from app.cases.plan import add_plan_action
from app.conferences.models import ActionItem
from app.conferences.services import record_meeting, schedule_conference
from app.db import today_kst, utcnow
from app.domain import DomainError
from app.extensions import db
from app.guardians import services as gs
from app.guardians.activity import log_activity
from app.guardians.assignments import accept_assignment, propose_assignment
from app.guardians.concerns import acknowledge_concern
from app.guardians.models import CHECK_KINDS, Assignment, GuardianConcern
from app.guardians.portal import portal_for
from app.notifications.models import Notification
from tests.guardians.conftest import make_eligible_guardian

PURPOSES = ["guardian_matching", "agency_referral", "conference_sharing"]
AGENCY_KIND = "청소년상담복지센터"
#: consents run past the guardian's record checks, so a lapse is about the checks alone
CONSENT_DAYS = 400


class World:
    """A case in support with everything that hangs off it."""


def _eligible_guardian(build, coordinator, login: str):
    return make_eligible_guardian(build, coordinator, login=login, gu_id=build.gu("마포구").id)


@pytest.fixture
def world(app, build) -> World:
    w = World()
    w.school = build.school()
    w.lead = build.user("school_lead", organisation=w.school)
    w.staff = build.user("school_staff", organisation=w.school)
    w.coordinator = build.user("district_coordinator", organisation=build.organisation("district_office", "마포구"))
    w.case = build.case(w.school, status="planning", lead=w.lead, needs=(("learning", "기초학력"), ("welfare", "돌봄")))
    w.case.guardians_needed = 2
    for party in ("student", "parent"):
        record_consent(w.case, w.lead, party=party, purposes=PURPOSES, agency_kinds=[AGENCY_KIND],
                       given_on=today_kst() - dt.timedelta(days=5), method="written",
                       expires_on=today_kst() + dt.timedelta(days=CONSENT_DAYS))
    s.start_support(w.case, w.lead)
    # one active guardian, one proposal waiting for its guardian
    w.guardian, w.guardian_user = _eligible_guardian(build, w.coordinator, "guardian-active")
    w.proposed_guardian, _ = _eligible_guardian(build, w.coordinator, "guardian-proposed")
    w.assignment = propose_assignment(w.case, w.guardian, w.coordinator)
    accept_assignment(w.assignment, w.guardian_user)
    w.proposal = propose_assignment(w.case, w.proposed_guardian, w.coordinator)
    # referrals: one in service, one sent (waiting), one draft
    w.agency = build.agency(agency_kind=AGENCY_KIND)
    w.agency_user = build.user("agency_coordinator", organisation=w.agency)
    referrals = []
    for _ in range(3):
        referrals.append(r.create_referral(w.case, w.lead, agency=w.agency, reason="상담 연계",
                                           shared_items=["student_name", "needs"]))
    w.in_service, w.sent, w.draft = referrals
    for referral in (w.in_service, w.sent):
        r.send_referral(referral, w.lead)
    r.accept_referral(w.in_service, w.agency_user)
    r.add_service_record(w.in_service, w.agency_user, today_kst(), "counselling", "1회기")
    # an overdue plan action, and a conference action item still open
    w.plan_action = add_plan_action(w.case, w.lead, goal="주 1회 면담", action="상담교사 면담", owner_id=w.staff.id,
                                    due_on=today_kst() - dt.timedelta(days=2))
    db.session.commit()
    with freeze_time(utcnow() - dt.timedelta(hours=2)):
        conference = schedule_conference(w.lead, kind="school_meeting", starts_at=dt.datetime.now(dt.timezone.utc) + dt.timedelta(hours=1),
                                         place="상담실", online_link=None, case_ids=[w.case.id],
                                         participant_user_ids=[w.staff.id], externals=[])
        db.session.commit()
    record_meeting(conference, w.lead, attended_participant_ids=[p.id for p in conference.participants],
                   minutes="지원 유지", decisions={w.case.id: {"decision": "continue", "actions": [
                       {"description": "보호자 상담 일정 잡기", "owner_kind": "user", "owner_user_id": w.staff.id,
                        "due_on": today_kst() + dt.timedelta(days=7)}]}})
    db.session.commit()
    w.action_item = db.session.execute(select(ActionItem)).scalar_one()
    w.conference = conference
    return w


def reload(obj):
    db.session.expire_all()
    return db.session.get(type(obj), obj.id)


def statuses(w) -> dict:
    db.session.expire_all()
    return {"assignment": db.session.get(Assignment, w.assignment.id).status,
            "proposal": db.session.get(Assignment, w.proposal.id).status,
            "in_service": db.session.get(Referral, w.in_service.id).status,
            "sent": db.session.get(Referral, w.sent.id).status,
            "draft": db.session.get(Referral, w.draft.id).status,
            "plan_action": db.session.get(PlanAction, w.plan_action.id).status,
            "action_item": db.session.get(ActionItem, w.action_item.id).status}


def portal_shows_student(w) -> bool:
    return any(card.assignment.case_id == w.case.id for card in portal_for(w.guardian_user, audit=False).cards)


def inbox_shows_student(w) -> bool:
    return bool(shared_items_visible(reload(w.in_service)))


def open_alerts(w, **where) -> list[Notification]:
    query = select(Notification).where(Notification.resolved_at.is_(None), Notification.read_at.is_(None))
    for name, value in where.items():
        query = query.where(getattr(Notification, name) == value)
    return list(db.session.execute(query).scalars())


def chronology(w) -> list[str]:
    return [e.text for e in db.session.execute(select(CaseEvent).where(CaseEvent.case_id == w.case.id)
                                               .order_by(CaseEvent.id)).scalars()]


def audit_actions(since: int) -> list[str]:
    return [a for a in db.session.execute(select(AuditEvent.action).where(AuditEvent.id > since)
                                          .order_by(AuditEvent.id)).scalars()]


def last_audit_id() -> int:
    return db.session.execute(select(db.func.max(AuditEvent.id))).scalar_one()


def test_world_before_any_signal(world):
    """The starting point every other test changes."""
    assert statuses(world) == {"assignment": "active", "proposal": "proposed", "in_service": "in_service",
                               "sent": "sent", "draft": "draft", "plan_action": "open", "action_item": "open"}
    assert portal_shows_student(world) and inbox_shows_student(world)
    assert open_alerts(world, object_key=f"referral:{world.sent.id}", user_id=world.agency_user.id)


def close_form_choices(w, **override) -> dict:
    choices = {f"assignment_{w.assignment.id}": "case_closed", f"assignment_{w.proposal.id}": "case_closed",
               f"referral_{w.in_service.id}": "사례 종결로 서비스 중단", f"referral_{w.sent.id}": "사례 종결"}
    choices.update(override)
    return choices


def close(w, choices):
    s.close_case(w.case, w.lead, reason="goals_met",
                 outcomes={need.id: ("improved", "") for need in w.case.needs}, choices=choices)


def test_case_closed(world):
    w, since = world, last_audit_id()
    notify_before = open_alerts(w, case_id=w.case.id)
    assert notify_before, "the world has alerts about the case"
    close(w, close_form_choices(w))
    db.session.commit()
    assert statuses(w) == {"assignment": "closed", "proposal": "closed", "in_service": "cancelled",
                           "sent": "cancelled", "draft": "cancelled", "plan_action": "case_closed",
                           "action_item": "case_closed"}
    assert reload(w.assignment).close_reason == "case_closed"
    assert not portal_shows_student(w) and not inbox_shows_student(w)
    assert open_alerts(w, case_id=w.case.id) == []
    assert open_alerts(w, object_key=f"referral:{w.sent.id}", user_id=w.agency_user.id) == []
    # the agency is told (news, not tied to the closed case)
    assert [n for n in open_alerts(w, user_id=w.agency_user.id) if n.case_id is None]
    actions = audit_actions(since)
    for action in ("case_close", "plan_action_status", "assignment_closed", "referral_cancelled",
                   "conference_action_status"):
        assert action in actions, action
    lines = chronology(w)
    # the overdue action and the one the conference added to the plan
    assert any("사례 종결로 진행 중인 지원 계획 2건 종료" in line for line in lines)
    # the active assignment ended and the proposal withdrawn, each with the code chosen on the form
    assert sum(line.startswith("교육후견인 연계") and line.endswith(": 사례 종결") for line in lines) == 2


def test_case_close_refused_rolls_everything_back(world):
    """An in-service referral with no cancel reason: the agencies receiver refuses, nothing changes."""
    w = world
    before, since = statuses(w), last_audit_id()
    with pytest.raises(DomainError) as refused:
        close(w, close_form_choices(w, **{f"referral_{w.in_service.id}": ""}))
    db.session.rollback()
    assert refused.value.field == f"referral_{w.in_service.id}"
    assert reload(w.case).status == "in_support"
    assert statuses(w) == before and audit_actions(since) == []
    assert portal_shows_student(w) and inbox_shows_student(w)


def test_case_reopened_restores_nothing(world):
    w = world
    close(w, close_form_choices(w))
    db.session.commit()
    closed = statuses(w)
    s.reopen_case(reload(w.case), w.lead, reason="다시 결석")
    db.session.commit()
    assert reload(w.case).status == "planning" and statuses(w) == closed
    assert not portal_shows_student(w) and not inbox_shows_student(w)
    assert any("자동으로 되살아나지 않습니다" in line for line in chronology(w))


def test_case_withdrawn(build, app):
    """Only a request may be withdrawn: nothing depends on it yet but its alerts and drafts."""
    school = build.school()
    lead = build.user("school_lead", organisation=school)
    case = build.case(school, lead=lead)
    from app.notifications.services import notify
    notify(lead.id, "case", "새 요청", case_id=case.id)
    db.session.commit()
    s.withdraw_request(case, lead, reason="잘못 접수")
    db.session.commit()
    assert reload(case).status == "withdrawn"
    assert db.session.execute(select(Notification)).scalar_one().resolved_at is not None


@pytest.mark.parametrize("party", ["student", "parent"])
def test_consent_withdrawn_by_either_party(world, party):
    w, since = world, last_audit_id()
    consent = db.session.execute(select(Consent).where(Consent.case_id == w.case.id, Consent.party == party)
                                 ).scalar_one()
    withdraw_consent(consent, w.case, w.lead)
    db.session.commit()
    assert statuses(w) == {"assignment": "suspended", "proposal": "closed", "in_service": "in_service",
                           "sent": "cancelled", "draft": "cancelled", "plan_action": "open",
                           "action_item": "open"}
    assert reload(w.assignment).suspended_reason == "consent_withdrawn"
    assert not portal_shows_student(w)
    assert not inbox_shows_student(w)  # the in-service referral stays, its shared items are hidden
    suspended = open_alerts(w, kind="assignment_suspended")
    assert {n.user_id for n in suspended} >= {w.lead.id, w.staff.id, w.coordinator.id}
    actions = audit_actions(since)
    assert {"consent_withdrawn", "assignment_suspended", "referral_cancelled", "referral_items_hidden",
            "conference_sharing_stopped"} <= set(actions)
    assert any("동의 철회" in line for line in chronology(w))


def test_consent_expired_under_the_daily_command(world, app):
    w = world
    expiry = today_kst() + dt.timedelta(days=CONSENT_DAYS)
    with freeze_time(dt.datetime.combine(expiry + dt.timedelta(days=1), dt.time(3, 0))):
        result = app.test_cli_runner().invoke(args=["cases", "consent-expiry"])
        assert result.exit_code == 0 and "만료된 동의 2건" in result.output
        assert statuses(w)["assignment"] == "suspended" and statuses(w)["proposal"] == "closed"
        assert statuses(w)["sent"] in ("cancelled", "declined")  # the agency may have answered … here it had not
        assert not portal_shows_student(w) and not inbox_shows_student(w)
        again = app.test_cli_runner().invoke(args=["cases", "consent-expiry"])
        assert "만료된 동의 0건" in again.output
    actions = [a for a in db.session.execute(select(AuditEvent.action)).scalars()]
    assert actions.count("consent_expired") == 2


def test_consent_for_one_purpose_only_leaves_the_others(world):
    """A consent that covered only conference sharing is withdrawn: guardian and referrals untouched."""
    w = world
    extra = record_consent(w.case, w.lead, party="parent", purposes=["conference_sharing"],
                           given_on=today_kst(), method="written")
    db.session.commit()
    withdraw_consent(extra, w.case, w.lead)
    db.session.commit()
    assert statuses(w) == {"assignment": "active", "proposal": "proposed", "in_service": "in_service",
                           "sent": "sent", "draft": "draft", "plan_action": "open", "action_item": "open"}
    assert portal_shows_student(w) and inbox_shows_student(w)


def test_guardian_lapse_and_reinstatement(world, app):
    w = world
    check = [c for c in w.guardian.checks if c.kind == "sex_offence"][0]
    lapse_day = check.valid_until + dt.timedelta(days=1)
    with freeze_time(dt.datetime.combine(lapse_day, dt.time(3, 0))):
        result = app.test_cli_runner().invoke(args=["guardians", "check-expiry"])
        assert result.exit_code == 0
        assert statuses(w)["assignment"] == "suspended" and not portal_shows_student(w)
        assert open_alerts(w, kind="assignment_suspended")
        # a new clear check: the guardian may serve again and the coordinator is offered the assignment
        guardian = reload(w.guardian)
        for kind in CHECK_KINDS:
            new = gs.record_check_request(w.coordinator, guardian, kind, lapse_day, lapse_day)
            gs.record_check_result(w.coordinator, new, "clear", lapse_day, f"NEW-{kind}")
        if guardian.status == "suspended":
            gs.change_guardian_status(w.coordinator, guardian, "active")
        db.session.commit()
        offered = open_alerts(w, kind="assignment_reactivatable", user_id=w.coordinator.id)
        assert offered, "the coordinator is offered the suspended assignment"
        assert statuses(w)["assignment"] == "suspended"  # reactivating is the coordinator's decision
        from app.guardians.assignments import reactivate_assignment
        reactivate_assignment(reload(w.assignment), w.coordinator)
        db.session.commit()
        assert statuses(w)["assignment"] == "active" and portal_shows_student(w)


def test_concern_raised_and_acknowledged(world):
    w = world
    log = log_activity(reload(w.assignment), w.guardian_user, occurred_on=today_kst(), minutes=60, kind="learning",
                       notes="수학 복습", concern=True,
                       concern_description="학생이 집에 보호자가 며칠째 없다고 말했습니다. 확인이 필요합니다.")
    db.session.commit()
    concern = db.session.execute(select(GuardianConcern).where(GuardianConcern.activity_id == log.id)).scalar_one()
    alerts = open_alerts(w, object_key=f"concern:{concern.id}")
    assert {n.user_id for n in alerts} >= {w.lead.id, w.staff.id, w.coordinator.id}
    assert all("우려" in n.text and w.case.student.name in n.text for n in alerts)
    since = last_audit_id()
    acknowledge_concern(concern, w.lead, response="보호자와 통화, 아동보호전문기관 상담 예정")
    db.session.commit()
    assert reload(concern).status == "acknowledged"
    assert open_alerts(w, object_key=f"concern:{concern.id}") == []
    assert "concern_acknowledged" in audit_actions(since)
    guardian_news = open_alerts(w, user_id=w.guardian_user.id, kind="concern_acknowledged")
    assert guardian_news and all("아동보호전문기관" not in n.text for n in guardian_news)
    # the chronology line opens the concern page (the audited full view)
    linked = db.session.execute(select(CaseEvent.link).where(CaseEvent.case_id == w.case.id,
                                                             CaseEvent.link.is_not(None))).scalars().all()
    assert f"/guardians/concerns/{concern.uid}" in linked


def test_conference_held_resolves_its_invitations(world):
    """The world's conference was recorded: its invitation no longer waits in anyone's alerts."""
    w = world
    assert open_alerts(w, object_key=f"conference:{w.conference.id}", kind="conference") == []
    assert db.session.execute(select(AuditEvent).where(AuditEvent.action == "conference_recorded")).first()
