"""Who sees a conference and which of its cases: entitlement per role, consent for outsiders."""
from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from app.audit.models import AuditEvent
from app.cases.chronology import case_events
from app.cases.consent import withdraw_consent
from app.cases.models import Consent
from app.conferences import access as a
from app.conferences import services as cs
from app.db import today_kst
from app.extensions import db as _db


def shown(user, conference) -> dict[int, bool]:
    """{case id: withheld} of what ``user`` sees."""
    return {v.case.id: v.withheld for v in a.visible_cases(user, conference)}


def visible_ids(user) -> set[int]:
    return {c.id for c in _db.session.execute(a.conferences_visible_to(user)).scalars()}


def test_guardian_in_district_conference_sees_only_their_student(db, conference_world, make_conference):
    w = conference_world
    conf = make_conference(actor=w.coordinator, kind="district",
                           cases=[w.guardian_case, w.referral_case, w.other_case],
                           users=[w.guardian_user, w.agent, w.staff, w.other_lead])
    assert shown(w.guardian_user, conf) == {w.guardian_case.id: False}
    assert shown(w.agent, conf) == {w.referral_case.id: False}
    assert shown(w.staff, conf) == {w.guardian_case.id: False, w.referral_case.id: False}
    assert shown(w.other_lead, conf) == {w.other_case.id: False}
    assert set(shown(w.coordinator, conf)) == {w.guardian_case.id, w.referral_case.id, w.other_case.id}


def test_case_without_sharing_consent_is_withheld_from_outsiders(db, conference_world, make_conference):
    w = conference_world
    conf = make_conference(cases=[w.guardian_case, w.private_case], users=[w.staff, w.coordinator, w.guardian_user])
    views = {v.case.id: v for v in a.visible_cases(w.coordinator, conf)}
    assert views[w.private_case.id].withheld and not views[w.private_case.id].sharing_allowed
    assert not views[w.guardian_case.id].withheld and views[w.guardian_case.id].sharing_allowed
    staff_view = {v.case.id: v for v in a.visible_cases(w.staff, conf)}
    assert not staff_view[w.private_case.id].withheld and not staff_view[w.private_case.id].sharing_allowed
    assert shown(w.guardian_user, conf) == {w.guardian_case.id: False}


def test_withdrawn_sharing_consent_drops_the_case_out_of_a_future_conference(db, conference_world,
                                                                               make_conference):
    """Withdrawal (here the parent's) stops outside sharing at once: the coordinator's view of the
    coming conference withholds the case, the school team still sees it, the chronology says so."""
    w = conference_world
    conf = make_conference()
    assert shown(w.coordinator, conf)[w.guardian_case.id] is False
    consent = db.session.execute(select(Consent).filter_by(case_id=w.guardian_case.id, party="parent")
                                 .order_by(Consent.id)).scalars().first()
    withdraw_consent(consent, w.guardian_case, w.lead, withdrawn_on=today_kst())
    db.session.commit()
    assert shown(w.coordinator, conf)[w.guardian_case.id] is True
    assert shown(w.staff, conf)[w.guardian_case.id] is False  # inside the school it is still discussed
    assert w.guardian_case.id not in shown(w.guardian_user, conf)  # matching consent went too: paused
    lines = [e.text for e in case_events(w.guardian_case, "conference")]
    assert "사례회의 정보 공유 동의 철회: 이후 회의에서 학교 지원팀만 논의" in lines
    stopped = db.session.execute(select(AuditEvent).filter_by(action="conference_sharing_stopped")).scalar_one()
    assert stopped.object_id == w.guardian_case.uid and "parent" in stopped.details


def test_withdrawing_a_consent_without_sharing_writes_no_line(db, build, conference_world):
    w = conference_world
    consent = db.session.execute(select(Consent).filter_by(case_id=w.referral_case.id)
                                 .order_by(Consent.id.desc())).scalars().first()
    withdraw_consent(consent, w.referral_case, w.lead, withdrawn_on=today_kst())
    db.session.commit()
    assert not any("사례회의 정보 공유" in e.text for e in case_events(w.referral_case, "conference"))


