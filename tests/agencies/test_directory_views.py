"""Directory pages: permission matrix, search, coordinator upkeep, CSV import/export, suggestions."""
from __future__ import annotations

import base64
import datetime as dt
import io
import re

import pytest
from sqlalchemy import func, select

from app.agencies.csv_io import COLUMNS
from app.agencies.models import AgencyService
from app.audit.models import AuditEvent
from app.auth.models import Organisation

READERS = ("school_staff", "school_lead", "district_coordinator", "agency_coordinator")
OTHERS = ("guardian", "auditor", "admin")


def events(db, action, outcome="allowed"):
    return db.session.execute(select(AuditEvent).where(AuditEvent.action == action,
                                                       AuditEvent.outcome == outcome)).scalars().all()


@pytest.fixture
def coordinator(build):
    return build.user("district_coordinator", organisation=build.organisation("district_office", gu="마포구"))


@pytest.mark.parametrize("role", READERS + OTHERS)
def test_directory_and_agency_page_matrix(client, login, build, agency_with_service, role):
    service = agency_with_service(gu="마포구")
    login(build.user(role))
    for url in ("/agencies/", f"/agencies/{service.organisation.uid}"):
        response = client.get(url)
        assert response.status_code == (200 if role in READERS else 403), url
    if role in READERS:
        assert service.name in response.get_data(as_text=True)


@pytest.mark.parametrize("role, own, status", [
    ("district_coordinator", True, 200), ("district_coordinator", False, 403), ("school_lead", True, 403),
    ("agency_coordinator", True, 403)])
def test_upkeep_pages_matrix(db, client, login, build, agency_with_service, role, own, status):
    service = agency_with_service(gu="마포구" if own else "강남구")
    user = build.user(role, organisation=build.organisation("district_office", gu="마포구")) \
        if role == "district_coordinator" else build.user(role)
    login(user)
    for url in (f"/agencies/{service.organisation.uid}/services/new", f"/agencies/services/{service.uid}/edit"):
        assert client.get(url).status_code == status, url
    assert client.post(f"/agencies/services/{service.uid}/confirm").status_code == (302 if status == 200 else status)
    for url in ("/agencies/new", "/agencies/import", "/agencies/export.csv"):
        assert client.get(url).status_code == (200 if role == "district_coordinator" else 403), url
    if status == 403:
        assert events(db, "permission_denied", "denied")


def test_search_and_filters(client, login, build, agency_with_service):
    a = agency_with_service(gu="마포구", domains=("counselling",), agency_fields={"name": "가나다센터"})
    b = agency_with_service(gu="강남구", domains=("welfare",), capacity_status="full",
                            agency_fields={"name": "라마바센터", "agency_kind": "가족센터"})
    login(build.user("school_staff"))

    def names(**args):
        text = client.get("/agencies/", query_string=args).get_data(as_text=True)
        return {n for n in ("가나다센터", "라마바센터") if n in text}

    assert names() == {"가나다센터", "라마바센터"}
    assert names(q="가나") == {"가나다센터"}
    assert names(kind="가족센터") == {"라마바센터"}
    assert names(domain="welfare") == {"라마바센터"}
    assert names(gu=build.gu("마포구").id) == {"가나다센터"}
    assert names(capacity="full") == {"라마바센터"}
    assert a and b
    # "all districts" submits an empty value, never the text "None", and stays chosen
    page = client.get("/agencies/").get_data(as_text=True)
    assert 'value="None"' not in page and re.search(r'<option selected value="">', page)


