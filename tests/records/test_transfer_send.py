"""Sending a case to another school (전학): the form, the destination search, the consent rule,
and every refusal (nothing changes)."""
from __future__ import annotations

from sqlalchemy import func, select

from app.audit.models import AuditEvent
from app.business_days import add_business_days
from app.cases.consent import withdraw_consent
from app.cases.models import CONSENT_PURPOSES, Consent, ConsentPurpose
from app.db import today_kst
from app.extensions import db
from app.notifications.models import Notification
from app.records.transfer_models import CaseTransfer

from .transfer_helpers import bare_world, client_for, send, world  # noqa: F401  (fixtures)


def _count(model) -> int:
    return db.session.execute(select(func.count()).select_from(model)).scalar_one()


def test_the_consent_form_offers_the_transfer_purpose(app, world):  # noqa: F811  (fixtures)
    assert str(CONSENT_PURPOSES["transfer"]) == "전학 시 자료 이관"
    client = client_for(app, world.old_lead)
    page = client.get(f"/cases/{world.case.uid}").get_data(as_text=True)
    assert 'name="consent-purposes" type="checkbox" value="transfer"' in page
    assert "전학 시 자료 이관" in page


def test_a_lead_finds_a_school_by_name_and_sends_with_consent(app, world):  # noqa: F811  (fixtures)
    client = client_for(app, world.old_lead)
    page = client.get(f"/records/transfers/new/{world.case.uid}?q=대치").get_data(as_text=True)
    assert "대치전입초등학교" in page and 'data-testid="with-data"' in page
    assert "망원전출초등학교 (" not in page  # never the own school
    response = client.post(f"/records/transfers/new/{world.case.uid}",
                           data={"q": "대치", "to_school": world.new.uid, "note": "상담 이력 있음",
                                 "contact": "02-300-1234"})
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    transfer = db.session.execute(select(CaseTransfer)).scalar_one()
    assert (transfer.status, transfer.with_data, transfer.to_school_id) == ("sent", True, world.new.id)
    assert transfer.due_on == add_business_days(today_kst(), 5)
    assert transfer.note == "상담 이력 있음" and transfer.contact == "02-300-1234"
    # encrypted at rest
    raw = db.session.execute(select(CaseTransfer.note_enc, CaseTransfer.contact_enc)).one()
    assert "상담" not in (raw[0] or "") and "02-300" not in (raw[1] or "")
    event = db.session.execute(select(AuditEvent).where(AuditEvent.action == "transfer_sent")).scalar_one()
    assert event.subject_ref == world.student.uid and "상담" not in (event.details or "")
    alerts = db.session.execute(select(Notification).where(Notification.kind == "transfer")).scalars().all()
    assert [a.user_id for a in alerts] == [world.new_lead.id]


def test_without_consent_the_form_says_what_is_sent(app, bare_world):  # noqa: F811  (fixtures)
    w = bare_world
    client = client_for(app, w.old_lead)
    page = client.get(f"/records/transfers/new/{w.case.uid}?q=대치").get_data(as_text=True)
    assert 'data-testid="without-data"' in page and "사례가 있었다는 사실" in page
    transfer = send(w)
    assert transfer.with_data is False


def test_one_party_is_not_enough(app, build, bare_world):  # noqa: F811  (fixtures)
    w = bare_world
    from app.cases.consent import record_consent
    record_consent(w.case, w.old_lead, party="student", purposes=["transfer"], given_on=today_kst(), method="written")
    db.session.commit()
    assert send(w).with_data is False


def test_a_withdrawn_consent_stops_the_data(app, world):  # noqa: F811  (fixtures)
    consent = db.session.execute(select(Consent).join(ConsentPurpose).where(
        Consent.case_id == world.case.id, ConsentPurpose.purpose == "transfer")).scalars().first()
    withdraw_consent(consent, world.case, world.old_lead)
    db.session.commit()
    assert send(world).with_data is False


def test_the_search_is_limited_and_only_lists_schools_with_a_lead(app, build, world):  # noqa: F811  (fixtures)
    for n in range(40):
        school = build.school(name=f"검색용{n:02d}초등학교")
        if n % 2 == 0:
            build.user("school_lead", organisation=school, commit=False)
    db.session.commit()
    client = client_for(app, world.old_lead)
    page = client.get(f"/records/transfers/new/{world.case.uid}?q=검색용").get_data(as_text=True)
    assert page.count('name="to_school"') == 20
    assert "검색용01초등학교" not in page  # no lead: nobody could answer


def _refused(app, w, data, field_message, user=None):
    before = (_count(CaseTransfer), _count(Notification))
    client = client_for(app, user or w.old_lead)
    response = client.post(f"/records/transfers/new/{w.case.uid}", data=data)
    assert response.status_code == 400, response.status_code
    assert field_message in response.get_data(as_text=True)
    assert (_count(CaseTransfer), _count(Notification)) == before


def test_invalid_sending_changes_nothing(app, build, world):  # noqa: F811  (fixtures)
    w = world
    _refused(app, w, {"q": "망원", "to_school": w.old.uid}, "우리 학교로는 보낼 수 없습니다")
    _refused(app, w, {"q": "대치"}, "전학 갈 학교를 골라 주세요")
    _refused(app, w, {"q": "대치", "to_school": "not-a-school"}, "전학 갈 학교를 골라 주세요")
    agency = build.agency()
    _refused(app, w, {"q": "x", "to_school": agency.uid}, "전학 갈 학교를 골라 주세요")
    closed_school = build.school(name="문닫은초등학교", active=False)
    build.user("school_lead", organisation=closed_school)
    _refused(app, w, {"q": "문닫은", "to_school": closed_school.uid}, "전학 갈 학교를 골라 주세요")
    send(w)
    _refused(app, w, {"q": "성산", "to_school": w.third.uid}, "이미 회신을 기다리는 전학 이관이 있습니다")


def test_a_closed_case_cannot_be_sent(app, build):
    from .transfer_helpers import make_world
    w = make_world(build, status="closed", consent=False)
    _refused(app, w, {"q": "대치", "to_school": w.new.uid}, "진행 중인 사례만 전학 이관할 수 있습니다")


def test_only_the_case_schools_lead_may_send(app, build, world):  # noqa: F811  (fixtures)
    w = world
    url = f"/records/transfers/new/{w.case.uid}"
    data = {"q": "대치", "to_school": w.new.uid}
    for user, status in ((w.old_staff, 403), (w.old_coord, 403), (w.third_lead, 404), (w.new_lead, 404),
                         (w.new_coord, 404), (build.user("agency_coordinator"), 404)):
        client = client_for(app, user)
        assert client.get(url).status_code == status, user.role
        assert client.post(url, data=data).status_code == status, user.role
    assert _count(CaseTransfer) == 0
    denied = db.session.execute(select(func.count()).select_from(AuditEvent).where(
        AuditEvent.action == "permission_denied")).scalar_one()
    assert denied >= 12


def test_the_case_page_offers_sending_to_the_lead_only(app, world):  # noqa: F811  (fixtures)
    page = client_for(app, world.old_lead).get(f"/cases/{world.case.uid}").get_data(as_text=True)
    assert 'data-testid="new-transfer"' in page
    page = client_for(app, world.old_staff).get(f"/cases/{world.case.uid}").get_data(as_text=True)
    assert 'data-testid="new-transfer"' not in page
    send(world)
    page = client_for(app, world.old_lead).get(f"/cases/{world.case.uid}").get_data(as_text=True)
    assert 'data-testid="new-transfer"' not in page and 'data-status="sent"' in page
