"""Recording a meeting: all or nothing, decisions through the case services, action items in the plan."""
from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import func, select

from app.agencies import referrals as r
from app.audit.models import AuditEvent
from app.cases.chronology import case_events
from app.cases.models import CaseEscalation, CaseEvent, PlanAction
from app.conferences import services as cs
from app.conferences.models import ActionItem, ConferenceCase
from app.db import today_kst
from app.domain import DomainError, NotPermitted


def rows(db, model) -> int:
    return db.session.execute(select(func.count()).select_from(model)).scalar_one()


def snapshot(db, w):
    db.session.expire_all()
    return dict(items=rows(db, ActionItem), plan=rows(db, PlanAction), events=rows(db, CaseEvent),
                escalations=rows(db, CaseEscalation),
                decided=db.session.execute(select(func.count()).select_from(ConferenceCase)
                                           .where(ConferenceCase.decision.is_not(None))).scalar_one(),
                statuses=(w.guardian_case.status, w.referral_case.status), escalation=w.guardian_case.escalation_open)


def decision(kind: str, note: str = "회의 메모", actions=(), review=None) -> dict:
    return dict(decision=kind, note=note, next_review_on=review, actions=list(actions))


def team_action(text: str = "담임 상담 주 1회", days: int = 7) -> dict:
    return dict(description=text, owner_kind="school_team", due_on=today_kst() + dt.timedelta(days=days))


def closing(case, reason: str = "goals_met", outcome: str = "resolved", **choices) -> dict:
    """The close answers for ``case``: a reason, one outcome per open need, the given choices."""
    return dict(reason=reason, outcomes={n.id: (outcome, "목표 달성 확인") for n in case.needs if n.resolved_on is None},
                choices=choices)


def test_close_without_every_answer_is_refused_and_nothing_saved(db, conference_world, make_conference):
    """No made-up reason or outcome: each missing answer is named, and nothing is recorded."""
    w = conference_world
    conf = make_conference(started=True)
    before = snapshot(db, w)
    g, r = w.guardian_case, w.referral_case
    assignment_key, referral_key = f"assignment_{w.assignment.id}", f"referral_{w.referral.id}"
    attempts = [
        ({}, f"{g.student.name} 학생 사례의 종결 사유를 선택"),
        ({g.id: dict(reason="made_up", outcomes={}, choices={})}, "종결 사유를 선택"),
        ({g.id: closing(g)}, f"{g.student.name} 학생 사례를 종결하려면 '교육후견인 .* 배정 종료 사유'"),
        ({g.id: closing(g, **{assignment_key: "not_a_code"})}, "배정 종료 사유"),
        ({g.id: dict(closing(g, **{assignment_key: "goals_met"}), outcomes={})},
         f"{g.student.name} 학생 사례를 종결할 수 없습니다: .*영역의 결과를 선택"),
    ]
    for closings, message in attempts:
        with pytest.raises(DomainError, match=message):
            cs.record_meeting(conf, w.lead, attended_participant_ids=[], minutes="회의록", closings=closings,
                              decisions={g.id: decision("close"), r.id: decision("continue")})
        db.session.rollback()
    # the referral the agency has in hand: cancelled only with a reason written on the form
    with pytest.raises(DomainError, match=f"{r.student.name} 학생 사례를 종결할 수 없습니다: .*진행 중입니다"):
        cs.record_meeting(conf, w.lead, attended_participant_ids=[], minutes="회의록",
                          decisions={g.id: decision("continue"), r.id: decision("close")},
                          closings={r.id: closing(r, **{referral_key: ""})})
    db.session.rollback()
    assert snapshot(db, w) == before
    assert conf.status == "scheduled" and conf.minutes is None
    assert all(p.attended is None for p in conf.participants)
    assert w.assignment.status == "active" and w.referral.status == "accepted"


