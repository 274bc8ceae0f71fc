"""Conferences in the lifecycle loop: a closed case takes its action items and reviews off every
list; the meeting record sends ``conference_held`` (invitations resolve; a refusal rolls back)."""
from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from app import signals
from app.audit.models import AuditEvent
from app.cases import services as case_services
from app.cases.chronology import case_events
from app.conferences import access as a
from app.conferences import services as cs
from app.conferences.cli import due_work
from app.conferences.models import ActionItem
from app.db import today_kst
from app.domain import DomainError
from app.notifications.models import Notification

from .conftest import start


@pytest.fixture
def tasks(db, conference_world, make_conference):
    """A held meeting on both cases, with items for the guardian, the agency and the school team
    (overdue by now) and a review on each case."""
    w = conference_world
    conf = make_conference(started=True)
    soon = today_kst() + dt.timedelta(days=2)
    cs.record_meeting(conf, w.lead, attended_participant_ids=[], minutes="m", decisions={
        w.guardian_case.id: dict(decision="continue", next_review_on=soon, actions=[
            dict(description="가정 방문", owner_kind="user", owner_user_id=w.guardian_user.id, due_on=soon)]),
        w.referral_case.id: dict(decision="modify", next_review_on=soon, actions=[
            dict(description="상담 결과 회신", owner_kind="agency", owner_agency_id=w.agency.id, due_on=soon),
            dict(description="학교 회의", owner_kind="school_team", due_on=soon)])})
    db.session.commit()
    for item in db.session.execute(select(ActionItem)).scalars():
        item.due_on = today_kst() - dt.timedelta(days=2)  # overdue, as time would have made it
    db.session.commit()
    return conf


def descriptions(rows) -> set[str]:
    return {row.item.description for row in rows}


def close_referral_case(w):
    case = w.referral_case
    case_services.close_case(case, w.lead, reason="goals_met",
                             outcomes={n.id: ("resolved", "") for n in case.needs if n.resolved_on is None},
                             choices={f"referral_{w.referral.id}": "학교 지원 종결"})


def test_closing_a_case_ends_its_action_items_and_takes_them_off_every_list(app, db, client, login,
                                                                          conference_world, tasks):
    w = conference_world
    today = today_kst()
    assert descriptions(a.my_action_items(w.agent, today)) == {"상담 결과 회신"}
    assert descriptions(a.my_action_items(w.staff, today)) == {"학교 회의"}
    result = app.test_cli_runner().invoke(args=["conferences", "remind"])
    assert result.exit_code == 0, result.output
    reminders = db.session.execute(select(Notification).where(Notification.kind == "conference_action")).scalars().all()
    assert reminders
    close_referral_case(w)
    db.session.commit()
    db.session.expire_all()
    items = {i.description: i for i in db.session.execute(select(ActionItem)).scalars()}
    assert items["상담 결과 회신"].status == items["학교 회의"].status == "case_closed"
    assert items["가정 방문"].status == "open"  # another case's item stays
    ended = db.session.execute(select(AuditEvent).filter_by(action="conference_action_status")).scalars().all()
    assert sorted(e.object_id for e in ended) == sorted([items["상담 결과 회신"].uid, items["학교 회의"].uid])
    assert all("case_closed" in e.details for e in ended)
    lines = [e.text for e in case_events(w.referral_case, "conference")]
    assert lines.count("사례 종결로 사례회의 실행 과제 2건 종료") == 1
    closed_keys = {f"action_item:{items[d].id}" for d in ("상담 결과 회신", "학교 회의")}
    assert all(n.resolved_at is not None for n in reminders if n.object_key in closed_keys)
    assert any(n.resolved_at is None for n in reminders if n.object_key == f"action_item:{items['가정 방문'].id}")
    # off the home reads, the reviews and the daily reminder
    assert a.my_action_items(w.agent, today) == [] and a.my_action_items(w.staff, today) == []
    assert descriptions(a.my_action_items(w.guardian_user, today)) == {"가정 방문"}
    assert {r.case_id for r in a.my_upcoming_reviews(w.staff, today)} == {w.guardian_case.id}
    assert ("item", items["학교 회의"].id) not in due_work(today)
    with pytest.raises(DomainError, match="사례 종결로 끝난"):
        cs.set_action_item_status(items["학교 회의"], w.staff, "open")
    db.session.rollback()
    for user, home, gone in ((w.agent, "/home/agency", "상담 결과 회신"), (w.lead, "/home/lead", "학교 회의")):
        login(user)
        html = client.get(home).get_data(as_text=True)
        assert gone not in html, home
        client.post("/logout")
    login(w.guardian_user)
    html = client.get("/home/guardian").get_data(as_text=True)
    # the guardian's own task names the student by the given name only
    assert f"{w.guardian_case.student.given_name} — 가정 방문" in html
    assert w.guardian_case.student.name not in html


def test_a_finished_case_never_lists_an_item_left_open(db, conference_world, tasks):
    """Defence in depth: an item still open on a closed case (older data) is not listed either."""
    w = conference_world
    w.referral_case.status = "closed"
    db.session.commit()
    today = today_kst()
    assert a.my_action_items(w.agent, today) == [] and a.my_action_items(w.staff, today) == []
    open_ids = set(db.session.execute(select(ActionItem.id).where(ActionItem.case_id == w.referral_case.id)).scalars())
    assert not {("item", i) for i in open_ids} & set(due_work(today))


def test_recording_sends_conference_held_and_resolves_the_invitations(db, conference_world, make_conference):
    w = conference_world
    conf = make_conference(started=True)
    received = []

    def listener(sender, **kwargs):
        received.append((sender, kwargs))
    signals.conference_held.connect(listener)
    try:
        cs.record_meeting(conf, w.lead, attended_participant_ids=[], minutes="m", decisions={
            cc.case_id: dict(decision="continue", actions=[]) for cc in conf.cases})
        db.session.commit()
    finally:
        signals.conference_held.disconnect(listener)
    assert [(s, k["actor"], {c.id for c in k["cases"]}) for s, k in received] == [
        (conf, w.lead, {w.guardian_case.id, w.referral_case.id})]
    invitations = db.session.execute(select(Notification).filter_by(object_key=f"conference:{conf.id}")).scalars().all()
    assert invitations and all(n.resolved_at is not None for n in invitations)


def test_a_refusing_receiver_rolls_the_whole_record_back(db, conference_world, make_conference):
    w = conference_world
    conf = make_conference(cases=[w.guardian_case])
    start(conf)

    def refuse(sender, **_kwargs):
        raise DomainError("테스트 거부")
    signals.conference_held.connect(refuse)
    try:
        with pytest.raises(DomainError, match="테스트 거부"):
            cs.record_meeting(conf, w.lead, attended_participant_ids=[p.id for p in conf.participants], minutes="m",
                              decisions={w.guardian_case.id: dict(decision="modify", actions=[
                                  dict(description="학습 지원", owner_kind="school_team", due_on=None)])})
        db.session.rollback()
    finally:
        signals.conference_held.disconnect(refuse)
    db.session.expire_all()
    assert conf.status == "scheduled" and conf.minutes is None and all(p.attended is None for p in conf.participants)
    assert db.session.execute(select(ActionItem)).first() is None
    assert db.session.execute(select(AuditEvent).filter_by(action="conference_recorded")).first() is None
