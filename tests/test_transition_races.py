"""Two people changing one object at the same moment: exactly one transition wins, the other is
refused with a Korean message, and the audit trail tells the same story as the final state
(issue 19, item 1).  Real threads, one session (one connection) each, on the test database —
SQLite or PostgreSQL (IEUM_TEST_DATABASE_URL).

Two ways to race (``mode``):

- ``serialised`` (both databases): each thread loads its objects, ends that transaction (on
  SQLite it holds the write lock from its first query), meets the other at a barrier and calls
  the service.  On SQLite the writers run one after the other, so the loser meets the ordinary
  status refusal; on PostgreSQL it meets either that or the lock's "changed meanwhile".
- ``held_read`` (PostgreSQL only): each thread reads the object's status in its transaction and
  keeps that transaction open across the barrier, as a request does between loading an object
  and changing it.  Both have read the old status, so only the row lock can tell the loser: it
  must get "다른 사용자가 먼저 처리했습니다" (before the lock, both transitions were applied).

For assignments (accept, then the proposal is withdrawn) and plan actions (done, then cancelled)
the winner's target is a legal source of the loser's transition, so serialising the writers is
not enough: the services take the status the user's page showed (``expected_status``, a hidden
field or the button's value) and refuse if it changed, on both databases.

Across families: closing a case while a transition inside it (the guardian accepting, the agency
accepting a referral, a plan action marked done) runs.  One of them may lose; nobody may meet a
deadlock or a 500, and every object's audit trail must be one unbroken path to its final status.
A deadlock there fails the test (``known_deadlock``).
"""
from __future__ import annotations

import datetime as dt
import json
import threading
from types import SimpleNamespace
from typing import Callable

import pytest
from sqlalchemy import select

import app.guardians.match_views  # noqa: F401  (routes registered before the first app)
from app.agencies import referrals as r
from app.agencies.models import Referral
from app.audit.chain import verify_chain
from app.audit.models import AuditEvent
from app.auth.models import User
from app.cases import services as cs
from app.cases.consent import withdraw_consent
from app.cases.models import CaseSelection, Consent, PlanAction, SupportCase
from app.cases.plan import add_plan_action, set_action_status
from app.conferences.models import Conference
from app.conferences.recording import record_meeting
from app.conferences.services import cancel_conference
from app.db import today_kst
from app.domain import DomainError
from app.extensions import db as _db
from app.guardians.assignments import accept_assignment, close_assignment
from app.guardians.models import Assignment
from app.locking import ChangedMeanwhile

from .agencies.conftest import agency_with_service  # noqa: F401  (fixture)
from .agencies.test_referrals import draft, make_world
from .conferences.conftest import conference_world, make_conference  # noqa: F401  (fixtures)
from .concurrency import at_once
from .conftest import PG_URL
from .factories import consent_both
from .guardians.conftest import coordinator, eligible_guardian  # noqa: F401  (fixtures)
from .guardians.portal_setup import matched

CHANGED = "다른 사용자가 먼저 처리했습니다"
ROUNDS = range(3)
MODES = ["serialised", pytest.param("held_read", marks=pytest.mark.skipif(
    not PG_URL, reason="SQLite takes the write lock with a writer's first query: a read cannot be held "
                       "open across the barrier without blocking the other writer"))]


# --- the race --------------------------------------------------------------------------------

def race(app, load: Callable[[int], SimpleNamespace], act: list[Callable[[SimpleNamespace], None]],
         mode: str) -> list[str]:
    """Run ``act[0]`` and ``act[1]`` at the same moment in two threads, each on the objects its own
    session loaded with ``load(k)``; returns "ok" or the refusal's message for each, in order."""
    _db.session.rollback()  # the test's own session must not hold SQLite's write lock meanwhile

    def attempt(k: int, ready) -> str:
        objects = load(k)
        if mode == "serialised":
            _db.session.rollback()  # end the loading transaction (SQLite holds its write lock)
        ready()
        try:
            act[k](objects)
            _db.session.commit()
            return "ok"
        except DomainError as error:
            _db.session.rollback()
            return f"refused: {error.message}"

    return at_once(app, attempt)