def test_close_with_every_answer_ends_assignment_referral_and_open_tasks(db, conference_world, make_conference):
    w = conference_world
    g, r = w.guardian_case, w.referral_case
    earlier = make_conference(cases=[g], started=True)
    cs.record_meeting(earlier, w.lead, attended_participant_ids=[], minutes="m", decisions={
        g.id: decision("modify", actions=[team_action("주 1회 상담")])})
    db.session.commit()
    conf = make_conference(started=True)
    cs.record_meeting(conf, w.lead, attended_participant_ids=[], minutes="회의록", decisions={
        g.id: decision("close"), r.id: decision("close")}, closings={
        g.id: closing(g, "other", "improved", **{f"assignment_{w.assignment.id}": "goals_met"}),
        r.id: closing(r, "goals_met", "resolved", **{f"referral_{w.referral.id}": "학교에서 지원 종결"})})
    db.session.commit()
    db.session.expire_all()
    assert g.status == r.status == "closed"
    assert (g.close_reason, r.close_reason) == ("other", "goals_met")  # as answered, not a default
    assert {n.outcome for n in g.needs} == {"improved"} and {n.outcome for n in r.needs} == {"resolved"}
    assert w.assignment.status == "closed" and w.assignment.close_reason == "goals_met"
    assert w.referral.status == "cancelled"
    item = db.session.execute(select(ActionItem).filter_by(conference_id=earlier.id)).scalar_one()
    assert item.status == "case_closed"
    assert db.session.get(PlanAction, item.plan_action_id).status == "case_closed"
    assert db.session.execute(select(func.count()).select_from(AuditEvent).filter_by(action="case_close")).scalar_one() == 2
    assert any(e.text == "사례 종결로 사례회의 실행 과제 1건 종료" for e in case_events(g, "conference"))


def test_close_takes_no_action_items_or_review(db, conference_world, make_conference):
    w = conference_world
    r = w.referral_case
    conf = make_conference(cases=[r], started=True)
    answers = {r.id: closing(r, **{f"referral_{w.referral.id}": "종결"})}
    for given, message in ((decision("close", actions=[team_action()]), "실행 과제를 정할 수 없습니다"),
                           (decision("close", review=today_kst() + dt.timedelta(days=7)), "점검일을 정할 수 없습니다")):
        with pytest.raises(DomainError, match=message):
            cs.record_meeting(conf, w.lead, attended_participant_ids=[], minutes="m", decisions={r.id: given},
                              closings=answers)
        db.session.rollback()
    assert r.status == "in_support" and conf.status == "scheduled"


def test_close_needs_the_school_lead(db, conference_world, make_conference):
    w = conference_world
    conf = make_conference(cases=[w.private_case], started=True)
    with pytest.raises(NotPermitted, match="지원팀장"):
        cs.record_meeting(conf, w.staff, attended_participant_ids=[], minutes="회의록",
                          decisions={w.private_case.id: decision("close")})
    with pytest.raises(DomainError, match="상태에서는"):  # the case service's own rule: planning cannot close
        cs.record_meeting(conf, w.lead, attended_participant_ids=[], minutes="회의록",
                          decisions={w.private_case.id: decision("close")})


