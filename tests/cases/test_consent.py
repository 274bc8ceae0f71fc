"""Consent over HTTP and in time: recording, agencies, withdrawal, expiry (법 11③)."""
from __future__ import annotations

import datetime as dt
import html as htmllib
import re

import pytest
from freezegun import freeze_time
from sqlalchemy import func, select

from app.cases.consent import consent_covers, consent_state, record_consent
from app.cases.forms.consent import COMMON_AGENCY_KINDS
from app.audit.models import AuditEvent
from app.cases.models import CaseEvent, Consent, ConsentPurpose, SupportCase
from app.domain import DomainError
from app.db import today_kst

from .test_page_views import audit, sign_in


def count(db, model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def text(response) -> str:
    return htmllib.unescape(response.get_data(as_text=True))


def form(party="student", purposes=("guardian_matching",), **extra) -> dict:
    data = {"consent-party": party, "consent-purposes": list(purposes), "consent-method": "written",
            "consent-given_on": today_kst().isoformat()}
    data.update({f"consent-{k}": v for k, v in extra.items()})
    return data


@pytest.fixture
def setup(build):
    """A planning case, a staff member of its school, and agencies in and outside its district."""
    school = build.school()
    lead = build.user("school_lead", organisation=school)
    case = build.case(school, status="planning", lead=lead)
    staff = build.user("school_staff", organisation=school)
    near = build.agency(name="마포가족센터", agency_kind="가족센터")
    far = build.agency(gu="강남구", name="강남정신건강복지센터", agency_kind="정신건강복지센터")
    return case, staff, near, far


def test_recording_both_consents_completes_the_state(client, login, db, setup):
    case, staff, _near, _far = setup
    login(staff)
    assert "학생·보호자 동의 필요" in client.get(f"/cases/{case.uid}").get_data(as_text=True)
    assert client.post(f"/cases/{case.uid}/consent", data=form("student")).status_code == 302
    assert consent_state(case) == "보호자 동의 필요"
    response = client.post(f"/cases/{case.uid}/consent",
                           data=form("parent", ("guardian_matching", "conference_sharing"), method="oral_then_written"))
    assert response.status_code == 302
    assert consent_state(case) == "학생·보호자 동의 완료"
    assert consent_covers(case, "guardian_matching") and not consent_covers(case, "conference_sharing")
    page = client.get(f"/cases/{case.uid}?kind=consent").get_data(as_text=True)
    assert "동의를 기록했습니다." in page and "학생·보호자 동의 완료" in page
    assert "보호자 동의 기록 (구두 후 서면 보완; 교육후견인 연계, 사례회의 정보 공유)" in page
    [parent] = db.session.execute(select(Consent).filter_by(party="parent")).scalars()
    assert (parent.method, parent.recorded_by_id, parent.given_on) == ("oral_then_written", staff.id, today_kst())
    # with both consents the team can start support from the page
    assert client.post(f"/cases/{case.uid}/transition/start_support").status_code == 302


def test_consent_form_offers_district_agencies_and_common_kinds(client, login, setup):
    case, staff, near, far = setup
    login(staff)
    page = client.get(f"/cases/{case.uid}").get_data(as_text=True)
    assert 'name="consent-purposes" type="checkbox" value="agency_referral"' in page
    assert near.name in page and far.name not in page
    for kind in COMMON_AGENCY_KINDS:
        assert f'name="consent-agency_kinds" type="checkbox" value="{kind}"' in page


def test_referral_consent_to_a_kind_and_an_agency(client, login, db, setup, build):
    case, staff, near, far = setup
    login(staff)
    for party in ("student", "parent"):
        response = client.post(f"/cases/{case.uid}/consent", data=form(
            party, ("agency_referral",), agency_kinds=["Wee센터"], agencies=[str(near.id)]))
        assert response.status_code == 302
    wee = build.agency(name="마포Wee센터", agency_kind="Wee센터")
    other_kind = build.agency(name="마포지역아동센터", agency_kind="지역아동센터")
    assert consent_covers(case, "agency_referral", near)
    assert consent_covers(case, "agency_referral", wee)
    assert not consent_covers(case, "agency_referral", other_kind)
    assert not consent_covers(case, "guardian_matching")
    rows = db.session.execute(select(ConsentPurpose.agency_id, ConsentPurpose.agency_kind)).all()
    assert sorted(rows, key=str) == sorted([(near.id, None), (None, "Wee센터")] * 2, key=str)


@pytest.mark.parametrize("data,message", [
    (form(purposes=("agency_referral",)), "의뢰에 동의한 기관이나 기관 종류를 선택해 주세요."),
    (form(purposes=()), "동의 목적을 하나 이상 선택해 주세요."),
    (form(party=""), "동의한 사람을 선택해 주세요."),
    (form(party="uncle"), "선택할 수 없는 항목이 있습니다."),
    (form(purposes=("selling",)), "선택할 수 없는 항목이 있습니다."),
    (form(purposes=("agency_referral",), agency_kinds=["사설학원"]), "선택할 수 없는 항목이 있습니다."),
    (form(given_on="TOMORROW"), "동의 날짜는 오늘 이후일 수 없습니다."),
    (form(given_on=""), "동의 날짜를 입력해 주세요."),
    (form(expires_on="YESTERDAY", given_on="TODAY"), "만료일은 동의 날짜 이후여야 합니다."),
])
def test_bad_consent_input_saves_nothing(client, login, db, setup, data, message):
    case, staff, _near, _far = setup
    login(staff)
    days = {"TODAY": 0, "TOMORROW": 1, "YESTERDAY": -1}
    data = {k: (today_kst() + dt.timedelta(days=days[v])).isoformat() if isinstance(v, str) and v in days else v
            for k, v in data.items()}
    before = (count(db, Consent), count(db, ConsentPurpose), count(db, CaseEvent))
    response = client.post(f"/cases/{case.uid}/consent", data=data)
    assert response.status_code == 400
    page = text(response)
    assert message in page and '<details class="krds-disclosure ieum-disclosure" id="d-consent" open>' in page
    assert (count(db, Consent), count(db, ConsentPurpose), count(db, CaseEvent)) == before


def test_an_agency_of_another_district_cannot_be_named(client, login, db, setup):
    case, staff, _near, far = setup
    login(staff)
    response = client.post(f"/cases/{case.uid}/consent", data=form(purposes=("agency_referral",), agencies=[str(far.id)]))
    assert response.status_code == 400 and "선택할 수 없는 항목이 있습니다." in text(response)
    assert count(db, Consent) == 0


def test_no_consent_on_a_closed_case(client, login, build, db):
    case = build.case(status="closed")
    login(build.user("school_staff", organisation=case.school))
    assert 'data-testid="form-consent"' not in client.get(f"/cases/{case.uid}").get_data(as_text=True)
    before = count(db, Consent)
    response = client.post(f"/cases/{case.uid}/consent", data=form())
    assert response.status_code == 400 and "종결되었거나 미선정된 사례에는 동의를 기록할 수 없습니다." in text(response)
    assert count(db, Consent) == before


def test_withdrawal_stops_the_purpose_at_once(client, login, build, db):
    case = build.case(status="in_support")
    login(build.user("school_staff", organisation=case.school))
    assert consent_covers(case, "guardian_matching")
    parent = db.session.execute(select(Consent).filter_by(case_id=case.id, party="parent")).scalar_one()
    url = f"/cases/{case.uid}/consent/{parent.uid}/withdraw"
    response = client.post(url)
    assert response.status_code == 302
    db.session.expire_all()
    assert parent.withdrawn_on == today_kst()
    assert consent_state(case) == "보호자 동의 필요" and not consent_covers(case, "guardian_matching")
    page = client.get(f"/cases/{case.uid}").get_data(as_text=True)
    assert "보호자 동의 철회를 기록했습니다." in page and 'data-state="withdrawn"' in page
    assert page.count('data-testid="withdraw"') == 1  # only the student's consent can still be withdrawn
    response = client.post(url)
    assert response.status_code == 400 and "이미 철회된 동의입니다." in text(response)
    # the case in support now lacks a consent: the home page lists it as waiting
    assert "보호자 동의 필요" in client.get(f"/cases/{case.uid}").get_data(as_text=True)


def test_withdrawing_a_consent_of_another_case_is_404(client, login, build, db):
    school = build.school()
    lead = build.user("school_lead", organisation=school)
    case, other = build.case(school, status="in_support", lead=lead), build.case(school, status="in_support", lead=lead)
    foreign = db.session.execute(select(Consent).filter_by(case_id=other.id)).scalars().first()
    login(lead)
    assert client.post(f"/cases/{case.uid}/consent/{foreign.uid}/withdraw").status_code == 404
    assert client.post(f"/cases/{case.uid}/consent/not-a-uid/withdraw").status_code == 404
    db.session.expire_all()
    assert foreign.withdrawn_on is None
    assert [e.object_id for e in audit(db, "permission_denied")] == [foreign.uid, "not-a-uid"]


def test_consent_of_a_case_in_another_school_is_404(client, login, build, db):
    case = build.case(status="in_support")
    consent = db.session.execute(select(Consent).filter_by(case_id=case.id)).scalars().first()
    login(build.user("school_lead"))
    assert client.post(f"/cases/{case.uid}/consent/{consent.uid}/withdraw").status_code == 404
    assert client.post(f"/cases/{case.uid}/consent", data=form()).status_code == 404
    db.session.expire_all()
    assert consent.withdrawn_on is None


def test_district_coordinator_cannot_record_or_withdraw(app, build, db):
    case = build.case(status="in_support")
    consent = db.session.execute(select(Consent).filter_by(case_id=case.id)).scalars().first()
    client = sign_in(app, build.user("district_coordinator", organisation=build.organisation("district_office")))
    assert client.post(f"/cases/{case.uid}/consent", data=form()).status_code == 403
    assert client.post(f"/cases/{case.uid}/consent/{consent.uid}/withdraw").status_code == 403
    db.session.expire_all()
    assert consent.withdrawn_on is None


def test_expiry_ends_consent_on_the_day_after(app, build, db):
    school = build.school()
    lead = build.user("school_lead", organisation=school)
    with freeze_time("2026-03-02 01:00:00"):
        case = build.case(school, status="planning", lead=lead)
        for party in ("student", "parent"):
            record_consent(case, lead, party=party, purposes=["guardian_matching"], given_on=dt.date(2026, 3, 2),
                           method="written", expires_on=dt.date(2026, 8, 31) if party == "parent" else None)
        db.session.commit()
    with freeze_time("2026-08-31 14:59:00"):  # 23:59 in Seoul, the last day
        assert consent_state(case) == "학생·보호자 동의 완료" and consent_covers(case, "guardian_matching")
    with freeze_time("2026-08-31 15:00:00"):  # midnight in Seoul: expired
        assert consent_state(case) == "보호자 동의 필요" and not consent_covers(case, "guardian_matching")
        html = sign_in(app, lead).get(f"/cases/{case.uid}").get_data(as_text=True)
        assert 'data-state="expired"' in html and "만료 2026. 8. 31." in html and "보호자 동의 필요" in html
        assert html.count('data-testid="withdraw"') == 1
        # support cannot start on an expired consent
        response = sign_in(app, lead).post(f"/cases/{case.uid}/transition/start_support")
        assert response.status_code == 400
        assert db.session.get(SupportCase, case.id).status == "planning"


def test_both_consents_in_one_submission_with_checkboxes(client, login, db, setup):
    """Student and parent ticked together: two consent records, two audit events, one transaction."""
    case, staff, near, _far = setup
    login(staff)
    page = client.get(f"/cases/{case.uid}").get_data(as_text=True)
    for name in ("party", "purposes", "agency_kinds", "agencies"):
        controls = re.findall(rf'<(?:input|select)[^>]*name="consent-{name}"[^>]*>', page)
        assert controls and all('type="checkbox"' in c for c in controls), name
    assert "<select multiple" not in page and "Ctrl" not in page
    events = db.session.scalar(select(func.count(AuditEvent.id)).filter_by(action="consent_recorded"))
    response = client.post(f"/cases/{case.uid}/consent",
                           data=form(["student", "parent"], ("guardian_matching", "agency_referral"),
                                     agencies=[str(near.id)]))
    assert response.status_code == 302
    consents = list(db.session.execute(select(Consent).filter_by(case_id=case.id).order_by(Consent.id)).scalars())
    assert [c.party for c in consents] == ["student", "parent"]
    assert db.session.scalar(select(func.count(AuditEvent.id)).filter_by(action="consent_recorded")) == events + 2
    assert consent_state(case) == "학생·보호자 동의 완료"
    page = client.get(f"/cases/{case.uid}").get_data(as_text=True)
    assert "학생·보호자 동의를 기록했습니다." in page


def test_a_refused_second_party_saves_neither(client, login, db, setup, monkeypatch):
    from app.cases.views import actions
    case, staff, _near, _far = setup
    login(staff)
    original = actions.record_consent

    def refuse_parent(case, actor, **kwargs):
        if kwargs["party"] == "parent":
            raise DomainError("보호자 동의를 기록할 수 없습니다.", "party")
        return original(case, actor, **kwargs)
    monkeypatch.setattr(actions, "record_consent", refuse_parent)
    before = (count(db, Consent), count(db, CaseEvent))
    response = client.post(f"/cases/{case.uid}/consent", data=form(["student", "parent"]))
    assert response.status_code == 400 and "보호자 동의를 기록할 수 없습니다." in text(response)
    assert (count(db, Consent), count(db, CaseEvent)) == before