def events(obj, action: str) -> list[AuditEvent]:
    object_id = str(getattr(obj, "uid", None) or obj.id)
    return list(_db.session.execute(select(AuditEvent).filter_by(
        action=action, object_type=obj.__tablename__, object_id=object_id).order_by(AuditEvent.id)).scalars())


def winner_of(outcomes: list[str], mode: str) -> int:
    """Exactly one racer won; the other was refused with a Korean message (no other error)."""
    assert outcomes.count("ok") == 1, outcomes
    winner = outcomes.index("ok")
    loser = outcomes[1 - winner]
    assert loser.startswith("refused: "), outcomes
    assert any("\uac00" <= ch <= "\ud7a3" for ch in loser), outcomes  # said in Korean
    if mode == "held_read":  # both read the old status: only the row lock can have told the loser
        assert CHANGED in loser, outcomes
    return winner


def check_trail(obj, actions: list[str], winner: int, final: str, targets: list[str],
                attribute: str = "status") -> None:
    """The object ends in the winner's target; one audit event for the winner, none for the loser."""
    assert getattr(obj, attribute) == final == targets[winner]
    assert len(events(obj, actions[winner])) == 1
    if actions[1 - winner] != actions[winner]:
        assert events(obj, actions[1 - winner]) == []
    assert verify_chain().ok


def known_deadlock(outcomes: list[str]) -> None:
    """PostgreSQL: a transition that locked its own row and then waited for the audit chain lock,
    against a case close holding the chain lock and then locking the case's referrals, assignments
    and actions, deadlocked.  Every transition now takes the chain lock first (app/locking.py):
    a deadlock is a failure again."""
    if any("DeadlockDetected" in outcome for outcome in outcomes):
        pytest.fail(f"lock-order deadlock between the case close and a transition inside it: {outcomes}")


# --- 1. cases: 선정 against 미선정 -----------------------------------------------------------------

@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("round_", ROUNDS)
def test_select_against_not_select(app, db, build, mode, round_):
    school = build.school()
    leads = [build.user("school_lead", organisation=school), build.user("school_lead", organisation=school)]
    case = build.case(school, status="screening", lead=leads[0])
    case_id, lead_ids = case.id, [u.id for u in leads]

    def load(k):
        found = SimpleNamespace(case=_db.session.get(SupportCase, case_id), actor=_db.session.get(User, lead_ids[k]))
        assert found.case.status == "screening"
        return found

    act = [lambda o: cs.select_case(o.case, o.actor, meeting_on=today_kst() - dt.timedelta(days=1),
                                    members="교감, 담임, 상담교사", teacher_opinions="담임: 학습 결손 뚜렷"),
           lambda o: cs.not_select_case(o.case, o.actor, meeting_on=today_kst(), members="교감, 담임",
                                        reason="지원 필요성 낮음")]
    outcomes = race(app, load, act, mode)
    winner = winner_of(outcomes, mode)
    case = db.session.get(SupportCase, case_id)
    check_trail(case, ["case_select", "case_not_select"], winner, case.status, ["selected", "not_selected"])
    decisions = db.session.execute(select(CaseSelection.selected).filter_by(case_id=case_id)).scalars().all()
    assert decisions == [winner == 0]


# --- 2. referrals: 접수 against 거절 -------------------------------------------------------------

@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("round_", ROUNDS)
def test_accept_against_decline(app, db, build, agency_with_service, mode, round_):  # noqa: F811
    w = make_world(build, agency_with_service)
    referral = draft(w)
    r.send_referral(referral, w.staff)
    db.session.commit()
    agents = [w.agent.id, build.user("agency_coordinator", organisation=w.agency).id]
    referral_id = referral.id

    def load(k):
        found = SimpleNamespace(referral=_db.session.get(Referral, referral_id), actor=_db.session.get(User, agents[k]))
        assert found.referral.status == "sent"
        return found

    act = [lambda o: r.accept_referral(o.referral, o.actor),
           lambda o: r.decline_referral(o.referral, o.actor, "no_capacity", "이번 학기 정원 마감")]
    outcomes = race(app, load, act, mode)
    winner = winner_of(outcomes, mode)
    referral = db.session.get(Referral, referral_id)
    check_trail(referral, ["referral_accepted", "referral_declined"], winner, referral.status,
                ["accepted", "declined"])
    assert referral.responded_by_id == agents[winner]


