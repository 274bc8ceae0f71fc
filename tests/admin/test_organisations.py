"""The admin's organisation screens: schools (NEIS code, level, 자치구 → office) and agencies,
list filters and search, create, edit, deactivate (refused while active accounts remain),
each audited with codes only; bad input is explained in Korean and changes nothing."""
from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from app.admin import org_views
from app.auth.models import Gu, Organisation

from .conftest import events


def gu_id(db, name: str) -> str:
    return str(db.session.execute(select(Gu.id).filter_by(name_ko=name)).scalar_one())


def codes(html: str) -> list[str]:
    return re.findall(r'data-testid="organisation-row" data-code="([^"]+)"', html)


def count(db) -> int:
    return db.session.scalar(select(func.count()).select_from(Organisation))


def school_form(db, **data):
    form = {"code": "b100000999", "name": "새봄초등학교", "school_level": "elementary", "gu_id": gu_id(db, "강남구")}
    form.update(data)
    return form


def test_a_school_is_registered_with_its_office_from_the_gu(client, admin, db):
    response = client.post("/admin/organisations/new/school", data=school_form(db))
    school = db.session.execute(select(Organisation).filter_by(code="B100000999")).scalar_one()
    assert response.status_code == 302 and response.headers["Location"] == f"/admin/organisations/{school.uid}"
    assert (school.kind, school.name, school.school_level, school.active) == ("school", "새봄초등학교", "elementary", True)
    assert school.gu.name_ko == "강남구" and school.office_code == school.gu.office_code
    [created] = events(db, "organisation_created")
    assert created.actor_id == admin.id and created.object_id == school.uid
    assert "새봄초등학교" not in created.details and '"code":"B100000999"' in created.details
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "학교를 등록했습니다 (코드 B100000999)." in page  # 학교: no final consonant, 를


def test_an_agency_gets_a_code_when_none_is_given(client, admin, db):
    response = client.post("/admin/organisations/new/agency", data={
        "code": "", "name": "강남구가족센터", "agency_kind": "가족센터", "gu_id": gu_id(db, "강남구")})
    assert response.status_code == 302
    agency = db.session.execute(select(Organisation).filter_by(name="강남구가족센터")).scalar_one()
    assert agency.kind == "agency" and agency.code.startswith("AG-") and agency.agency_kind == "가족센터"
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert f"유관기관을 등록했습니다 (코드 {agency.code})." in page  # 유관기관: a final consonant, 을


@pytest.mark.parametrize(("data", "message"), [
    ({"code": "12"}, "NEIS 학교 코드"),
    ({"code": "B1000-0999"}, "NEIS 학교 코드"),
    ({"code": ""}, "학교 코드를 입력해 주세요."),
    ({"code": "sen0000000"}, None),  # a clash once upper-cased is still a clash (set up below)
    ({"name": ""}, "학교명을 입력해 주세요."),
    ({"school_level": "university"}, "학교급"),
    ({"gu_id": "9999"}, "자치구"),
    ({"gu_id": "abc"}, "자치구"),
])
def test_bad_school_input_is_explained_and_nothing_is_made(client, admin, db, build, data, message):
    build.school(code="SEN0000000")
    db.session.commit()
    before = count(db)
    response = client.post("/admin/organisations/new/school", data=school_form(db, **data))
    assert response.status_code == 400
    assert (message or "이미 사용 중인 기관 코드입니다: SEN0000000") in response.get_data(as_text=True)
    assert count(db) == before and events(db, "organisation_created") == []


def test_codes_are_unique_across_kinds(client, admin, db, build):
    school = build.school(code="B100000123")
    db.session.commit()
    response = client.post("/admin/organisations/new/agency", data={
        "code": "b100000123", "name": "센터", "agency_kind": "가족센터", "gu_id": gu_id(db, "마포구")})
    assert response.status_code == 400
    assert "이미 사용 중인 기관 코드입니다: B100000123" in response.get_data(as_text=True)
    assert school.code == "B100000123"


