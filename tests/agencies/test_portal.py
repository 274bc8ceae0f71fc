"""The agency coordinator's inbox: only their agency's referrals, only the shared items, audited
views, and accept / decline / service records / outcome through the referral services."""
import datetime as dt
import re

import pytest
from sqlalchemy import select

from app.agencies.models import Referral, ServiceRecord
from app.agencies.referrals import create_referral, send_referral
from app.audit.models import AuditEvent
from app.cases.consent import withdraw_consent
from app.cases.models import CaseEvent, Consent
from app.db import today_kst
from tests.factories import consent_both

ADDRESS = "서울 마포구 비밀길 12"


@pytest.fixture
def refer(build, db):
    """Factory: a consented in-support case referred and sent to ``agency`` sharing ``items``."""
    def _refer(agency, items=("student_name", "needs"), send=True):
        school = build.school()
        lead = build.user("school_lead", organisation=school)
        student = build.student(school, actor=lead, address=ADDRESS)
        case = build.case(school, status="in_support", lead=lead, student=student)
        consent_both(case, lead, purposes=("agency_referral",), agency_kinds=["청소년상담복지센터"])
        referral = create_referral(case, lead, agency=agency, reason="또래 관계 상담 연계 요청", shared_items=list(items))
        if send:
            send_referral(referral, lead)
        db.session.commit()
        return referral
    return _refer


@pytest.fixture
def agency(build):
    return build.agency()


@pytest.fixture
def coordinator(build, agency, login):
    user = build.user("agency_coordinator", organisation=agency)
    login(user)
    return user


def events(db, action):
    return db.session.execute(select(AuditEvent).filter_by(action=action)).scalars().all()


def test_inbox_lists_own_sent_referrals_with_shared_items_only(client, db, refer, agency, coordinator, build):
    mine = refer(agency)
    hidden = refer(agency, items=("needs",))
    draft = refer(agency, send=False)
    other = refer(build.agency())
    html = client.get("/agencies/inbox").get_data(as_text=True)
    assert mine.uid in html and mine.case.student.name in html
    assert hidden.uid in html and hidden.case.student.name not in html and "이름 비공개 학생" in html
    assert draft.uid not in html and other.uid not in html and other.case.student.name not in html
    assert ADDRESS not in html and f"/cases/{mine.case.uid}" not in html
    [event] = events(db, "referral_inbox_viewed")
    assert mine.case.student.name not in (event.details or "")


def test_inbox_filters_by_status_and_flags_overdue(client, db, refer, agency, coordinator):
    late, fresh = refer(agency), refer(agency)
    late.respond_by = today_kst() - dt.timedelta(days=3)
    accepted = refer(agency)
    accepted.status = "accepted"
    db.session.commit()
    html = client.get("/agencies/inbox").get_data(as_text=True)
    rows = re.findall(r'data-testid="inbox-row" data-status="(\w+)"( data-overdue="1")?', html)
    assert sorted(rows) == [("accepted", ""), ("sent", ""), ("sent", ' data-overdue="1"')]
    html = client.get("/agencies/inbox?status=accepted").get_data(as_text=True)
    assert accepted.uid in html and late.uid not in html and fresh.uid not in html
    home = client.get("/home/agency").get_data(as_text=True)
    waiting = home[home.index('data-testid="home-waiting"'):home.index('id="p-in_service"')]
    assert waiting.index(late.uid) < waiting.index(fresh.uid) and "응답 기한 지남" in waiting
    assert accepted.uid in home[home.index('id="p-in_service"'):]


def test_referral_page_shows_only_shared_items_and_is_audited(client, db, refer, agency, coordinator):
    referral = refer(agency, items=("student_name", "needs"))
    page = client.get(f"/agencies/inbox/{referral.uid}")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert re.findall(r'data-testid="shared-item" data-item="(\w+)"', html) == ["student_name", "needs"]
    assert "학생 이름" in html and "지원이 필요한 영역과 내용" in html and "또래 관계 상담 연계 요청" in html
    assert ADDRESS not in html and "010-1234-5678" not in html and "생년월일" not in html
    assert f"/cases/{referral.case.uid}" not in html
    assert 'data-testid="form-accept"' in html and 'data-testid="form-decline"' in html
    [event] = events(db, "referral_viewed")
    assert event.object_id == referral.uid and event.subject_ref == referral.case.student.uid


@pytest.mark.parametrize("whose", ["other_agency", "made_up", "draft"])
def test_foreign_or_unknown_referral_is_an_audited_404(client, db, refer, agency, coordinator, build, whose):
    uid = {"other_agency": lambda: refer(build.agency()).uid, "made_up": lambda: "0" * 36,
           "draft": lambda: refer(agency, send=False).uid}[whose]()
    assert client.get(f"/agencies/inbox/{uid}").status_code == 404
    assert client.post(f"/agencies/inbox/{uid}/accept").status_code == 404
    denied = events(db, "permission_denied")
    assert len(denied) == 2 and {e.object_id for e in denied} == {uid} and not events(db, "referral_viewed")


def test_school_staff_may_not_open_the_inbox(client, build, login):
    login(build.user("school_staff"))
    assert client.get("/agencies/inbox").status_code == 403


