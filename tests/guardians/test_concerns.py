"""Concerns close the loop: the school team and the coordinator read a concern in full (audited),
one of them acknowledges it with the response taken (and optionally a plan action or a note);
its alerts resolve; the guardian sees only that it was acknowledged; an unacknowledged concern is
escalated after one Korean business day (weekends and holidays do not count), once."""
import app.guardians.portal_views  # noqa: F401  (routes exist before apps are created)

import datetime as dt

import pytest
from freezegun import freeze_time
from sqlalchemy import func, select

from app import signals
from app.audit.models import AuditEvent
from app.cases.models import CaseEvent, CaseNote, PlanAction
from app.db import today_kst
from app.domain import DomainError, NotPermitted
from app.extensions import db
from app.guardians.activity import log_activity
from app.guardians.concerns import acknowledge_concern, answer_due
from app.guardians.models import GuardianConcern
from app.i18n import korean_date
from app.notifications.models import Notification

from .portal_setup import matched

DESCRIPTION = "학생이 최근 집에 보호자가 없는 날이 많다고 말했습니다."
RESPONSE = "담임이 보호자와 통화함. 돌봄교실 연계 예정"


def raise_one(pair) -> GuardianConcern:
    log_activity(pair.assignment, pair.user, occurred_on=today_kst(), minutes=40, kind="daily_life",
                 notes="아침을 거르고 옴", concern=True, concern_description=DESCRIPTION)
    db.session.commit()
    return db.session.execute(select(GuardianConcern).where(GuardianConcern.assignment_id == pair.assignment.id)
                              ).scalar_one()


@pytest.fixture
def pair(build, eligible_guardian, coordinator):
    pair = matched(build, eligible_guardian, coordinator)
    pair.staff = build.user("school_staff", organisation=pair.case.school)
    return pair


@pytest.fixture
def concern(pair):
    return raise_one(pair)


def _count(model, **filters) -> int:
    return db.session.execute(select(func.count()).select_from(model).filter_by(**filters)).scalar_one()


# -- reading it ---------------------------------------------------------------------------------

@pytest.mark.parametrize("who", ["lead", "staff", "coordinator"])
def test_school_team_and_coordinator_read_the_concern_in_full(pair, concern, coordinator, client, login, who):
    user = {"lead": pair.lead, "staff": pair.staff, "coordinator": coordinator}[who]
    login(user)
    response = client.get(f"/guardians/concerns/{concern.uid}")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert DESCRIPTION in html and pair.case.student.name in html and pair.guardian.name in html
    assert 'data-testid="form-acknowledge"' in html
    # plan actions and notes are the school team's: the coordinator acknowledges with a response only
    assert ('name="goal"' in html) == (who != "coordinator")
    viewed = db.session.execute(select(AuditEvent).filter_by(action="concern_viewed")).scalar_one()
    assert (viewed.actor_id, viewed.object_id, viewed.subject_ref) == (user.id, concern.uid, pair.case.student.uid)


def test_the_alert_leads_to_the_concern(pair, concern, client, login):
    login(pair.lead)
    alert = db.session.execute(select(Notification).filter_by(user_id=pair.lead.id, kind="concern")).scalar_one()
    assert client.get(alert.link).status_code == 200


@pytest.mark.parametrize("who", ["other_school", "own_guardian", "agency", "other_office", "auditor"])
def test_everyone_else_gets_an_audited_404(build, pair, concern, client, login, who):
    user = {"other_school": lambda: build.user("school_lead"), "own_guardian": lambda: pair.user,
            "agency": lambda: build.user("agency_coordinator"), "auditor": lambda: build.user("auditor"),
            "other_office": lambda: build.user("district_coordinator",
                                               organisation=build.organisation("district_office", "강남구"))}[who]()
    login(user)
    for response in (client.get(f"/guardians/concerns/{concern.uid}"),
                     client.post(f"/guardians/concerns/{concern.uid}/acknowledge", data={"response": RESPONSE})):
        assert response.status_code == 404 and DESCRIPTION not in response.get_data(as_text=True)
    denied = db.session.execute(select(AuditEvent).filter_by(action="permission_denied")).scalars().all()
    assert [e.object_id for e in denied] == [concern.uid, concern.uid]
    db.session.expire_all()
    assert concern.status == "open" and _count(AuditEvent, action="concern_viewed") == 0


def test_an_unknown_concern_is_a_404(pair, client, login):
    login(pair.lead)
    assert client.get("/guardians/concerns/nope").status_code == 404
    assert client.get("/guardians/concerns/" + "x" * 80).status_code == 404


# -- acknowledging it ---------------------------------------------------------------------------

