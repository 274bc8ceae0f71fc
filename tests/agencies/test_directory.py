"""Directory services: agencies and services kept by the coordinators of their own office."""
from __future__ import annotations

import datetime as dt

import pytest
from freezegun import freeze_time
from sqlalchemy import func, select

from app.agencies import services as svc
from app.agencies.models import AGENCY_KINDS, AgencyService
from app.audit.models import AuditEvent
from app.auth.models import Organisation
from app.domain import DomainError, NotPermitted


def events(db, action):
    return db.session.execute(select(AuditEvent).where(AuditEvent.action == action)).scalars().all()


@pytest.fixture
def coordinator(build):
    return build.user("district_coordinator", organisation=build.organisation("district_office", gu="마포구"))


@pytest.fixture
def other_coordinator(build):
    return build.user("district_coordinator", organisation=build.organisation("district_office", gu="강남구"))


def fields(build, **extra):
    data = {"name": "개인상담", "domains": ["counselling"], "min_age": 9, "max_age": 18, "languages": ["한국어"],
            "capacity_status": "available", "areas": [build.gu("마포구").id], "contact_phone": "02-123-4567"}
    data.update(extra)
    return data


def test_register_agency_generates_code_and_audits(db, build, coordinator):
    agency = svc.register_agency(coordinator, " 마포가족센터 ", "가족센터", build.gu("마포구").id)
    db.session.commit()
    assert agency.code.startswith("AG-") and agency.name == "마포가족센터"
    assert agency.kind == "agency" and agency.office_code == "SEOBU"
    assert [e.object_id for e in events(db, "agency_registered")] == [agency.uid]


@pytest.mark.parametrize("name, kind, gu, field", [
    ("", "가족센터", "마포구", "name"), ("센터", "없는유형", "마포구", "agency_kind"), ("센터", "가족센터", "강남구", "gu_id")])
def test_register_agency_refusals_save_nothing(db, build, coordinator, name, kind, gu, field):
    before = db.session.execute(select(func.count()).select_from(Organisation)).scalar()
    with pytest.raises(DomainError) as err:
        svc.register_agency(coordinator, name, kind, build.gu(gu).id)
    db.session.rollback()
    assert err.value.field == field
    assert db.session.execute(select(func.count()).select_from(Organisation)).scalar() == before


def test_only_coordinators_register(db, build):
    with pytest.raises(NotPermitted):
        svc.register_agency(build.user("school_lead"), "센터", "가족센터", build.gu("마포구").id)


def test_add_and_update_service(db, build, coordinator):
    agency = build.agency(gu="마포구")
    service = svc.add_service(coordinator, agency, fields(build, areas=[build.gu("마포구").id, build.gu("서대문구").id]))
    db.session.commit()
    assert {a.gu.name_ko for a in service.areas} == {"마포구", "서대문구"}
    changed = svc.update_service(coordinator, service, {"capacity_status": "full", "areas": [build.gu("은평구").id]})
    db.session.commit()
    assert set(changed) == {"capacity_status", "areas"}
    assert [a.gu.name_ko for a in service.areas] == ["은평구"]
    assert len(events(db, "agency_service_added")) == 1 and len(events(db, "agency_service_updated")) == 1


@pytest.mark.parametrize("extra, field", [
    ({"domains": []}, "domains"), ({"domains": ["astrology"]}, "domains"), ({"min_age": -1}, "min_age"),
    ({"max_age": 25}, "max_age"), ({"min_age": 15, "max_age": 10}, "max_age"),
    ({"capacity_status": "closed"}, "capacity_status"), ({"areas": []}, "areas"), ({"areas": [9999]}, "areas"),
    ({"last_confirmed_on": dt.date(2030, 1, 1)}, "last_confirmed_on"), ({"name": " "}, "name"),
    ({"contact_email": "nope"}, "contact_email")])
def test_service_refusals_save_nothing(db, build, coordinator, extra, field):
    agency = build.agency(gu="마포구")
    with freeze_time("2026-03-02"), pytest.raises(DomainError) as err:
        svc.add_service(coordinator, agency, fields(build, **extra))
    db.session.rollback()
    assert err.value.field == field
    assert db.session.execute(select(func.count()).select_from(AgencyService)).scalar() == 0
    assert events(db, "agency_service_added") == []


def test_update_refusal_changes_nothing(db, build, coordinator, agency_with_service):
    service = agency_with_service(gu="마포구")
    with pytest.raises(DomainError):
        svc.update_service(coordinator, service, {"capacity_status": "full", "min_age": 20, "max_age": 3})
    db.session.rollback()
    assert db.session.get(AgencyService, service.id).capacity_status == "available"


def test_coordinator_of_another_office_refused(db, build, other_coordinator, agency_with_service):
    service = agency_with_service(gu="마포구")
    with pytest.raises(NotPermitted):
        svc.add_service(other_coordinator, service.organisation, fields(build))
    with pytest.raises(NotPermitted):
        svc.update_service(other_coordinator, service, {"capacity_status": "full"})
    with pytest.raises(NotPermitted):
        svc.confirm_service(other_coordinator, service)
    with pytest.raises(NotPermitted):
        svc.update_agency(other_coordinator, service.organisation, {"name": "바뀐 이름"})


@freeze_time("2026-03-02 03:00")
def test_confirm_service_sets_today(db, coordinator, agency_with_service):
    service = agency_with_service(gu="마포구", last_confirmed_on=dt.date(2025, 1, 1))
    svc.confirm_service(coordinator, service)
    db.session.commit()
    assert service.last_confirmed_on == dt.date(2026, 3, 2)
    assert len(events(db, "agency_service_confirmed")) == 1


def test_update_agency(db, build, coordinator):
    agency = build.agency(gu="마포구")
    assert svc.update_agency(coordinator, agency, {"name": "새 이름", "gu_id": build.gu("은평구").id}) == ["name", "gu_id"]
    with pytest.raises(DomainError):
        svc.update_agency(coordinator, agency, {"gu_id": build.gu("강남구").id})


def test_demo_directory_covers_every_gu_and_kind(db):
    from app.auth.models import Gu
    from app.demo import agencies, organisations
    organisations.seed({login: "Demo-password-42" for login, *_ in organisations.DEMO_USERS})
    agencies.seed()
    db.session.commit()
    found = db.session.execute(select(Organisation).where(Organisation.kind == "agency")).scalars().all()
    assert {a.gu_id for a in found} == set(db.session.execute(select(Gu.id)).scalars())
    assert {a.agency_kind for a in found} >= set(AGENCY_KINDS)
    youth = next(a for a in found if a.code == "AG-MAPO-YOUTH")
    assert db.session.execute(select(func.count()).select_from(AgencyService).filter_by(organisation_id=youth.id)).scalar() == 2
