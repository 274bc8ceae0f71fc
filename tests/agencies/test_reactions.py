"""How referrals follow the case's lifecycle through the signals (agencies/reactions.py): closing
asks about every referral the agency has in hand, cancels drafts, refuses without a reason (and
nothing changes), cancels with one and tells the agency; a withdrawn request ends its referrals;
consent withdrawal and expiry stop them; afterwards the agency no longer sees the student."""
from __future__ import annotations

import datetime as dt
import re

import pytest
from freezegun import freeze_time
from sqlalchemy import func, select

from app import signals
from app.agencies import reactions
from app.agencies import referrals as r
from app.agencies.models import Referral
from app.audit.models import AuditEvent
from app.cases import services as case_services
from app.cases.chronology import case_events
from app.cases.consent import handle_lapsed_consent, lapsed_consents, withdraw_consent
from app.cases.models import CaseEvent, Consent, SupportCase
from app.db import today_kst
from app.domain import DomainError
from app.lifecycle import close_items
from app.notifications.models import Notification

from ..factories import consent_both
from .test_referral_views import sign_in, text
from .test_referrals import audit, draft, make_world

ISO = re.compile(r"\d{4}-\d{2}-\d{2}")


@pytest.fixture
def world(build, agency_with_service):
    return make_world(build, agency_with_service, status="in_support")


def sent(w, items=("student_name", "needs"), status="sent"):
    """A referral sent to the world's agency, then answered up to ``status`` by the agency."""
    referral = draft(w, items=list(items))
    r.send_referral(referral, w.staff)
    if status in ("accepted", "in_service"):
        r.accept_referral(referral, w.agent)
    if status == "in_service":
        r.add_service_record(referral, w.agent, today_kst(), "counselling", "첫 상담")
    return referral


def close(w, choices=None):
    case_services.close_case(w.case, w.lead, reason="goals_met",
                             outcomes={n.id: ("improved", "") for n in w.case.needs}, choices=choices)


def agency_alerts(db, w) -> list[Notification]:
    return list(db.session.execute(select(Notification).filter_by(user_id=w.agent.id)
                                   .order_by(Notification.id)).scalars())


def counts(db) -> tuple[int, int, int]:
    return tuple(db.session.scalar(select(func.count()).select_from(m)) for m in (CaseEvent, AuditEvent, Notification))


def test_receivers_are_connected():
    for signal, receiver in ((signals.case_closed, reactions.case_closed),
                             (signals.case_close_items, reactions.case_close_items),
                             (signals.case_withdrawn, reactions.case_withdrawn),
                             (signals.consent_withdrawn, reactions.consent_withdrawn),
                             (signals.consent_expired, reactions.consent_expired),
                             (signals.case_page_sections, reactions.case_page_sections)):
        assert receiver in [ref() for ref in signal.receivers.values()], signal.name


def test_close_form_asks_only_about_referrals_the_agency_has_in_hand(db, world):
    drafted = draft(world)
    waiting, taken, serving = sent(world), sent(world, status="accepted"), sent(world, status="in_service")
    declined = sent(world)
    r.decline_referral(declined, world.agent, "no_capacity")
    db.session.commit()
    items = close_items(world.case)
    assert [i.key for i in items] == sorted(f"referral_{x.id}" for x in (waiting, taken, serving))
    item = next(i for i in items if i.key == f"referral_{taken.id}")
    assert item.label == f"{world.agency.name} 의뢰 (접수) 취소 사유"
    assert item.kind == "reason" and item.required is False and "마무리" in item.hint
    assert drafted.status == "draft"


def test_close_cancels_drafts(db, world):
    referral = draft(world)
    db.session.commit()
    close(world)
    db.session.commit()
    assert world.case.status == "closed"
    assert referral.status == "cancelled" and referral.outcome_note == "사례 종결" and referral.closed_at
    assert '"cause":"case_closed"' in audit(db, "referral_cancelled")[0].details
    assert any("작성 중 → 취소 (사례 종결)" in e.text for e in case_events(world.case, "referral"))
    assert agency_alerts(db, world) == []  # a draft never reached the agency


