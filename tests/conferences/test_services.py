"""Scheduling: who may organise, which cases and participants, when and where; cancelling."""
from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import func, select

from app.audit.models import AuditEvent
from app.cases.chronology import case_events
from app.conferences import services as cs
from app.conferences.models import Conference, ConferenceParticipant
from app.domain import DomainError, NotPermitted
from app.notifications.models import Notification

from .conftest import in_days


def count(db, model) -> int:
    return db.session.execute(select(func.count()).select_from(model)).scalar_one()


def test_schedule_stores_utc_participants_externals_chronology_and_notifies(db, conference_world, make_conference):
    w = conference_world
    conf = make_conference(externals=[("홍길동", "마포구청 드림스타트")], starts_at=in_days(3, hour=15))
    assert conf.status == "scheduled" and conf.organiser_id == w.school.id
    assert conf.starts_at.hour == 6  # 15:00 KST
    assert {cc.case_id for cc in conf.cases} == {w.guardian_case.id, w.referral_case.id}
    external = [p for p in conf.participants if p.user_id is None][0]
    assert external.external_name == "홍길동" and external.external_organisation == "마포구청 드림스타트"
    assert "홍길동" not in (external.external_name_enc or "")
    assert any("예정" in e.text for e in case_events(w.guardian_case, "conference"))
    notes = db.session.execute(select(Notification).filter_by(kind="conference")).scalars().all()
    assert {n.user_id for n in notes} == {w.staff.id, w.guardian_user.id, w.agent.id, w.coordinator.id}
    assert all(n.link == f"/conferences/{conf.uid}" for n in notes)
    assert db.session.execute(select(AuditEvent).filter_by(action="conference_scheduled")).scalar_one()


def test_aware_datetime_is_converted(db, conference_world, make_conference):
    when = dt.datetime.now(dt.timezone.utc).replace(microsecond=0) + dt.timedelta(days=2)
    conf = make_conference(starts_at=when)
    assert conf.starts_at == when.replace(tzinfo=None)


def test_district_conference_by_coordinator_spans_schools(db, conference_world, make_conference):
    w = conference_world
    conf = make_conference(actor=w.coordinator, kind="district", cases=[w.guardian_case, w.other_case],
                           users=[w.guardian_user, w.other_lead])
    assert conf.organiser_id == w.coordinator.organisation_id and conf.office_code == w.school.office_code


@pytest.mark.parametrize("who, kind", [("staff", "district"), ("coordinator", "school_meeting"),
                                       ("agent", "living_area"), ("guardian_user", "school_meeting")])
def test_only_the_organiser_side_may_schedule(db, conference_world, make_conference, who, kind):
    with pytest.raises(NotPermitted):
        make_conference(actor=getattr(conference_world, who), kind=kind, users=[])


def test_refusals_change_nothing(db, build, conference_world, make_conference):
    w = conference_world
    stranger = build.user("school_staff", organisation=w.other_school)
    other_agent = build.user("agency_coordinator")
    before = count(db, Conference), count(db, ConferenceParticipant)
    cases = [
        (dict(cases=[w.guardian_case, w.other_case]), "다룰 수 없는 사례"),  # a foreign case
        (dict(cases=[]), "하나 이상"),
        (dict(users=[stranger]), f"^{stranger.display_name}님은 이 회의의 사례와 관계가 없어 초대할 수 없습니다.$"),
        (dict(users=[w.staff, other_agent]), f"^{other_agent.display_name}님은 이 회의의"),
        # not this case's guardian: named, as the invite list offered them for another case
        (dict(cases=[w.referral_case], users=[w.guardian_user]), f"^{w.guardian_user.display_name}님은"),
        (dict(starts_at=in_days(-1)), "지난 시간"),
        (dict(place=" ", online_link=None), "장소나 온라인"),
        (dict(place=None, online_link="zoom.us/j/1"), "https://"),
        (dict(externals=[(" ", "구청")]), "이름"),
        (dict(kind="party"), "회의 종류"),
    ]
    for overrides, message in cases:
        with pytest.raises(DomainError, match=message):
            make_conference(**overrides)
        db.session.rollback()
    assert (count(db, Conference), count(db, ConferenceParticipant)) == before


def test_district_coordinator_cannot_bring_other_office_cases(db, build, conference_world, make_conference):
    gangnam = build.school(gu="강남구")
    far_case = build.case(school=gangnam, status="in_support")
    with pytest.raises(DomainError, match="다룰 수 없는"):
        make_conference(actor=conference_world.coordinator, kind="district", cases=[far_case], users=[])


def test_online_only_conference(db, conference_world, make_conference):
    conf = make_conference(place="", online_link="https://meet.example.kr/abc")
    assert conf.place is None and conf.online_link.endswith("/abc")


def test_cancel_with_reason_alerts_participants_and_leaves_chronology(db, conference_world, make_conference):
    w = conference_world
    conf = make_conference()
    invitations = db.session.execute(select(Notification).filter_by(kind="conference")).scalars().all()
    assert {n.object_key for n in invitations} == {f"conference:{conf.id}"}
    with pytest.raises(NotPermitted):
        cs.cancel_conference(conf, w.agent, reason="일정 변경")
    with pytest.raises(DomainError, match="취소 사유를 입력해 주세요."):
        cs.cancel_conference(conf, w.staff, reason="  ")
    db.session.rollback()
    assert conf.status == "scheduled"
    cs.cancel_conference(conf, w.staff, reason="담임 출장으로 일정 변경")
    db.session.commit()
    assert conf.status == "cancelled" and conf.cancelled_at is not None
    assert conf.cancel_reason == "담임 출장으로 일정 변경" and "출장" not in conf.cancel_reason_enc
    news = db.session.execute(select(Notification).where(Notification.dedupe_key.like("conf-cancel:%"))).scalars().all()
    assert {n.user_id for n in news} == {w.guardian_user.id, w.agent.id, w.coordinator.id}  # not the canceller
    when = cs.kst_label(conf.starts_at)
    assert all(n.text == f"{conf.kind_label}({when})이 취소되었습니다." and n.object_key is None for n in news)
    assert "-" not in when.split(" ")[0]  # a Korean date, never ISO
    db.session.expire_all()
    assert all(n.resolved_at is not None for n in invitations)  # the invitations are void
    for case in (w.guardian_case, w.referral_case):
        assert f"{conf.kind_label}({when}) 취소: 담임 출장으로 일정 변경" in [e.text for e in case_events(case, "conference")]
    cancelled = db.session.execute(select(AuditEvent).filter_by(action="conference_cancelled")).scalar_one()
    assert "출장" not in cancelled.details and cancelled.actor_id == w.staff.id
    with pytest.raises(DomainError, match="예정된 회의만"):
        cs.cancel_conference(conf, w.staff, reason="다시")