def test_acknowledging_records_the_response_resolves_alerts_and_tells_the_guardian(pair, concern, client, login):
    seen = []
    receiver = lambda sender, **kwargs: seen.append(sender)  # noqa: E731
    signals.concern_acknowledged.connect(receiver)
    login(pair.lead)
    try:
        response = client.post(f"/guardians/concerns/{concern.uid}/acknowledge", data={
            "response": RESPONSE, "goal": "방과후 돌봄 확보", "action": "지역아동센터 연계 상담", "note": "",
            "note_kind": "counselling"}, follow_redirects=True)
    finally:
        signals.concern_acknowledged.disconnect(receiver)
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and "우려 보고를 확인하고 조치를 기록했습니다" in html and RESPONSE in html
    db.session.expire_all()
    assert (concern.status, concern.acknowledged_by_id) == ("acknowledged", pair.lead.id)
    assert concern.acknowledged_at is not None and concern.response == RESPONSE
    assert RESPONSE not in (concern.response_enc or "")
    assert seen == [concern]
    action = db.session.execute(select(PlanAction).where(PlanAction.case_id == pair.case.id)
                                .order_by(PlanAction.id.desc())).scalars().first()
    assert (action.goal, action.action, action.owner_id) == ("방과후 돌봄 확보", "지역아동센터 연계 상담", pair.lead.id)
    assert _count(CaseNote, case_id=pair.case.id) == 0
    # every concern alert resolved, for everyone
    alerts = db.session.execute(select(Notification).filter_by(kind="concern")).scalars().all()
    assert len(alerts) == 3 and all(n.resolved_at is not None for n in alerts)
    # the guardian hears that it was acknowledged, never what was done
    news = db.session.execute(select(Notification).filter_by(user_id=pair.user.id, kind="concern_acknowledged")
                              ).scalar_one()
    assert news.text == (f"{korean_date(today_kst())}에 보고하신 {pair.case.student.given_name} 학생에 대한 우려를 "
                         "학교·교육지원청에서 확인했습니다.")
    assert RESPONSE not in news.text and news.object_key is None
    event = db.session.execute(select(AuditEvent).filter_by(action="concern_acknowledged")).scalar_one()
    assert event.subject_ref == pair.case.student.uid and "통화" not in event.details
    texts = [e.text for e in db.session.execute(select(CaseEvent).filter_by(case_id=pair.case.id)).scalars()]
    assert any(t.startswith("교육후견인 우려 확인") for t in texts)


def test_the_guardian_sees_acknowledged_but_not_the_response(pair, concern, client, login):
    login(pair.user)
    page = client.get(f"/guardians/me/{pair.assignment.uid}").get_data(as_text=True)
    assert 'data-testid="concern-state"' in page and "확인 대기" in page
    acknowledge_concern(concern, pair.lead, response=RESPONSE)
    db.session.commit()
    page = client.get(f"/guardians/me/{pair.assignment.uid}").get_data(as_text=True)
    assert "확인 완료" in page and RESPONSE not in page and "보호자와 통화" not in page


def test_a_note_can_be_added_in_the_same_go(pair, concern):
    acknowledge_concern(concern, pair.staff, response=RESPONSE, note="보호자 상담 일정 잡음", note_kind="home_contact")
    db.session.commit()
    note = db.session.execute(select(CaseNote).filter_by(case_id=pair.case.id)).scalar_one()
    assert (note.kind, note.body) == ("home_contact", "보호자 상담 일정 잡음")


@pytest.mark.parametrize("fields, field, message", [
    ({"response": "  "}, "response", "취한 조치를 적어 주세요."),
    ({"response": RESPONSE, "goal": "돌봄 확보"}, "action", "목표와 실행 내용을 모두"),
    ({"response": RESPONSE, "action": "센터 상담"}, "goal", "목표와 실행 내용을 모두"),
    ({"response": RESPONSE, "note": "기록", "note_kind": "party"}, "note_kind", "기록 종류"),
])
def test_invalid_acknowledgements_are_refused_and_nothing_changes(pair, concern, fields, field, message):
    with pytest.raises(DomainError) as refused:
        acknowledge_concern(concern, pair.lead, **fields)
    assert refused.value.field == field and message in refused.value.message
    db.session.rollback()
    assert concern.status == "open" and _count(PlanAction, case_id=pair.case.id) == 2


def test_the_form_shows_refusals_in_korean(pair, concern, client, login):
    login(pair.lead)
    response = client.post(f"/guardians/concerns/{concern.uid}/acknowledge", data={"response": ""})
    assert response.status_code == 400 and "취한 조치를 적어 주세요." in response.get_data(as_text=True)
    response = client.post(f"/guardians/concerns/{concern.uid}/acknowledge", data={"response": RESPONSE, "goal": "x"})
    assert response.status_code == 400 and "목표와 실행 내용을 모두" in response.get_data(as_text=True)
    db.session.expire_all()
    assert concern.status == "open" and _count(PlanAction, case_id=pair.case.id) == 2


def test_a_coordinator_acknowledges_with_a_response_but_adds_no_plan(pair, concern, coordinator):
    with pytest.raises(DomainError, match="학교 지원팀만"):
        acknowledge_concern(concern, coordinator, response=RESPONSE, goal="돌봄", action="상담")
    db.session.rollback()
    acknowledge_concern(concern, coordinator, response=RESPONSE)
    db.session.commit()
    assert concern.acknowledged_by_id == coordinator.id