def test_edit_changes_fields_and_follows_the_gu_to_its_office(client, admin, db, build):
    school = build.school(gu="마포구")
    db.session.commit()
    response = client.post(f"/admin/organisations/{school.uid}", data={
        "code": school.code, "name": "이름바뀐중학교", "school_level": "middle", "gu_id": gu_id(db, "노원구")})
    assert response.status_code == 302
    db.session.refresh(school)
    assert (school.name, school.school_level, school.gu.name_ko) == ("이름바뀐중학교", "middle", "노원구")
    assert school.office_code == school.gu.office_code
    [updated] = events(db, "organisation_updated")
    assert sorted(re.findall(r'"(\w+)"', updated.details.split('"fields":')[1].split("]")[0])) == \
        ["gu_id", "name", "office_code", "school_level"]
    assert "이름바뀐" not in updated.details


def test_an_edit_to_a_taken_code_is_refused(client, admin, db, build):
    school, other = build.school(), build.school()
    db.session.commit()
    old = school.code
    response = client.post(f"/admin/organisations/{school.uid}", data={
        "code": other.code, "name": school.name, "school_level": "elementary", "gu_id": str(school.gu_id)})
    assert response.status_code == 400 and "이미 사용 중인 기관 코드입니다" in response.get_data(as_text=True)
    db.session.refresh(school)
    assert school.code == old and events(db, "organisation_updated") == []


def test_offices_are_shown_but_not_edited(client, admin, db, build):
    office = build.organisation("district_office")
    page = client.get(f"/admin/organisations/{office.uid}").get_data(as_text=True)
    assert 'data-testid="form-organisation"' not in page
    assert client.post(f"/admin/organisations/{office.uid}", data={"name": "x"}).status_code == 404
    response = client.post(f"/admin/organisations/{office.uid}/deactivate")
    assert response.status_code == 400 and "교육청과 교육지원청은" in response.get_data(as_text=True)
    db.session.refresh(office)
    assert office.active is True


def test_deactivation_is_refused_while_accounts_are_active(client, admin, db, build):
    school = build.school()
    first, second = build.user("school_staff", organisation=school), build.user("school_lead", organisation=school)
    response = client.post(f"/admin/organisations/{school.uid}/deactivate")
    assert response.status_code == 400
    assert "이 기관에 사용 중인 계정이 2개 있어 비활성화할 수 없습니다." in response.get_data(as_text=True)
    db.session.refresh(school)
    assert school.active is True
    for user in (first, second):
        client.post(f"/admin/users/{user.uid}/deactivate", data={"deactivate-reason": "폐교"})
    response = client.post(f"/admin/organisations/{school.uid}/deactivate")
    assert response.status_code == 302
    db.session.refresh(school)
    assert school.active is False
    [event] = events(db, "organisation_deactivated")
    assert event.object_id == school.uid and school.code in event.details
    # no new accounts there, and it can come back
    assert client.post(f"/admin/organisations/{school.uid}/reactivate").status_code == 302
    db.session.refresh(school)
    assert school.active is True


@pytest.fixture
def orgs(build, db):
    made = {"school": build.school(name="가나초등학교", code="B200000001", gu="강남구"),
            "agency": build.agency(name="가나청소년센터", code="AG-GANA", gu="마포구"),
            "closed": build.school(name="닫힌초등학교", code="B200000002", gu="마포구")}
    made["closed"].active = False
    db.session.commit()
    return made


@pytest.mark.parametrize(("query", "expected"), [
    ({"q": "가나"}, ["AG-GANA", "B200000001"]),
    ({"q": "b200000002"}, ["B200000002"]),
    ({"q": "가나", "kind": "school"}, ["B200000001"]),
    ({"status": "inactive"}, ["B200000002"]),
    ({"q": "초등학교", "gu": "마포구"}, ["B200000002"]),
])
def test_filters_and_search(client, admin, db, orgs, query, expected):
    if "gu" in query:
        query = {**query, "gu": gu_id(db, query["gu"])}
    page = client.get("/admin/organisations", query_string=query)
    assert page.status_code == 200
    assert sorted(codes(page.get_data(as_text=True))) == expected


def test_the_list_is_paged_and_counts_active_accounts(client, admin, db, orgs, build, monkeypatch):
    build.user("school_staff", organisation=orgs["school"])
    monkeypatch.setattr(org_views, "PAGE_SIZE", 1)
    first = client.get("/admin/organisations", query_string={"q": "가나"}).get_data(as_text=True)
    assert len(codes(first)) == 1 and 'href="/admin/organisations?page=2&amp;q=' in first
    school_page = client.get("/admin/organisations", query_string={"q": "B200000001"}).get_data(as_text=True)
    assert 'href="/admin/users?org=B200000001">1</a>' in school_page