def test_close_with_an_open_referral_and_no_reason_is_refused_and_nothing_changes(db, world):
    drafted, referral = draft(world), sent(world, status="accepted")
    db.session.commit()
    before = counts(db)
    with pytest.raises(DomainError) as refused:
        close(world, {f"referral_{referral.id}": "  "})
    db.session.rollback()
    assert refused.value.field == f"referral_{referral.id}"
    assert "마무리하거나 취소 사유를 입력해 주세요" in refused.value.message and world.agency.name in refused.value.message
    db.session.expire_all()
    assert db.session.get(SupportCase, world.case.id).status == "in_support"
    assert db.session.get(Referral, referral.id).status == "accepted"
    assert db.session.get(Referral, drafted.id).status == "draft"
    assert counts(db) == before


def test_close_over_http_refused_without_reason_then_cancels_with_one(app, db, world):
    referral = sent(world)
    db.session.commit()
    data = {"close-reason": "goals_met", **{f"close-outcome_{n.id}": "improved" for n in world.case.needs}}
    response = sign_in(app, world.lead).post(f"/cases/{world.case.uid}/close", data=data)
    assert response.status_code == 400
    assert "취소 사유를 입력해 주세요" in text(response) and f'id="close-referral_{referral.id}-error"' in text(response)
    db.session.expire_all()
    assert db.session.get(SupportCase, world.case.id).status == "in_support"
    assert db.session.get(Referral, referral.id).status == "sent"
    data[f"close-referral_{referral.id}"] = "학교 안에서 지원하기로 함"
    assert sign_in(app, world.lead).post(f"/cases/{world.case.uid}/close", data=data).status_code == 302
    db.session.expire_all()
    assert db.session.get(SupportCase, world.case.id).status == "closed"
    done = db.session.get(Referral, referral.id)
    assert (done.status, done.outcome_note) == ("cancelled", "학교 안에서 지원하기로 함")
    assert any("취소했습니다" in n.text for n in agency_alerts(db, world))


def test_close_with_a_reason_cancels_and_tells_the_agency(db, world):
    referral = sent(world, status="in_service")
    waiting = sent(world)
    db.session.commit()
    close(world, {f"referral_{referral.id}": "학생 전학으로 종결", f"referral_{waiting.id}": "학교에서 해결"})
    db.session.commit()
    assert world.case.status == "closed"
    assert (referral.status, referral.outcome_note) == ("cancelled", "학생 전학으로 종결")
    assert (waiting.status, waiting.outcome_note) == ("cancelled", "학교에서 해결")
    news = [n for n in agency_alerts(db, world) if "취소" in n.text]
    assert len(news) == 2
    for note in news:
        assert note.case_id is None and note.object_key is None and note.resolved_at is None
        assert world.case.student.name not in note.text and not ISO.search(note.text)
        assert world.school.name in note.text
    # the "new referral" alerts were answered by the cancellation
    new = [n for n in agency_alerts(db, world) if "새 의뢰" in n.text]
    assert len(new) == 2 and all(n.resolved_at is not None for n in new)
    for event in audit(db, "referral_cancelled"):
        assert "학생 전학" not in (event.details or "") and '"cause":"case_closed"' in event.details


def test_after_close_the_agency_no_longer_sees_the_student(app, db, world):
    cancelled = sent(world, status="accepted")
    done = sent(world, status="in_service")
    r.complete_referral(done, world.agent, "상담 종결")
    db.session.commit()
    client = sign_in(app, world.agent)
    name = world.case.student.name
    assert name in text(client.get("/agencies/inbox"))
    close(world, {f"referral_{cancelled.id}": "지원 종결"})
    db.session.commit()
    inbox = text(client.get("/agencies/inbox"))
    assert cancelled.uid in inbox and done.uid in inbox and name not in inbox and "이름 비공개 학생" in inbox
    for referral, reason in ((cancelled, "cancelled"), (done, "case_ended")):
        page = text(client.get(f"/agencies/inbox/{referral.uid}"))
        assert name not in page and "정서 상담이 필요함" not in page
        assert f'data-hidden="{reason}"' in page and "더 이상 볼 수 없습니다" in page
        assert 'data-testid="shared-item"' not in page
    assert r.shared_items_visible(done) == {} and r.shared_items_visible(cancelled) == {}
    # the school side still reads everything it sent
    assert name in text(sign_in(app, world.staff).get(f"/agencies/referrals/{done.uid}"))