def test_record_escalate_and_actions(db, conference_world, make_conference):
    w = conference_world
    conf = make_conference(externals=[("홍길동", "구청")], started=True)
    review = today_kst() + dt.timedelta(days=30)
    attended = [p.id for p in conf.participants if p.user_id in (w.staff.id, w.agent.id) or p.user_id is None]
    plan_before = rows(db, PlanAction)
    cs.record_meeting(conf, w.staff, attended_participant_ids=attended, minutes="비밀 회의록 내용", decisions={
        w.guardian_case.id: decision("escalate", "위기 수준 상향", review=review, actions=[
            team_action(), dict(description="주 2회 학습 지원", owner_kind="user", owner_user_id=w.guardian_user.id,
                                due_on=today_kst() + dt.timedelta(days=10)),
            dict(description="담임 면담", owner_kind="user", owner_user_id=w.staff.id, due_on=None)]),
        w.referral_case.id: decision("refer", "", actions=[
            dict(description="집단 상담", owner_kind="agency", owner_agency_id=w.agency.id,
                 due_on=today_kst() + dt.timedelta(days=14))])})
    db.session.commit()
    assert conf.status == "held" and conf.held_at is not None and conf.minutes == "비밀 회의록 내용"
    assert "비밀" not in conf.minutes_enc
    assert {p.id for p in conf.participants if p.attended} == set(attended)
    assert w.guardian_case.escalation_open
    escalated = db.session.execute(select(AuditEvent).filter_by(action="case_escalated")).scalar_one()
    assert escalated.object_id == w.guardian_case.uid
    cc = {c.case_id: c for c in conf.cases}
    assert cc[w.guardian_case.id].decision == "escalate" and cc[w.guardian_case.id].next_review_on == review
    assert cc[w.guardian_case.id].decision_note == "위기 수준 상향"
    items = db.session.execute(select(ActionItem).order_by(ActionItem.id)).scalars().all()
    assert len(items) == 4 and all(i.plan_action_id for i in items)
    plans = {p.id: p for p in db.session.execute(select(PlanAction)).scalars()}
    assert rows(db, PlanAction) == plan_before + 4
    owners = [(plans[i.plan_action_id].owner_id, plans[i.plan_action_id].owner_agency_id,
               plans[i.plan_action_id].owner_name) for i in items]
    assert owners == [(None, None, None), (w.guardian_user.id, None, w.guardian_user.display_name),
                      (w.staff.id, None, w.staff.display_name), (None, w.agency.id, w.agency.name)]
    # the plan line says what the task is, never a constant title (no name copied in plain text)
    assert [plans[i.plan_action_id].goal for i in items] == ["담임 상담 주 1회", "주 2회 학습 지원", "담임 면담", "집단 상담"]
    assert all(plans[i.plan_action_id].action == i.description for i in items)
    texts = [e.text for e in case_events(w.guardian_case, "conference")]
    assert any(t.startswith("사례회의 결정: 교육지원청 요청 — 위기 수준 상향") for t in texts)
    recorded = db.session.execute(select(AuditEvent).filter_by(action="conference_recorded")).scalar_one()
    assert "비밀" not in recorded.details and "escalate" in recorded.details
    with pytest.raises(DomainError, match="예정된 회의만"):
        cs.record_meeting(conf, w.staff, attended_participant_ids=[], minutes="x",
                          decisions={c: decision("continue") for c in cc})


def test_validation_refusals(db, build, conference_world, make_conference):
    w = conference_world
    conf = make_conference(started=True)
    ok = {w.guardian_case.id: decision("continue"), w.referral_case.id: decision("continue")}
    other_agency = build.agency()
    bad = [
        (dict(decisions={w.guardian_case.id: decision("continue")}), "결정을 선택"),
        (dict(decisions={**ok, w.referral_case.id: decision("maybe")}), "결정을 선택"),
        (dict(decisions={**ok, w.other_case.id: decision("continue")}), "다루지 않은"),
        (dict(minutes=" "), "회의록"),
        (dict(attended_participant_ids=[99999]), "참석자 목록"),
        (dict(decisions={**ok, w.referral_case.id: decision("modify", actions=[team_action(" ")])}), "내용"),
        (dict(decisions={**ok, w.referral_case.id: decision("modify", actions=[dict(description="x")])}), "담당"),
        (dict(decisions={**ok, w.referral_case.id: decision("modify", actions=[
            dict(description="x", owner_kind="user", owner_user_id=w.guardian_user.id)])}), "관계된 사용자"),
        (dict(decisions={**ok, w.referral_case.id: decision("modify", actions=[
            dict(description="x", owner_kind="agency", owner_agency_id=other_agency.id)])}), "접수한 기관"),
        (dict(decisions={**ok, w.referral_case.id: decision("modify", actions=[team_action(days=-1)])}), "기한"),
        (dict(decisions={**ok, w.referral_case.id: decision("continue", review=today_kst() - dt.timedelta(days=1))}),
         "점검일"),
        (dict(decisions={**ok, w.referral_case.id: decision("escalate", note="")}), "사유"),
    ]
    before = snapshot(db, w)
    for overrides, message in bad:
        values = dict(attended_participant_ids=[], minutes="회의록", decisions=ok)
        values.update(overrides)
        with pytest.raises(DomainError, match=message):
            cs.record_meeting(conf, w.lead, **values)
        db.session.rollback()
    assert snapshot(db, w) == before and conf.status == "scheduled"
    for outsider in (w.agent, w.guardian_user, w.coordinator, w.other_lead):
        with pytest.raises(NotPermitted):
            cs.record_meeting(conf, outsider, attended_participant_ids=[], minutes="회의록", decisions=ok)


