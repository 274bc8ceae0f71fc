"""The referral state table: every transition from every status, allowed only from its sources,
refused otherwise with nothing changed; and each side may only do its own transitions."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select

from app.agencies import referrals as r
from app.agencies.models import REFERRAL_STATUSES
from app.audit.models import AuditEvent
from app.cases.models import CaseEvent
from app.domain import DomainError, NotPermitted

from .test_referrals import draft, make_world

#: how each transition is called, by whom ("school" = the school lead, "agency" = its coordinator)
CALLS = {
    "send": lambda ref, w: r.send_referral(ref, w.lead),
    "accept": lambda ref, w: r.accept_referral(ref, w.agent),
    "decline": lambda ref, w: r.decline_referral(ref, w.agent, "no_capacity", ""),
    "start_service": lambda ref, w: r.start_service(ref, w.agent),
    "complete": lambda ref, w: r.complete_referral(ref, w.agent, "목표 달성"),
    "fail": lambda ref, w: r.fail_referral(ref, w.agent, "연락 두절"),
    "cancel": lambda ref, w: r.cancel_referral(ref, w.lead, "학교에서 해결"),
}
WRONG_SIDE = {"send": "agent", "accept": "lead", "decline": "staff", "start_service": "coordinator",
              "complete": "lead", "fail": "staff", "cancel": "agent"}


def test_every_transition_has_a_call():
    assert set(CALLS) == set(r.TRANSITIONS)


def _counts(db) -> tuple[int, int]:
    return (db.session.scalar(select(func.count()).select_from(CaseEvent)),
            db.session.scalar(select(func.count()).select_from(AuditEvent)))


@pytest.fixture
def world(build, agency_with_service):
    return make_world(build, agency_with_service)


@pytest.mark.parametrize("status", list(REFERRAL_STATUSES))
@pytest.mark.parametrize("name", list(r.TRANSITIONS))
def test_transition_table(db, world, status, name):
    referral = draft(world)
    if status != "draft":  # put it in ``status`` as if it had got there
        r.send_referral(referral, world.lead)
        referral.status = status
    db.session.commit()
    rule = r.TRANSITIONS[name]
    before = _counts(db)
    if status in rule.sources:
        CALLS[name](referral, world)
        assert referral.status == rule.target
        assert _counts(db)[1] > before[1]  # audited
        assert db.session.execute(select(AuditEvent).filter_by(action=r.ACTIONS[name])).first()
    else:
        with pytest.raises(DomainError) as refused:
            CALLS[name](referral, world)
        assert not isinstance(refused.value, NotPermitted)
        assert referral.status == status
        assert _counts(db) == before


@pytest.mark.parametrize("status, name, expected", [
    ("completed", "accept", "'완료' 상태에서는 '접수'를 할 수 없습니다."),            # 접수: no final consonant
    ("completed", "decline", "'완료' 상태에서는 '거절'을 할 수 없습니다."),           # 거절: ends in ㄹ
    ("draft", "fail", "'작성 중' 상태에서는 '종결(미완료)'를 할 수 없습니다."),        # read aloud: 종결 미완료를
    ("cancelled", "send", "'취소' 상태에서는 '의뢰 보내기'를 할 수 없습니다."),
])
def test_a_refusal_takes_the_particle_of_the_transition(db, world, status, name, expected):
    referral = draft(world)
    if status != "draft":
        r.send_referral(referral, world.lead)
        referral.status = status
    db.session.commit()
    with pytest.raises(DomainError) as refused:
        CALLS[name](referral, world)
    assert refused.value.message == expected
@pytest.mark.parametrize("name", list(r.TRANSITIONS))
def test_wrong_side_is_refused_before_status(db, world, name):
    referral = draft(world)
    referral.status = r.TRANSITIONS[name].sources[0]
    db.session.commit()
    before = _counts(db)
    with pytest.raises(NotPermitted):
        CALLS[name](referral, _as(world, WRONG_SIDE[name]))
    assert referral.status == r.TRANSITIONS[name].sources[0] and _counts(db) == before


def _as(world, who: str):
    """The world with both the school and the agency role played by ``who``."""
    user = getattr(world, who)
    return type("W", (), {"lead": user, "agent": user})()


def test_another_agency_may_not_answer(db, build, world):
    referral = draft(world)
    r.send_referral(referral, world.lead)
    stranger = build.user("agency_coordinator", organisation=build.agency())
    with pytest.raises(NotPermitted):
        r.accept_referral(referral, stranger)
    with pytest.raises(NotPermitted):
        r.add_service_record(referral, stranger, referral.sent_at.date(), "counselling", "")


def test_chronology_shows_each_status_change(db, world):
    referral = draft(world)
    for name in ("send", "accept", "start_service", "complete"):
        CALLS[name](referral, world)
    db.session.commit()
    texts = [e.text for e in db.session.execute(
        select(CaseEvent).filter_by(case_id=world.case.id, kind="referral").order_by(CaseEvent.id)).scalars()]
    assert texts[-4:] == [f"{world.agency.name}: {a} → {b}" for a, b in
                          (("작성 중", "의뢰됨"), ("의뢰됨", "접수"), ("접수", "서비스 중"), ("서비스 중", "완료"))]