def test_a_cancelled_referral_hides_the_student_while_the_case_goes_on(app, db, world):
    referral = sent(world)
    r.cancel_referral(referral, world.staff, "다른 기관으로 연계")
    db.session.commit()
    assert r.shared_items_visible(referral) == {}
    page = text(sign_in(app, world.agent).get(f"/agencies/inbox/{referral.uid}"))
    assert world.case.student.name not in page and 'data-hidden="cancelled"' in page


def test_a_withdrawn_request_ends_its_referrals(db, build, agency_with_service):
    w = make_world(build, agency_with_service, status="requested")
    referral = sent(w)
    db.session.commit()
    case_services.withdraw_request(w.case, w.lead, reason="잘못 접수")
    db.session.commit()
    assert w.case.status == "withdrawn" and referral.status == "cancelled"
    assert '"cause":"case_withdrawn"' in audit(db, "referral_cancelled")[0].details
    assert r.shared_items_visible(referral) == {}
    with pytest.raises(DomainError, match="의뢰할 수 없습니다"):
        draft(w)


def test_consent_withdrawal_stops_referrals_through_the_signal(db, world):
    referral = sent(world)
    db.session.commit()
    withdraw_consent(world.consents[0], world.case, world.lead)
    db.session.commit()
    assert referral.status == "cancelled" and referral.consent_withdrawn_at is not None
    assert any("의뢰됨 → 취소 (동의 철회)" in e.text for e in case_events(world.case, "referral"))
    [news] = [n for n in agency_alerts(db, world) if "동의 철회" in n.text]
    assert news.object_key is None and not ISO.search(news.text)
    assert all(n.resolved_at for n in agency_alerts(db, world) if "새 의뢰" in n.text)


def test_withdrawing_a_consent_without_referral_purpose_leaves_referrals_alone(db, world):
    referral = sent(world)
    db.session.commit()
    matching = db.session.execute(select(Consent).where(Consent.case_id == world.case.id)
                                  .order_by(Consent.id)).scalars().first()  # guardian matching + conferences
    assert matching not in world.consents
    withdraw_consent(matching, world.case, world.lead)
    db.session.commit()
    assert referral.status == "sent" and r.shared_items_visible(referral)


def test_consent_expiry_stops_referrals_with_no_actor(db, build, agency_with_service):
    w = make_world(build, agency_with_service, status="in_support", consent=False)
    expires = today_kst() + dt.timedelta(days=10)
    consent_both(w.case, w.lead, purposes=("agency_referral",), agency_kinds=[w.agency.agency_kind],
                 expires_on=expires)
    waiting, taken = sent(w), sent(w, status="accepted")
    db.session.commit()
    later = expires + dt.timedelta(days=1)
    with freeze_time(dt.datetime.combine(later, dt.time(1, 0))):
        for consent_id in lapsed_consents(today_kst()):
            handle_lapsed_consent(db.session.get(Consent, consent_id), today_kst())
        db.session.commit()
        assert waiting.status == "cancelled" and waiting.outcome_note == "동의 만료로 중단"
        assert taken.status == "accepted" and taken.consent_withdrawn_at is not None
        assert r.shared_items_visible(taken) == {} and r.shared_items_visible(waiting) == {}
    cancelled = audit(db, "referral_cancelled")
    assert len(cancelled) == 1 and cancelled[0].actor_id is None and '"cause":"consent_expired"' in cancelled[0].details
    assert audit(db, "referral_items_hidden")[0].actor_id is None
    lines = [e.text for e in case_events(w.case, "referral")]
    assert any("동의 만료로 공유 정보 비공개" in line for line in lines)
    assert any("의뢰됨 → 취소 (동의 만료)" in line for line in lines)
    assert all(not ISO.search(n.text) for n in agency_alerts(db, w))