def test_acknowledging_twice_is_refused(pair, concern, client, login):
    acknowledge_concern(concern, pair.lead, response=RESPONSE)
    db.session.commit()
    with pytest.raises(DomainError, match="이미 확인된"):
        acknowledge_concern(concern, pair.staff, response="다른 조치")
    db.session.rollback()
    login(pair.staff)
    response = client.post(f"/guardians/concerns/{concern.uid}/acknowledge", data={"response": "다른 조치"})
    assert response.status_code == 400 and "이미 확인된" in response.get_data(as_text=True)
    db.session.expire_all()
    assert concern.response == RESPONSE and concern.acknowledged_by_id == pair.lead.id


def test_only_the_case_side_may_acknowledge(build, pair, concern):
    for outsider in (pair.user, build.user("school_lead"), build.user("agency_coordinator")):
        with pytest.raises(NotPermitted):
            acknowledge_concern(concern, outsider, response=RESPONSE)


# -- escalation after one business day ------------------------------------------------------------

def run(app, moment: str) -> str:
    with freeze_time(moment):
        result = app.test_cli_runner().invoke(args=["guardians", "escalate-concerns"])
    assert result.exit_code == 0, result.output
    db.session.expire_all()
    return result.output


def raised_at(build, eligible_guardian, coordinator, moment: str):
    """A pair set up a few days before, with a concern raised at ``moment`` (UTC)."""
    day = dt.datetime.fromisoformat(moment)
    with freeze_time(day - dt.timedelta(days=3)):
        pair = matched(build, eligible_guardian, coordinator)
    with freeze_time(day):
        concern = raise_one(pair)
    return pair, concern


def _overdue(**filters):
    return db.session.execute(select(Notification).filter_by(kind="concern_overdue", **filters)).scalars().all()


def test_escalation_skips_the_weekend_and_runs_once(app, build, eligible_guardian, coordinator):
    second = build.user("district_coordinator", organisation=coordinator.organisation)
    # Friday 2026-12-04 10:00 KST: due Monday 12-07 10:00 KST, not Saturday
    pair, concern = raised_at(build, eligible_guardian, coordinator, "2026-12-04 01:00:00")
    staff = build.user("school_staff", organisation=pair.case.school)
    assert answer_due(concern) == dt.datetime(2026, 12, 7, 10, 0)
    assert "미확인 우려 보고 0건" in run(app, "2026-12-05 03:00:00")   # Saturday noon
    assert "미확인 우려 보고 0건" in run(app, "2026-12-07 00:30:00")   # Monday 09:30 KST
    assert _overdue() == [] and concern.escalated_at is None
    output = run(app, "2026-12-07 01:30:00")                          # Monday 10:30 KST
    assert "미확인 우려 보고 1건, 알림 3건" in output
    alerts = _overdue()
    assert {n.user_id for n in alerts} == {coordinator.id, second.id, pair.lead.id}
    assert staff.id not in {n.user_id for n in alerts}
    assert all(n.object_key == f"concern:{concern.id}" and n.link == f"/guardians/concerns/{concern.uid}"
               for n in alerts)
    assert alerts[0].text == (f"우려 보고 미확인 (1영업일 경과): {pair.case.student.name} ({pair.case.school.name})"
                              " — 2026. 12. 4. 보고")
    assert concern.escalated_at == dt.datetime(2026, 12, 7, 1, 30)
    assert "미확인 우려 보고 0건" in run(app, "2026-12-08 01:00:00")    # idempotent
    assert len(_overdue()) == 3 and _count(AuditEvent, action="concern_escalated") == 1
    # acknowledging resolves the escalation alerts too
    acknowledge_concern(concern, pair.lead, response=RESPONSE)
    db.session.commit()
    assert all(n.resolved_at is not None for n in _overdue())


def test_escalation_skips_a_public_holiday(app, build, eligible_guardian, coordinator):
    # Thursday 2026-12-24 10:00 KST; Friday 12-25 is 성탄절, then the weekend: due Monday 12-28
    pair, concern = raised_at(build, eligible_guardian, coordinator, "2026-12-24 01:00:00")
    assert answer_due(concern) == dt.datetime(2026, 12, 28, 10, 0)
    run(app, "2026-12-26 01:00:00")
    run(app, "2026-12-28 00:00:00")
    assert _overdue() == []
    run(app, "2026-12-28 02:00:00")
    assert len(_overdue(user_id=coordinator.id)) == 1


def test_an_acknowledged_concern_is_not_escalated(app, build, eligible_guardian, coordinator):
    pair, concern = raised_at(build, eligible_guardian, coordinator, "2026-12-01 01:00:00")
    with freeze_time("2026-12-01 05:00:00"):
        acknowledge_concern(concern, pair.lead, response=RESPONSE)
        db.session.commit()
    assert "미확인 우려 보고 0건" in run(app, "2026-12-03 05:00:00")
    assert _overdue() == [] and concern.escalated_at is None