def test_new_agency_then_service(db, client, login, build, coordinator):
    login(coordinator)
    response = client.post("/agencies/new", data={"name": "마포정신건강복지센터", "agency_kind": "정신건강복지센터",
                                                  "gu_id": build.gu("마포구").id})
    assert response.status_code == 302
    agency = db.session.execute(select(Organisation).filter_by(name="마포정신건강복지센터")).scalar_one()
    data = {"name": "청소년 정신건강 상담", "domains": ["health", "counselling"], "min_age": "10", "max_age": "19",
            "languages": "한국어, 영어", "capacity_status": "waitlist", "areas": [build.gu("마포구").id]}
    assert client.post(f"/agencies/{agency.uid}/services/new", data=data).status_code == 302
    service = db.session.execute(select(AgencyService)).scalar_one()
    assert service.languages == ["한국어", "영어"] and service.capacity_status == "waitlist"
    bad = client.post(f"/agencies/services/{service.uid}/edit", data={**data, "min_age": "19", "max_age": "10"})
    assert bad.status_code == 400 and "최소 나이" in bad.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(AgencyService, service.id).min_age == 10


def test_refused_agency_in_foreign_gu(db, client, login, build, coordinator):
    login(coordinator)
    response = client.post("/agencies/new", data={"name": "센터", "agency_kind": "가족센터", "gu_id": build.gu("강남구").id})
    assert response.status_code == 400 and "관할 자치구" in response.get_data(as_text=True)
    assert db.session.execute(select(func.count()).select_from(Organisation).filter_by(name="센터")).scalar() == 0


def test_import_preview_confirm_and_export(db, client, login, coordinator):
    login(coordinator)
    body = ",".join(COLUMNS) + "\n" + "새센터,가족센터,가족 상담,,welfare,,,,available,마포구,,,,,\n"
    preview = client.post("/agencies/import", data={"file": (io.BytesIO(body.encode("cp949")), "d.csv")},
                          content_type="multipart/form-data")
    assert preview.status_code == 200 and 'name="payload"' in preview.get_data(as_text=True)
    assert db.session.execute(select(func.count()).select_from(AgencyService)).scalar() == 0
    payload = base64.b64encode(body.encode("cp949")).decode()
    assert client.post("/agencies/import", data={"payload": payload, "filename": "d.csv"}).status_code == 302
    assert db.session.execute(select(func.count()).select_from(AgencyService)).scalar() == 1
    download = client.get("/agencies/export.csv")
    assert download.status_code == 200 and download.data.startswith("\ufeff".encode())
    assert "새센터" in download.data.decode("utf-8-sig")
    assert events(db, "agencies_exported") and events(db, "agencies_imported")


def test_import_with_errors_saves_nothing(db, client, login, coordinator):
    login(coordinator)
    body = ",".join(COLUMNS) + "\n" + "새센터,가족센터,가족 상담,,welfare,,,,available,강남구,,,,,\n"
    response = client.post("/agencies/import", data={"file": (io.BytesIO(body.encode()), "d.csv")},
                           content_type="multipart/form-data")
    assert response.status_code == 400 and "import-errors" in response.get_data(as_text=True)
    forced = client.post("/agencies/import", data={"payload": base64.b64encode(body.encode()).decode()})
    assert forced.status_code == 400
    assert db.session.execute(select(func.count()).select_from(AgencyService)).scalar() == 0


def test_suggest_page(db, client, login, build, agency_with_service):
    school = build.school(gu="마포구")
    lead = build.user("school_lead", organisation=school)
    student = build.student(school, actor=lead, birth_date=dt.date(2014, 1, 10))
    case = build.case(school=school, student=student, lead=lead, needs=(("counselling", "상담"),))
    service = agency_with_service(gu="마포구", capacity_status="waitlist", min_age=0, max_age=24)
    login(lead)
    response = client.get(f"/agencies/suggest/{case.uid}")
    text = response.get_data(as_text=True)
    assert response.status_code == 200 and service.name in text and "대기" in text and 'data-part="domain"' in text
    assert events(db, "agency_suggestions_viewed")
    client.post("/logout")
    login(build.user("school_lead"))
    assert client.get(f"/agencies/suggest/{case.uid}").status_code == 404
    client.post("/logout")
    login(build.user("agency_coordinator"))
    assert client.get(f"/agencies/suggest/{case.uid}").status_code == 403
