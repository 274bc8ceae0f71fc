"""Referral alerts: every answer or end sends ``referral_resolved``; the agency's "new referral"
alert resolves once answered; texts name the student only as the reader may see them and write
dates the Korean way; the overdue list for home panels is scoped and eager-loaded."""
from __future__ import annotations

import datetime as dt
import re

import pytest
from sqlalchemy import event, select

from app import signals
from app.agencies import referrals as r
from app.agencies.referral_queries import UNNAMED_STUDENT, overdue_referrals_for
from app.cases.models import CaseEvent
from app.db import today_kst
from app.extensions import db as _db
from app.i18n import korean_date
from app.notifications.models import Notification
from app.notifications.services import object_key, unread_for

from .test_reactions import sent
from .test_referrals import draft, make_world

ISO = re.compile(r"\d{4}-\d{2}-\d{2}")


@pytest.fixture
def world(build, agency_with_service):
    return make_world(build, agency_with_service, status="in_support")


@pytest.fixture
def resolved():
    """Every ``referral_resolved`` sent during the test, as (referral, status, actor)."""
    seen = []

    def receiver(referral, status=None, actor=None, **_):
        seen.append((referral, status, actor))
    signals.referral_resolved.connect(receiver)
    yield seen
    signals.referral_resolved.disconnect(receiver)


def alerts(db, user) -> list[Notification]:
    return list(db.session.execute(select(Notification).filter_by(user_id=user.id).order_by(Notification.id)).scalars())


def test_new_referral_alert_is_about_the_referral_and_resolves_on_accept(db, world, resolved):
    referral = sent(world)
    db.session.commit()
    [new] = alerts(db, world.agent)
    assert new.object_key == object_key("referral", referral) and new.case_id is None
    assert unread_for(world.agent) == [new]
    r.accept_referral(referral, world.agent)
    db.session.commit()
    db.session.refresh(new)
    assert new.resolved_at is not None and unread_for(world.agent) == []
    assert resolved == [(referral, "accepted", world.agent)]
    [news] = alerts(db, world.staff)  # the school hears it as news
    assert news.object_key is None and "접수" in news.text and world.case.student.name in news.text


def test_new_referral_alert_resolves_on_decline(db, world, resolved):
    referral = sent(world)
    r.decline_referral(referral, world.agent, "outside_area", "")
    db.session.commit()
    assert all(n.resolved_at for n in alerts(db, world.agent))
    assert resolved == [(referral, "declined", world.agent)]
    [news] = alerts(db, world.staff)
    assert news.resolved_at is None and "서비스 지역 밖" in news.text


@pytest.mark.parametrize("end", ["complete", "fail", "cancel"])
def test_every_end_sends_referral_resolved(db, world, resolved, end):
    referral = sent(world, status="in_service")
    {"complete": lambda: r.complete_referral(referral, world.agent, "목표 달성"),
     "fail": lambda: r.fail_referral(referral, world.agent, "연락 두절"),
     "cancel": lambda: r.cancel_referral(referral, world.lead, "전학")}[end]()
    assert [status for _, status, _ in resolved] == ["accepted", {"complete": "completed", "fail": "failed",
                                                                  "cancel": "cancelled"}[end]]
    assert resolved[-1][0] is referral


def test_sending_and_service_start_do_not_resolve(db, world, resolved):
    sent(world, status="in_service")
    assert [status for _, status, _ in resolved] == ["accepted"]


def test_override_alert_is_about_the_referral_and_resolves_when_it_ends(db, build, agency_with_service):
    w = make_world(build, agency_with_service, status="in_support", consent=False)
    referral = draft(w)
    r.send_referral(referral, w.lead, override_reason="아동학대 의심", override_category="child_abuse")
    db.session.commit()
    [review] = alerts(db, w.coordinator)
    assert review.kind == "referral_override" and review.object_key == object_key("referral", referral)
    assert w.case.student.name in review.text  # the coordinator may read the full name
    r.accept_referral(referral, w.agent)
    db.session.refresh(review)
    assert review.resolved_at is None  # accepting answers the agency, not the coordinator's review
    r.cancel_referral(referral, w.lead, "보호 조치 완료")
    db.session.commit()
    db.session.refresh(review)
    assert review.resolved_at is not None