# --- 3. assignments: the guardian accepts while the coordinator withdraws the proposal -----------

@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("round_", ROUNDS)
def test_accept_against_withdrawal(app, db, build, eligible_guardian, coordinator, mode, round_):  # noqa: F811
    pair = matched(build, eligible_guardian, coordinator, accept=False)
    assignment_id, actors = pair.assignment.id, [pair.user.id, coordinator.id]

    def load(k):
        found = SimpleNamespace(assignment=_db.session.get(Assignment, assignment_id),
                                actor=_db.session.get(User, actors[k]))
        assert found.assignment.status == "proposed"
        return found

    # the coordinator's page showed a proposal: its hidden field says so (EndForm.seen)
    act = [lambda o: accept_assignment(o.assignment, o.actor),
           lambda o: close_assignment(o.assignment, o.actor, "guardian_withdrew", False, expected_status="proposed")]
    actions, targets = ["assignment_accepted", "assignment_closed"], ["active", "closed"]
    outcomes = race(app, load, act, mode)
    assignment = db.session.get(Assignment, assignment_id)
    winner = winner_of(outcomes, mode)
    check_trail(assignment, actions, winner, assignment.status, targets)


# --- 4. conferences: recording the meeting against cancelling it ---------------------------------

@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("round_", ROUNDS)
def test_record_against_cancel(app, db, conference_world, make_conference, mode, round_):  # noqa: F811
    w = conference_world
    conference = make_conference(started=True)
    conference_id, case_ids, actors = conference.id, [cc.case_id for cc in conference.cases], [w.lead.id, w.staff.id]

    def load(k):
        found = SimpleNamespace(conference=_db.session.get(Conference, conference_id),
                                actor=_db.session.get(User, actors[k]))
        assert found.conference.status == "scheduled"
        return found

    act = [lambda o: record_meeting(o.conference, o.actor, attended_participant_ids=[], minutes="두 사례 논의",
                                    decisions={case_id: dict(decision="continue", actions=[]) for case_id in case_ids}),
           lambda o: cancel_conference(o.conference, o.actor, reason="보호자 요청으로 연기")]
    outcomes = race(app, load, act, mode)
    winner = winner_of(outcomes, mode)
    conference = db.session.get(Conference, conference_id)
    check_trail(conference, ["conference_recorded", "conference_cancelled"], winner, conference.status,
                ["held", "cancelled"])
    assert (conference.cancel_reason is None) == (winner == 0)


# --- 5. consents: two school users withdraw the same consent ---------------------------------------

@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("round_", ROUNDS)
def test_withdrawal_twice(app, db, build, mode, round_):
    school = build.school()
    lead, staff = build.user("school_lead", organisation=school), build.user("school_staff", organisation=school)
    case = build.case(school, status="planning", lead=lead)
    consent = consent_both(case, lead)[1]  # the parent's
    db.session.commit()
    ids = SimpleNamespace(case=case.id, consent=consent.id, actors=[lead.id, staff.id])

    def load(k):
        found = SimpleNamespace(case=_db.session.get(SupportCase, ids.case),
                                consent=_db.session.get(Consent, ids.consent),
                                actor=_db.session.get(User, ids.actors[k]))
        assert found.consent.withdrawn_on is None
        return found

    act = [lambda o: withdraw_consent(o.consent, o.case, o.actor)] * 2
    outcomes = race(app, load, act, mode)
    winner = winner_of(outcomes, mode)
    consent = db.session.get(Consent, ids.consent)
    assert consent.withdrawn_on == today_kst()
    events_ = events(consent, "consent_withdrawn")
    assert len(events_) == 1 and events_[0].actor_id == ids.actors[winner]
    assert verify_chain().ok


# --- 6. plan actions: 완료 against 취소 ----------------------------------------------------------

