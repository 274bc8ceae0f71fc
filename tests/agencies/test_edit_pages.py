"""Edit screens that had only services: an agency's directory entry (its own coordinator, or its
district office) and a referral draft (its school side); the case page's referral block and its
links (agency suggestions, new referral, a draft's edit page)."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from app.agencies import referrals as r
from app.agencies import services as svc
from app.agencies.models import Referral
from app.audit.models import AuditEvent
from app.auth.models import Organisation
from app.domain import NotPermitted
from app.lifecycle import page_sections

from .test_referral_views import sign_in, text
from .test_referrals import draft, make_world


def events(db, action, outcome="allowed"):
    return db.session.execute(select(AuditEvent).filter_by(action=action, outcome=outcome)).scalars().all()


@pytest.fixture
def entry(build):
    """A 마포구 agency, its coordinator, and the district coordinators of 마포구 (own) and 강남구 (foreign)."""
    agency = build.agency(gu="마포구", name="마포가족센터", agency_kind="가족센터")
    return {"agency": agency, "agent": build.user("agency_coordinator", organisation=agency),
            "district": build.user("district_coordinator", organisation=build.organisation("district_office")),
            "far": build.user("district_coordinator", organisation=build.organisation("district_office", gu="강남구")),
            "other_agent": build.user("agency_coordinator", organisation=build.agency(gu="마포구")),
            "staff": build.user("school_staff")}


def agency_data(build, **extra):
    return {"name": "마포가족센터 본원", "agency_kind": "가족센터", "gu_id": str(build.gu("마포구").id), **extra}


@pytest.mark.parametrize("who, status", [("agent", 200), ("district", 200), ("far", 403), ("other_agent", 403),
                                         ("staff", 403)])
def test_agency_edit_page_permissions(app, db, build, entry, who, status):
    client = sign_in(app, entry[who])
    url = f"/agencies/{entry['agency'].uid}/edit"
    assert client.get(url).status_code == status
    response = client.post(url, data=agency_data(build))
    assert response.status_code == (302 if status == 200 else status)
    db.session.expire_all()
    name = db.session.get(Organisation, entry["agency"].id).name
    assert name == ("마포가족센터 본원" if status == 200 else "마포가족센터")
    if status == 403:
        assert events(db, "permission_denied", "denied")
    else:
        assert events(db, "agency_updated")


def test_unknown_agency_is_an_audited_404(app, db, entry):
    assert sign_in(app, entry["agent"]).get(f"/agencies/{'0' * 36}/edit").status_code == 404
    assert events(db, "permission_denied", "denied")


def test_agency_coordinator_edits_own_entry_but_not_its_active_flag(app, db, build, entry):
    client = sign_in(app, entry["agent"])
    page = text(client.get(f"/agencies/{entry['agency'].uid}/edit"))
    assert "기관 정보 수정" in page and 'name="active"' not in page and 'value="마포가족센터"' in page
    response = client.post(f"/agencies/{entry['agency'].uid}/edit", data=agency_data(build, active=""))
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(Organisation, entry["agency"].id).active is True  # the field is not theirs
    with pytest.raises(NotPermitted):
        svc.update_agency(entry["agent"], entry["agency"], {"active": False})
    # and the links that lead here
    assert f"/agencies/{entry['agency'].uid}/edit" in text(client.get("/agencies/inbox"))
    assert f"/agencies/{entry['agency'].uid}/edit" in text(client.get(f"/agencies/{entry['agency'].uid}"))


def test_district_coordinator_may_stop_an_agency(app, db, build, entry):
    client = sign_in(app, entry["district"])
    assert 'name="active"' in text(client.get(f"/agencies/{entry['agency'].uid}/edit"))
    assert client.post(f"/agencies/{entry['agency'].uid}/edit", data=agency_data(build)).status_code == 302
    db.session.expire_all()
    assert db.session.get(Organisation, entry["agency"].id).active is False


@pytest.mark.parametrize("data, message", [
    ({"name": ""}, "값을 입력해 주세요."),
    ({"agency_kind": "치킨집"}, "올바르지 않은 선택값입니다."),
    ({"gu_id": "999999"}, "관할 자치구"),
])
def test_agency_edit_invalid_input_changes_nothing(app, db, build, entry, data, message):
    client = sign_in(app, entry["agent"])
    before = len(events(db, "agency_updated"))
    response = client.post(f"/agencies/{entry['agency'].uid}/edit", data=agency_data(build, **data))
    body = text(response)
    assert response.status_code == 400
    assert message in body and 'class="form-group is-error"' in body
    db.session.expire_all()
    agency = db.session.get(Organisation, entry["agency"].id)
    assert (agency.name, agency.agency_kind) == ("마포가족센터", "가족센터")
    assert len(events(db, "agency_updated")) == before


def test_agency_gu_outside_the_office_is_refused(app, db, build, entry):
    response = sign_in(app, entry["agent"]).post(f"/agencies/{entry['agency'].uid}/edit",
                                                 data=agency_data(build, gu_id=str(build.gu("강남구").id)))
    assert response.status_code == 400 and "관할 자치구" in text(response)
    db.session.expire_all()
    assert db.session.get(Organisation, entry["agency"].id).gu_id == build.gu("마포구").id


def test_agency_coordinator_keeps_own_services_only(app, db, build, entry, agency_with_service):
    own = agency_with_service(agency=entry["agency"])
    foreign = agency_with_service(agency=entry["other_agent"].organisation)
    client = sign_in(app, entry["agent"])
    assert client.get(f"/agencies/services/{own.uid}/edit").status_code == 200
    assert client.post(f"/agencies/services/{own.uid}/confirm").status_code == 302
    assert client.get(f"/agencies/services/{foreign.uid}/edit").status_code == 403
    assert client.get(f"/agencies/{foreign.organisation.uid}/services/new").status_code == 403
    assert client.get("/agencies/new").status_code == 403  # registering agencies stays with the district


# -- referral drafts -------------------------------------------------------------------------

@pytest.fixture
def world(build, agency_with_service):
    return make_world(build, agency_with_service, status="in_support")


def draft_data(w, **extra):
    return {"agency": str(w.agency.id), "service": "", "reason": "학습 상담으로 변경", "shared_items": ["summary"],
            "action": "draft", **extra}


def test_draft_edit_page_prefills_and_saves(app, db, world):
    referral = draft(world)
    db.session.commit()
    client = sign_in(app, world.staff)
    page = text(client.get(f"/agencies/referrals/{referral.uid}/edit"))
    assert "의뢰 고치기" in page and "정서 상담이 필요함" in page
    assert page.count("checked") == 3  # the draft's three items
    assert f'href="/agencies/referrals/{referral.uid}/edit"' in text(client.get(f"/agencies/referrals/{referral.uid}"))
    response = client.post(f"/agencies/referrals/{referral.uid}/edit", data=draft_data(world))
    assert response.status_code == 302
    db.session.expire_all()
    saved = db.session.get(Referral, referral.id)
    assert (saved.status, saved.reason, saved.shared_items, saved.service_id) == (
        "draft", "학습 상담으로 변경", ["summary"], None)
    assert events(db, "referral_updated")


def test_draft_can_be_sent_from_the_edit_page(app, db, world):
    referral = draft(world)
    db.session.commit()
    response = sign_in(app, world.staff).post(f"/agencies/referrals/{referral.uid}/edit",
                                              data=draft_data(world, action="send"))
    assert response.status_code == 302
    db.session.expire_all()
    saved = db.session.get(Referral, referral.id)
    assert saved.status == "sent" and set(saved.shared) == {"summary"}


@pytest.mark.parametrize("data, message", [({"shared_items": []}, "하나 이상"), ({"reason": " "}, "의뢰 사유"),
                                           ({"agency": ""}, "의뢰할 기관을 선택해 주세요.")])
def test_draft_edit_invalid_input_changes_nothing(app, db, world, data, message):
    referral = draft(world)
    db.session.commit()
    before = len(events(db, "referral_updated"))
    response = sign_in(app, world.staff).post(f"/agencies/referrals/{referral.uid}/edit",
                                              data=draft_data(world, **data))
    assert response.status_code == 400 and message in text(response)
    db.session.expire_all()
    saved = db.session.get(Referral, referral.id)
    assert (saved.reason, saved.shared_items) == ("정서 상담이 필요함", ["student_name", "parent_contact", "needs"])
    assert len(events(db, "referral_updated")) == before


def test_draft_edit_is_hidden_from_other_schools_and_agencies(app, db, build, world):
    referral = draft(world)
    db.session.commit()
    other_office = build.user("district_coordinator", organisation=build.organisation("district_office", gu="강남구"))
    for user in (build.user("school_lead", organisation=build.school()), world.agent, other_office):
        client = sign_in(app, user)
        assert client.get(f"/agencies/referrals/{referral.uid}/edit").status_code == 404
        assert client.post(f"/agencies/referrals/{referral.uid}/edit", data=draft_data(world)).status_code == 404
    assert len(events(db, "permission_denied", "denied")) == 6
    db.session.expire_all()
    assert db.session.get(Referral, referral.id).reason == "정서 상담이 필요함"
    assert sign_in(app, world.coordinator).get(f"/agencies/referrals/{referral.uid}/edit").status_code == 200


def test_a_sent_referral_cannot_be_edited(app, db, world):
    referral = draft(world)
    r.send_referral(referral, world.staff)
    db.session.commit()
    client = sign_in(app, world.staff)
    response = client.post(f"/agencies/referrals/{referral.uid}/edit", data=draft_data(world), follow_redirects=True)
    assert "보내기 전의 의뢰만 고칠 수 있습니다" in text(response)
    assert 'data-testid="edit-referral"' not in text(client.get(f"/agencies/referrals/{referral.uid}"))
    db.session.expire_all()
    assert db.session.get(Referral, referral.id).reason == "정서 상담이 필요함"


# -- the case page's referral block ---------------------------------------------------------

def test_case_section_links_and_who_sees_it(app, db, world):
    drafted = draft(world)
    db.session.commit()
    with app.test_request_context("/"):
        assert [s for s in page_sections(world.case, world.agent) if s.template == "agencies/_case_section.html"] == []
    page = text(sign_in(app, world.staff).get(f"/cases/{world.case.uid}"))
    assert 'data-testid="case-referrals"' in page
    assert f'href="/agencies/suggest/{world.case.uid}"' in page and "기관 추천" in page
    assert f'href="/agencies/referrals/new/{world.case.uid}"' in page and "의뢰 작성" in page
    assert f'href="/agencies/referrals/{drafted.uid}/edit"' in page and "고치기" in page
    suggestions = sign_in(app, world.staff).get(f"/agencies/suggest/{world.case.uid}")
    assert suggestions.status_code == 200


def test_case_section_of_a_closed_case_offers_no_new_referral(app, db, world):
    from app.cases import services as case_services
    referral = draft(world)
    db.session.commit()
    case_services.close_case(world.case, world.lead, reason="goals_met",
                             outcomes={n.id: ("improved", "") for n in world.case.needs})
    db.session.commit()
    page = text(sign_in(app, world.lead).get(f"/cases/{world.case.uid}"))
    assert 'data-testid="case-referrals"' in page and referral.uid in page
    assert "/agencies/referrals/new/" not in page and f"/agencies/referrals/{referral.uid}/edit" not in page