def test_agency_alert_names_the_student_only_when_the_name_is_shared(db, world):
    named = sent(world, items=("student_name", "needs"))
    unnamed = sent(world, items=("needs",))
    db.session.commit()
    by_referral = {n.object_key: n.text for n in alerts(db, world.agent)}
    name = world.case.student.name
    assert name in by_referral[object_key("referral", named)]
    text = by_referral[object_key("referral", unnamed)]
    assert name not in text and UNNAMED_STUDENT in text
    assert korean_date(unnamed.respond_by) + "까지 회신해 주세요" in text and world.school.name in text


def test_no_iso_date_in_any_alert_or_referral_chronology_line(db, build, world, agency_with_service):
    referral = sent(world, status="in_service")
    r.add_service_record(referral, world.agent, today_kst() - dt.timedelta(days=1), "education", "")
    r.complete_referral(referral, world.agent, "종결")
    declined = sent(world)
    r.decline_referral(declined, world.agent, "other", "정원 초과")
    cancelled = sent(world)
    r.cancel_referral(cancelled, world.staff, "다른 기관")
    stopped = sent(world)
    from app.cases.consent import withdraw_consent
    withdraw_consent(world.consents[1], world.case, world.lead)
    db.session.commit()
    assert stopped.status == "cancelled"
    texts = [n.text for n in db.session.execute(select(Notification)).scalars()]
    assert len(texts) >= 10
    for line in texts:
        assert not ISO.search(line), line
    lines = [e.text for e in db.session.execute(select(CaseEvent).filter_by(kind="referral")).scalars()]
    assert any(f"서비스 제공 (교육·학습, {korean_date(today_kst() - dt.timedelta(days=1))})" in x for x in lines)
    for line in lines:
        assert not ISO.search(line), line


def _count_queries(run) -> int:
    statements = []

    def listener(*args, **kwargs):
        statements.append(args[2])
    event.listen(_db.engine, "before_cursor_execute", listener)
    try:
        run()
    finally:
        event.remove(_db.engine, "before_cursor_execute", listener)
    return len(statements)


def _overdue(w, n: int) -> list:
    made = []
    for _ in range(n):
        referral = sent(w)
        referral.respond_by = today_kst() - dt.timedelta(days=2)
        made.append(referral)
    _db.session.commit()
    return made


def test_overdue_referrals_for_is_scoped_limited_and_eager(db, build, agency_with_service, world):
    other = make_world(build, agency_with_service, status="in_support")  # same district, another school
    far_school = build.school(gu="강남구")
    _overdue(world, 2)
    _overdue(other, 1)
    fresh = sent(world)
    db.session.commit()
    assert fresh not in overdue_referrals_for(world.coordinator, limit=None)
    assert len(overdue_referrals_for(world.coordinator, limit=None)) == 3
    assert len(overdue_referrals_for(world.coordinator)) == 3 and len(overdue_referrals_for(world.coordinator, 2)) == 2
    assert {x.case_id for x in overdue_referrals_for(world.staff)} == {world.case.id}
    assert overdue_referrals_for(build.user("school_lead", organisation=far_school)) == []
    far = build.user("district_coordinator", organisation=build.organisation("district_office", gu="강남구"))
    assert overdue_referrals_for(far) == []
    shown = overdue_referrals_for(world.coordinator)
    assert [x.respond_by for x in shown] == sorted(x.respond_by for x in shown)

    def read():
        db.session.expire_all()
        for x in overdue_referrals_for(world.coordinator, limit=10):
            (x.case.student.name, x.case.school.name, x.agency.name, x.respond_by)
    few = _count_queries(read)
    _overdue(world, 4)
    _overdue(other, 3)
    assert len(overdue_referrals_for(world.coordinator, limit=10)) == 10
    assert _count_queries(read) == few