def test_accept_record_and_complete(client, db, refer, agency, coordinator):
    referral = refer(agency)
    response = client.post(f"/agencies/inbox/{referral.uid}/accept", follow_redirects=True)
    assert "의뢰를 접수했습니다" in response.get_data(as_text=True)
    assert db.session.get(Referral, referral.id).status == "accepted"
    html = client.get(f"/agencies/inbox/{referral.uid}").get_data(as_text=True)
    assert 'data-testid="form-record"' in html and 'data-testid="form-outcome"' not in html
    response = client.post(f"/agencies/inbox/{referral.uid}/records", follow_redirects=True,
                           data={"occurred_on": today_kst().isoformat(), "kind": "counselling", "note": "첫 개별 상담"})
    assert "서비스 기록을 저장했습니다" in response.get_data(as_text=True)
    db.session.expire_all()
    record = db.session.execute(select(ServiceRecord)).scalar_one()
    assert record.note == "첫 개별 상담" and "첫 개별 상담" not in str(record.note_enc)
    assert db.session.get(Referral, referral.id).status == "in_service"
    response = client.post(f"/agencies/inbox/{referral.uid}/outcome", follow_redirects=True,
                           data={"outcome": "completed", "outcome_note": "8회기 상담 후 또래 관계 개선"})
    assert "완료로 종결" in response.get_data(as_text=True)
    db.session.expire_all()
    done = db.session.get(Referral, referral.id)
    assert done.status == "completed" and done.outcome_note == "8회기 상담 후 또래 관계 개선"
    lines = [e.text for e in db.session.execute(select(CaseEvent).filter_by(case_id=done.case_id)).scalars()]
    assert any("완료" in line for line in lines)


def test_decline_needs_a_comment_for_other_and_saves_nothing(client, db, refer, agency, coordinator):
    referral = refer(agency)
    response = client.post(f"/agencies/inbox/{referral.uid}/decline", data={"reason_code": "other", "comment": ""})
    html = response.get_data(as_text=True)
    assert response.status_code == 400 and 'id="comment-error"' in html and "기타 사유를 적어 주세요." in html
    db.session.expire_all()
    assert db.session.get(Referral, referral.id).status == "sent" and not events(db, "referral_declined")
    response = client.post(f"/agencies/inbox/{referral.uid}/decline", follow_redirects=True,
                           data={"reason_code": "no_capacity", "comment": "이번 달 정원 마감"})
    assert "의뢰를 거절했습니다" in response.get_data(as_text=True)
    db.session.expire_all()
    declined = db.session.get(Referral, referral.id)
    assert declined.status == "declined" and declined.decline_reason == "no_capacity"


def test_refused_service_record_shows_message_by_field(client, db, refer, agency, coordinator):
    referral = refer(agency)
    client.post(f"/agencies/inbox/{referral.uid}/accept")
    future = (today_kst() + dt.timedelta(days=5)).isoformat()
    response = client.post(f"/agencies/inbox/{referral.uid}/records",
                           data={"occurred_on": future, "kind": "counselling", "note": "미래"})
    html = response.get_data(as_text=True)
    assert response.status_code == 400 and 'id="occurred_on-error"' in html
    first = referral.sent_at.date() - dt.timedelta(days=1)  # the message says which days are allowed, Korean style
    assert f"서비스 날짜는 {first.year}. {first.month}. {first.day}.부터 오늘까지 중에서 골라 주세요" in html
    assert db.session.execute(select(ServiceRecord)).first() is None


def test_withdrawn_consent_hides_the_shared_items(client, db, refer, agency, coordinator):
    referral = refer(agency)
    client.post(f"/agencies/inbox/{referral.uid}/accept")
    case = referral.case
    lead = db.session.get(type(coordinator), referral.created_by_id)
    for consent in db.session.execute(select(Consent).filter_by(case_id=case.id)).scalars().all():
        withdraw_consent(consent, case, lead)
    db.session.commit()
    html = client.get(f"/agencies/inbox/{referral.uid}").get_data(as_text=True)
    assert 'data-testid="consent-withdrawn"' in html and "더 이상 볼 수 없습니다" in html
    assert case.student.name not in html and "또래 관계 상담 연계 요청" not in html
    assert "접수" in html and 'data-testid="referral-facts"' in html


@pytest.mark.parametrize("second", ["accept", "decline"])
def test_a_second_answer_to_an_accepted_referral_is_refused_with_a_message(client, db, refer, agency, coordinator,
                                                                             second):
    """A double click (or a colleague's answer already in) gets the page with the reason, never a 500,
    and changes nothing."""
    referral = refer(agency)
    assert client.post(f"/agencies/inbox/{referral.uid}/accept").status_code == 302
    before = len(events(db, "referral_accepted")), len(events(db, "referral_declined"))
    response = client.post(f"/agencies/inbox/{referral.uid}/{second}", data={"reason_code": "no_capacity",
                                                                            "comment": "정원 초과"})
    html = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "상태에서는" in html and "할 수 없습니다" in html  # the service's reason, shown above the page
    assert 'data-testid="form-accept"' not in html and 'data-testid="form-record"' in html
    db.session.expire_all()
    assert db.session.get(Referral, referral.id).status == "accepted"
    assert (len(events(db, "referral_accepted")), len(events(db, "referral_declined"))) == before
