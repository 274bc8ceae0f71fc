"""Referral services: consent or a lead's override before sending, frozen shared values that
never reach the audit trail, withdrawal that stops or hides, overdue referrals."""
from __future__ import annotations

import datetime as dt
from types import SimpleNamespace

import pytest
from flask_babel import force_locale
from sqlalchemy import select

from app.agencies import referrals as r
from app.agencies.referral_lifecycle import stop_referrals_on_withdrawal
from app.audit.models import AuditEvent
from app.cases.chronology import case_events
from app.cases.consent import withdraw_consent
from app.cases.models import Consent
from app.db import today_kst
from app.domain import DomainError, NotPermitted
from app.notifications.models import Notification
from app.permissions import can_view_referral, referral_scope
from app.stored_messages import render_value

from ..factories import consent_both

ITEMS = ["student_name", "parent_contact", "needs"]


def make_world(build, agency_with_service, *, consent: bool = True, status: str = "planning"):
    """A 마포구 school case with its lead and staff, an agency with a service and its coordinator,
    the district coordinator, and (by default) both parties' consent to the agency's kind."""
    service = agency_with_service()
    agency = service.organisation
    school = build.school()
    lead = build.user("school_lead", organisation=school)
    case = build.case(school=school, status=status, lead=lead)
    world = SimpleNamespace(
        case=case, school=school, lead=lead, staff=build.user("school_staff", organisation=school),
        agency=agency, service=service, agent=build.user("agency_coordinator", organisation=agency),
        coordinator=build.user("district_coordinator", organisation=build.organisation("district_office")))
    if consent:
        world.consents = consent_both(case, lead, purposes=("agency_referral",), agency_kinds=[agency.agency_kind])
    return world


def draft(w, actor=None, items=ITEMS):
    referral = r.create_referral(w.case, actor or w.staff, agency=w.agency, service=w.service,
                                 reason="정서 상담이 필요함", shared_items=list(items))
    return referral


def audit(db, action: str) -> list[AuditEvent]:
    return list(db.session.execute(select(AuditEvent).filter_by(action=action).order_by(AuditEvent.id)).scalars())


@pytest.fixture
def world(build, agency_with_service):
    return make_world(build, agency_with_service)


def test_create_checks_items_reason_agency_and_service(db, build, world, agency_with_service):
    with pytest.raises(DomainError, match="하나 이상"):
        draft(world, items=[])
    with pytest.raises(DomainError, match="보낼 수 없는"):
        draft(world, items=["student_name", "neis_number"])
    with pytest.raises(DomainError, match="의뢰 사유"):
        r.create_referral(world.case, world.staff, agency=world.agency, reason=" ", shared_items=ITEMS)
    with pytest.raises(DomainError, match="서비스가 아닙니다"):
        r.create_referral(world.case, world.staff, agency=world.agency, service=agency_with_service(),
                          reason="상담", shared_items=ITEMS)
    with pytest.raises(DomainError, match="기관을 선택"):
        r.create_referral(world.case, world.staff, agency=world.school, reason="상담", shared_items=ITEMS)
    with pytest.raises(NotPermitted):
        draft(world, actor=world.agent)
    other = build.user("school_staff", organisation=build.school())
    with pytest.raises(NotPermitted):
        draft(world, actor=other)
    referral = draft(world, actor=world.coordinator)  # the district coordinator may refer too
    assert referral.status == "draft" and referral.shared is None and referral.shared_items == ITEMS


def test_update_draft_only(db, world):
    referral = draft(world)
    r.update_referral_draft(referral, world.staff, agency=world.agency, service=None, reason="새 사유",
                            shared_items=["summary"])
    assert referral.shared_items == ["summary"] and referral.service_id is None and referral.reason == "새 사유"
    r.send_referral(referral, world.staff)
    with pytest.raises(DomainError):
        r.update_referral_draft(referral, world.staff, agency=world.agency, reason="x", shared_items=["summary"])


def test_the_shared_copy_keeps_labels_for_each_reader(db, world):
    """Areas, risk, class, birth date and migrant background are frozen as marked messages: an
    English reader of the agency sees them in English, the typed values as they were."""
    student = world.case.student
    student.grade, student.class_no, student.number = 3, 2, 5
    student.birth_date, student.migrant_background = dt.date(2015, 4, 9), False
    referral = draft(world, items=["needs", "risk_level", "school_grade", "birth_date", "migrant"])
    r.send_referral(referral, world.staff)
    db.session.commit()
    shared = db.session.get(type(referral), referral.id).shared
    korean = {item: render_value(value, "ko") for item, value in shared.items()}
    assert "기초학력" in korean["needs"] and korean["birth_date"] == "2015. 4. 9."
    assert "3학년 2반 5번" in korean["school_grade"] and korean["migrant"] == "해당 없음"
    with force_locale("en"):
        english = {item: str(render_value(value)) for item, value in shared.items()}
    assert english["birth_date"] == "9 Apr 2015" and english["migrant"] == "Not applicable"
    assert world.case.school.name in english["school_grade"] and "학년" not in english["school_grade"]
    assert "기초학력" in english["needs"]  # the typed description stays as typed