def test_escalate_twice_is_refused(db, conference_world, make_conference):
    w = conference_world
    first = make_conference(cases=[w.guardian_case], started=True)
    second = make_conference(cases=[w.guardian_case], started=True)
    cs.record_meeting(first, w.lead, attended_participant_ids=[], minutes="m",
                      decisions={w.guardian_case.id: decision("escalate")})
    db.session.commit()
    with pytest.raises(DomainError, match="이미 교육지원청"):
        cs.record_meeting(second, w.lead, attended_participant_ids=[], minutes="m",
                          decisions={w.guardian_case.id: decision("escalate")})


def test_case_service_refusal_inside_the_savepoint_rolls_everything_back(db, conference_world, make_conference):
    """A refusal raised only while applying (bad close outcomes) leaves nothing behind."""
    w = conference_world
    conf = make_conference(started=True)
    r.start_service(w.referral, w.agent)
    r.complete_referral(w.referral, w.agent, "완료")
    db.session.commit()
    before = snapshot(db, w)
    with pytest.raises(DomainError, match="결과를 선택"):
        cs.record_meeting(conf, w.lead, attended_participant_ids=[], minutes="m", decisions={
            w.guardian_case.id: decision("escalate", actions=[team_action()]),
            w.referral_case.id: decision("close")},
            closings={w.referral_case.id: dict(reason="goals_met", outcomes={}, choices={})})
    db.session.rollback()
    assert snapshot(db, w) == before and conf.status == "scheduled"
    assert db.session.execute(select(AuditEvent).filter_by(action="case_escalated")).first() is None


def test_district_conference_actions_stay_without_plan(db, conference_world, make_conference):
    w = conference_world
    conf = make_conference(actor=w.coordinator, kind="district", cases=[w.guardian_case], users=[w.staff],
                           started=True)
    with pytest.raises(NotPermitted, match="학교의 지원팀"):
        cs.record_meeting(conf, w.coordinator, attended_participant_ids=[], minutes="m",
                          decisions={w.guardian_case.id: decision("escalate")})
    cs.record_meeting(conf, w.coordinator, attended_participant_ids=[], minutes="m",
                      decisions={w.guardian_case.id: decision("modify", actions=[team_action()])})
    db.session.commit()
    item = db.session.execute(select(ActionItem)).scalar_one()
    assert item.plan_action_id is None and item.owner_kind == "school_team"


def test_action_item_status(db, conference_world, make_conference):
    w = conference_world
    conf = make_conference(cases=[w.guardian_case], started=True)
    cs.record_meeting(conf, w.lead, attended_participant_ids=[], minutes="m", decisions={
        w.guardian_case.id: decision("modify", actions=[dict(description="학습 지원", owner_kind="user",
                                                             owner_user_id=w.guardian_user.id)])})
    db.session.commit()
    item = db.session.execute(select(ActionItem)).scalar_one()
    with pytest.raises(NotPermitted):
        cs.set_action_item_status(item, w.agent, "done")
    with pytest.raises(DomainError, match="상태를 선택"):
        cs.set_action_item_status(item, w.guardian_user, "finished")
    cs.set_action_item_status(item, w.guardian_user, "done")
    db.session.commit()
    assert item.status == "done" and db.session.get(PlanAction, item.plan_action_id).status == "done"
    cs.set_action_item_status(item, w.staff, "open")
    db.session.commit()
    assert db.session.get(PlanAction, item.plan_action_id).status == "open"
    with pytest.raises(DomainError, match="이미"):
        cs.set_action_item_status(item, w.staff, "open")