def test_non_participants_see_nothing(db, build, conference_world, make_conference):
    w = conference_world
    conf = make_conference(users=[w.staff])
    outsider_agent = build.user("agency_coordinator", organisation=w.agency)  # same agency, not invited
    for user in (w.agent, w.guardian_user, outsider_agent, w.other_lead, w.coordinator):
        assert not a.can_view_conference(user, conf)
        assert a.visible_cases(user, conf) == []
        assert conf.id not in visible_ids(user)
    for user in (w.lead, w.staff):  # the organiser school's team
        assert a.can_view_conference(user, conf) and conf.id in visible_ids(user)


def test_participants_list_and_record_permission(db, conference_world, make_conference):
    w = conference_world
    conf = make_conference()
    for user in (w.agent, w.guardian_user, w.coordinator):
        assert conf.id in visible_ids(user) and a.can_view_conference(user, conf)
        assert not a.can_record_conference(user, conf)
    assert a.can_record_conference(w.staff, conf)
    district = make_conference(actor=w.coordinator, kind="district", users=[])
    assert a.can_record_conference(w.coordinator, district) and not a.can_record_conference(w.lead, district)
    assert district.id in visible_ids(w.coordinator) and district.id not in visible_ids(w.lead)


def test_eligible_users(db, build, conference_world):
    w = conference_world
    build.user("school_staff", organisation=w.other_school)
    ids = {u.id for u in a.eligible_users(w.school.office_code, [w.guardian_case])}
    assert {w.lead.id, w.staff.id, w.coordinator.id, w.guardian_user.id} <= ids
    assert w.agent.id not in ids and w.other_lead.id not in ids
    assert w.agent.id in {u.id for u in a.eligible_users(w.school.office_code, [w.referral_case])}


@pytest.mark.parametrize("status", ["suspended", "closed"])
def test_guardian_without_active_assignment_sees_nothing(db, conference_world, make_conference, status):
    w = conference_world
    conf = make_conference()
    w.assignment.status = status  # the assignment services' own rules are tested elsewhere
    db.session.commit()
    assert shown(w.guardian_user, conf) == {}


def test_home_reads_are_scoped(db, conference_world, make_conference):
    w = conference_world
    conf = make_conference(started=True)
    soon = today_kst() + dt.timedelta(days=5)
    actions = [dict(description="가정 방문", owner_kind="user", owner_user_id=w.guardian_user.id, due_on=soon),
               dict(description="학교 회의", owner_kind="school_team", due_on=soon)]
    cs.record_meeting(conf, w.lead, attended_participant_ids=[], minutes="회의록", decisions={
        w.guardian_case.id: dict(decision="continue", note="", next_review_on=soon, actions=actions),
        w.referral_case.id: dict(decision="modify", note="", next_review_on=None, actions=[
            dict(description="상담 주 2회", owner_kind="agency", owner_agency_id=w.agency.id, due_on=soon)])})
    db.session.commit()
    assert [m.item.description for m in a.my_action_items(w.guardian_user, today_kst())] == ["가정 방문"]
    assert [m.item.description for m in a.my_action_items(w.agent, today_kst())] == ["상담 주 2회"]
    assert [m.item.description for m in a.my_action_items(w.staff, today_kst())] == ["학교 회의"]
    assert a.my_action_items(w.other_lead, today_kst()) == []
    later = soon + dt.timedelta(days=1)
    assert [m.overdue for m in a.my_action_items(w.staff, later)] == [True]
    assert [r.case_id for r in a.my_upcoming_reviews(w.staff, today_kst())] == [w.guardian_case.id]
    assert [r.case_id for r in a.my_upcoming_reviews(w.coordinator, today_kst())] == [w.guardian_case.id]
    assert a.my_upcoming_reviews(w.guardian_user, today_kst()) == []
    assert a.my_upcoming_reviews(w.other_lead, today_kst()) == []
    assert a.my_upcoming_reviews(w.staff, today_kst(), within=2) == []