def test_send_freezes_only_chosen_items_and_notifies_agency(db, world):
    referral = draft(world)
    r.send_referral(referral, world.staff)
    db.session.commit()
    student = world.case.student
    assert referral.status == "sent" and referral.sent_by_id == world.staff.id
    assert set(referral.shared) == set(ITEMS)
    assert referral.shared["student_name"] == student.name
    assert student.parent_phone in referral.shared["parent_contact"]
    assert "기초학력" in render_value(referral.shared["needs"])
    assert referral.respond_by > today_kst()
    assert r.shared_items_visible(referral) == referral.shared
    notes = db.session.execute(select(Notification).filter_by(user_id=world.agent.id)).scalars().all()
    assert len(notes) == 1
    lines = [e.text for e in case_events(world.case, "referral")]
    assert any("작성 중 → 의뢰됨" in line and world.agency.name in line for line in lines)


def test_sending_without_covering_consent_is_refused(db, build, agency_with_service):
    w = make_world(build, agency_with_service, consent=False)
    other_kind = build.agency(agency_kind="가족센터")
    consent_both(w.case, w.lead, purposes=("agency_referral",), agency_ids=[other_kind.id])
    referral = draft(w)
    with pytest.raises(DomainError, match="동의"):
        r.send_referral(referral, w.staff)
    assert referral.status == "draft" and referral.sent_at is None and referral.shared is None
    assert audit(db, "referral_sent") == []


def test_override_by_non_lead_is_refused(db, build, agency_with_service):
    w = make_world(build, agency_with_service, consent=False)
    referral = draft(w)
    for actor in (w.staff, w.coordinator):
        with pytest.raises(NotPermitted):
            r.send_referral(referral, actor, override_reason="아동학대 의심", override_category="child_abuse")
    assert referral.status == "draft" and referral.override_by_id is None
    with pytest.raises(NotPermitted):  # a lead of another school is not this case's lead
        r.send_referral(referral, build.user("school_lead", organisation=build.school()), override_reason="긴급",
                        override_category="child_abuse")


def test_lead_override_is_audited_with_reason_and_tells_the_coordinator(db, build, agency_with_service):
    w = make_world(build, agency_with_service, consent=False)
    referral = draft(w)
    r.send_referral(referral, w.lead, override_reason="보호자 연락 불가", override_category="child_abuse")
    db.session.commit()
    assert referral.status == "sent" and referral.override_by_id == w.lead.id
    event = audit(db, "referral_sent")[-1]
    # the audit trail keeps the category only (issue 12); the text stays encrypted in the referral
    assert event.reason == "아동학대 의심" and '"override":true' in event.details
    assert r.overridden_referrals() == [referral]
    assert db.session.execute(select(Notification).filter_by(user_id=w.coordinator.id,
                                                             kind="referral_override")).first()
    assert r.shared_items_visible(referral) == referral.shared  # override: visible without consent


def test_shared_values_never_reach_the_audit_trail(db, world):
    student = world.case.student
    referral = draft(world, items=list(r.SHAREABLE_ITEMS))
    r.send_referral(referral, world.staff)
    r.accept_referral(referral, world.agent)
    r.add_service_record(referral, world.agent, today_kst(), "counselling", "첫 상담")
    db.session.commit()
    secrets = [student.name, student.parent_name, student.parent_phone, world.case.summary, "기초학력 지원 필요",
               "정서 상담이 필요함", "첫 상담"]
    events = db.session.execute(select(AuditEvent).where(AuditEvent.action.like("referral_%"))).scalars().all()
    assert len(events) >= 5
    for event in events:
        for secret in secrets:
            assert secret not in (event.details or "") and secret not in (event.reason or "")