@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("round_", ROUNDS)
def test_done_against_cancelled(app, db, build, mode, round_):
    school = build.school()
    lead, staff = build.user("school_lead", organisation=school), build.user("school_staff", organisation=school)
    case = build.case(school, status="planning", lead=lead)
    item = add_plan_action(case, lead, goal="분수 계산 익히기", action="주 2회 방과후 지도")
    db.session.commit()
    ids = SimpleNamespace(case=case.id, item=item.id, actors=[lead.id, staff.id])

    def load(k):
        found = SimpleNamespace(case=_db.session.get(SupportCase, ids.case), item=_db.session.get(PlanAction, ids.item),
                                actor=_db.session.get(User, ids.actors[k]))
        assert found.item.status == "open"
        return found

    # both pages showed an open action: the buttons post "done@open" / "cancelled@open"
    act = [lambda o: set_action_status(o.item, o.case, o.actor, "done", expected_status="open"),
           lambda o: set_action_status(o.item, o.case, o.actor, "cancelled", expected_status="open")]
    targets = ["done", "cancelled"]
    outcomes = race(app, load, act, mode)
    item = db.session.get(PlanAction, ids.item)
    trail = [(e.actor_id, json.loads(e.details)["to"]) for e in events(item, "plan_action_status")]
    winner = winner_of(outcomes, mode)
    assert item.status == targets[winner]
    assert trail == [(ids.actors[winner], targets[winner])], trail
    assert verify_chain().ok


# --- the lock is what tells the loser ------------------------------------------------------------

@pytest.mark.skipif(not PG_URL, reason="SQLite has one writer at a time: a second session cannot change "
                                       "the row between this transaction's read and its lock")
def test_a_change_committed_after_the_read_is_refused(app, db, build, make_app):
    """Session A reads the case (screening); session B selects it and commits; A then tries
    미선정 in the same transaction: the lock reloads the row and A is told someone was first."""
    school = build.school()
    leads = [build.user("school_lead", organisation=school), build.user("school_lead", organisation=school)]
    case = build.case(school, status="screening", lead=leads[0])
    case_id, lead_ids = case.id, [u.id for u in leads]
    db.session.commit()
    case = db.session.get(SupportCase, case_id)
    assert case.status == "screening"  # read in A's (the test session's) transaction, still open

    def other_session():
        with app.app_context():
            try:
                other = _db.session.get(SupportCase, case_id)
                cs.select_case(other, _db.session.get(User, lead_ids[1]), meeting_on=today_kst(),
                               members="교감, 담임", teacher_opinions="담임: 학습 결손")
                _db.session.commit()
            finally:
                _db.session.remove()

    thread = threading.Thread(target=other_session)  # a new app context: its own session, connection
    thread.start()
    thread.join(60)
    assert not thread.is_alive()
    assert case.status == "screening"  # A still sees what it read
    with pytest.raises(ChangedMeanwhile) as refused:
        cs.not_select_case(case, db.session.get(User, lead_ids[0]), meeting_on=today_kst(), members="교감, 담임",
                           reason="지원 필요성 낮음")
    assert CHANGED in refused.value.message and isinstance(refused.value, DomainError)
    db.session.rollback()
    case = db.session.get(SupportCase, case_id)
    assert case.status == "selected"
    assert len(events(case, "case_select")) == 1 and events(case, "case_not_select") == []


# --- across families: closing the case while its guardian accepts the proposal ---------------------