def test_agency_response_notifies_sender_and_service_record_starts_service(db, world):
    referral = draft(world)
    r.send_referral(referral, world.staff)
    r.accept_referral(referral, world.agent)
    assert referral.responded_by_id == world.agent.id
    r.add_service_record(referral, world.agent, today_kst(), "counselling", "")
    assert referral.status == "in_service"
    with pytest.raises(DomainError):
        r.add_service_record(referral, world.agent, today_kst() + dt.timedelta(days=1), "counselling", "")
    with pytest.raises(DomainError):
        r.add_service_record(referral, world.agent, today_kst(), "magic", "")
    with pytest.raises(DomainError, match="결과"):
        r.complete_referral(referral, world.agent, " ")
    r.complete_referral(referral, world.agent, "정서 안정")
    assert referral.status == "completed" and referral.closed_at is not None
    texts = [n.text for n in db.session.execute(select(Notification).filter_by(user_id=world.staff.id)).scalars()]
    assert any("접수" in t for t in texts) and any("완료" in t for t in texts)


def test_decline_needs_a_code_and_a_comment_for_other(db, world):
    referral = draft(world)
    r.send_referral(referral, world.staff)
    with pytest.raises(DomainError):
        r.decline_referral(referral, world.agent, "busy", "")
    with pytest.raises(DomainError, match="기타"):
        r.decline_referral(referral, world.agent, "other", "")
    r.decline_referral(referral, world.agent, "outside_area", "강남구만 담당")
    assert referral.status == "declined" and referral.decline_reason == "outside_area"
    assert referral.decline_comment == "강남구만 담당"
    assert '"reason":"outside_area"' in audit(db, "referral_declined")[0].details


def test_withdrawal_stops_a_sent_referral_and_hides_items(db, world):
    referral = draft(world)
    r.send_referral(referral, world.staff)
    db.session.commit()
    sent_at, respond_by = referral.sent_at, referral.respond_by
    withdraw_consent(world.consents[1], world.case, world.lead)  # stops the referral through its hook
    db.session.commit()
    assert stop_referrals_on_withdrawal(world.case, world.lead) == []  # nothing left to stop
    assert referral.status == "cancelled" and referral.consent_withdrawn_at is not None
    assert (referral.sent_at, referral.respond_by) == (sent_at, respond_by)  # the record stays
    assert r.shared_items_visible(referral) == {}
    assert audit(db, "referral_cancelled")[0].details.count("consent_withdrawn") == 1


def test_withdrawal_keeps_an_accepted_referral_but_hides_items(db, world):
    referral = draft(world)
    r.send_referral(referral, world.staff)
    r.accept_referral(referral, world.agent)
    db.session.commit()
    assert r.shared_items_visible(referral)
    consent = db.session.execute(select(Consent).filter_by(case_id=world.case.id, party="student")).scalar_one()
    withdraw_consent(consent, world.case, world.lead)
    db.session.commit()
    assert referral.status == "accepted" and referral.consent_withdrawn_at is not None
    assert r.shared_items_visible(referral) == {}
    assert referral.shared  # kept encrypted for the record, just not shown
    assert audit(db, "referral_items_hidden")


def test_withdrawal_leaves_an_override_referral_alone(db, build, agency_with_service):
    w = make_world(build, agency_with_service)
    referral = draft(w)
    r.send_referral(referral, w.lead, override_reason="긴급", override_category="child_abuse")
    withdraw_consent(w.consents[0], w.case, w.lead)
    assert stop_referrals_on_withdrawal(w.case, w.lead) == []
    assert referral.status == "sent"


def test_overdue_flag_and_lists(db, build, world):
    referral = draft(world)
    r.send_referral(referral, world.staff)
    db.session.commit()
    day = referral.respond_by
    assert not r.is_overdue(referral, day)
    assert r.is_overdue(referral, day + dt.timedelta(days=1))
    later = day + dt.timedelta(days=1)
    for user in (world.coordinator, world.agent, world.staff):
        assert r.overdue_referrals(referral_scope(user), later) == [referral]
    assert r.overdue_referrals(referral_scope(world.coordinator), day) == []
    far = build.user("district_coordinator", organisation=build.organisation("district_office", gu="강남구"))
    assert r.overdue_referrals(referral_scope(far), later) == []
    r.accept_referral(referral, world.agent)
    assert not r.is_overdue(referral, later)


def test_visibility(db, build, world):
    referral = draft(world)
    db.session.commit()
    assert can_view_referral(world.staff, referral) and can_view_referral(world.coordinator, referral)
    assert not can_view_referral(world.agent, referral)  # a draft stays at school
    r.send_referral(referral, world.staff)
    assert can_view_referral(world.agent, referral)
    other_agent = build.user("agency_coordinator", organisation=build.agency())
    other_school = build.user("school_lead", organisation=build.school())
    assert not can_view_referral(other_agent, referral) and not can_view_referral(other_school, referral)