@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("round_", ROUNDS)
def test_case_close_against_guardian_accepting(app, db, build, eligible_guardian, coordinator, mode,  # noqa: F811
                                                round_):
    """The close locks the case and then ends the proposal; the acceptance locks the proposal and
    then the case.  One wins; nobody meets a deadlock.  (No answer for the assignment is given
    on the close form, so a close after the acceptance is refused.)"""
    pair = matched(build, eligible_guardian, coordinator, accept=False)
    ids = SimpleNamespace(case=pair.case.id, assignment=pair.assignment.id, actors=[pair.lead.id, pair.user.id],
                          needs=[n.id for n in pair.case.needs])

    def load(k):
        found = SimpleNamespace(case=_db.session.get(SupportCase, ids.case),
                                assignment=_db.session.get(Assignment, ids.assignment),
                                actor=_db.session.get(User, ids.actors[k]))
        assert found.case.status == "in_support" and found.assignment.status == "proposed"
        return found

    act = [lambda o: cs.close_case(o.case, o.actor, reason="goals_met",
                                   outcomes={need_id: ("improved", "") for need_id in ids.needs}),
           lambda o: accept_assignment(o.assignment, o.actor)]
    outcomes = race(app, load, act, mode)
    known_deadlock(outcomes)
    winner = outcomes.index("ok") if "ok" in outcomes else None
    assert outcomes.count("ok") == 1 and outcomes[1 - winner].startswith("refused: "), outcomes
    case, assignment = db.session.get(SupportCase, ids.case), db.session.get(Assignment, ids.assignment)
    assert (case.status, assignment.status) == [("closed", "closed"), ("in_support", "active")][winner]
    assert len(events(case, "case_close")) == (winner == 0)
    assert len(events(assignment, "assignment_closed")) == (winner == 0)
    assert len(events(assignment, "assignment_accepted")) == (winner == 1)
    assert verify_chain().ok


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("round_", ROUNDS)
@pytest.mark.parametrize("other", ["referral", "plan_action"])
def test_case_close_against_a_change_inside_it(app, db, build, agency_with_service, mode, round_,  # noqa: F811
                                               other):
    """Closing a case while an agency accepts its referral, or a colleague marks a plan action
    done: whichever order the database picks, nobody meets a deadlock or a 500, and the object's
    audit trail ends in its final status.  (Both may succeed: the close answers for the referral
    and leaves a finished action alone.)"""
    w = make_world(build, agency_with_service, status="in_support")
    referral = draft(w)
    r.send_referral(referral, w.staff)
    item = add_plan_action(w.case, w.lead, goal="분수 계산 익히기", action="주 2회 방과후 지도")
    db.session.commit()
    ids = SimpleNamespace(case=w.case.id, referral=referral.id, item=item.id, needs=[n.id for n in w.case.needs],
                          actors=[w.lead.id, w.agent.id if other == "referral" else w.staff.id])
    model = {"referral": Referral, "plan_action": PlanAction}[other]

    def load(k):
        found = SimpleNamespace(case=_db.session.get(SupportCase, ids.case),
                                referral=_db.session.get(Referral, ids.referral),
                                item=_db.session.get(PlanAction, ids.item), actor=_db.session.get(User, ids.actors[k]))
        assert found.case.status == "in_support" and found.referral.status == "sent" and found.item.status == "open"
        return found

    act = [lambda o: cs.close_case(o.case, o.actor, reason="goals_met",
                                   outcomes={need_id: ("improved", "") for need_id in ids.needs},
                                   choices={f"referral_{ids.referral}": "목표 달성으로 종결"}),
           (lambda o: r.accept_referral(o.referral, o.actor)) if other == "referral" else
           (lambda o: set_action_status(o.item, o.case, o.actor, "done"))]
    outcomes = race(app, load, act, mode)
    known_deadlock(outcomes)
    assert all(o == "ok" or o.startswith("refused: ") for o in outcomes), outcomes
    assert "ok" in outcomes, outcomes
    case = db.session.get(SupportCase, ids.case)
    obj = db.session.get(model, ids.item if other == "plan_action" else ids.referral)
    assert case.status == ("closed" if outcomes[0] == "ok" else "in_support")
    assert len(events(case, "case_close")) == (outcomes[0] == "ok")
    trail = list(_db.session.execute(select(AuditEvent).where(
        AuditEvent.object_type == obj.__tablename__, AuditEvent.object_id == str(getattr(obj, "uid", None) or obj.id),
        AuditEvent.details.is_not(None)).order_by(AuditEvent.id)).scalars())
    moves = [json.loads(e.details) for e in trail if '"to"' in (e.details or "")]
    assert moves and moves[-1]["to"] == obj.status, (outcomes, moves, obj.status)
    assert all(a["to"] == b["from"] for a, b in zip(moves, moves[1:])), moves  # one unbroken path
    assert verify_chain().ok
