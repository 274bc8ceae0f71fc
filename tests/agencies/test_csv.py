"""Directory CSV: HSDS-like columns, round trip, CP949, per-row errors, all or nothing, formulas."""
from __future__ import annotations

import csv
import io

import pytest
from sqlalchemy import func, select

from app.agencies import csv_io
from app.agencies.models import AgencyService
from app.audit.models import AuditEvent
from app.auth.models import Organisation
from app.domain import DomainError
from app.exports import safe_cell

HEADER = ",".join(csv_io.COLUMNS)


def count(db, model):
    return db.session.execute(select(func.count()).select_from(model)).scalar()


def events(db, action):
    return db.session.execute(select(AuditEvent).where(AuditEvent.action == action)).scalars().all()


@pytest.fixture
def seobu(build):
    return build.user("district_coordinator", organisation=build.organisation("district_office", gu="마포구"))


@pytest.fixture
def gangnam(build):
    return build.user("district_coordinator", organisation=build.organisation("district_office", gu="강남구"))


def rows(text: str) -> list[dict]:
    return list(csv.DictReader(io.StringIO(text.lstrip("\ufeff"))))


def test_export_columns_bom_and_audit(db, seobu, agency_with_service):
    service = agency_with_service(gu="마포구", domains=("counselling", "welfare"), areas=["마포구", "은평구"],
                                  languages=["한국어", "중국어"], schedule="평일 09-18", contact_phone="02-300-0000")
    agency_with_service(gu="강남구")
    text = csv_io.export_csv(seobu, "SEOBU")
    assert text.startswith("\ufeff" + HEADER)
    [row] = rows(text)
    assert row["organization_name"] == service.organisation.name
    assert row["domains"] == "counselling|welfare" and row["service_area"] == "마포구|은평구"
    assert row["languages"] == "한국어|중국어" and row["last_confirmed"] == service.last_confirmed_on.isoformat()
    assert len(rows(csv_io.export_csv(seobu))) == 2
    assert [e.outcome for e in events(db, "agencies_exported")] == ["allowed", "allowed"]


def test_formula_cells_neutralised(db, seobu, agency_with_service):
    agency_with_service(gu="마포구", name="=HYPERLINK(\"x\")", schedule="+82 연락", description="@SUM(1)")
    [row] = rows(csv_io.export_csv(seobu, "SEOBU"))
    assert row["service_name"].startswith("'=") and row["schedule"].startswith("'+")
    assert row["service_description"].startswith("'@")
    assert safe_cell("-1") == "'-1" and safe_cell("02-1") == "02-1"  # the one export writer's guard


def test_round_trip_into_a_fresh_office(db, seobu, gangnam, agency_with_service):
    a = agency_with_service(gu="마포구", domains=("counselling",), schedule="=1+1")
    agency_with_service(gu="마포구", agency=a.organisation, name="가족 상담", domains=("welfare", "career"),
                        min_age=None, max_age=None, capacity_status="waitlist", last_confirmed_on=None)
    exported = csv_io.export_csv(seobu, "SEOBU")
    # the other office imports the same services with its own 자치구
    moved = exported.replace("마포구", "강남구").encode("utf-8")  # BOM included
    assert csv_io.import_directory(gangnam, moved) == 2
    db.session.commit()
    agencies = db.session.execute(select(Organisation).where(Organisation.office_code == gangnam.organisation.office_code,
                                                             Organisation.kind == "agency")).scalars().all()
    assert len(agencies) == 1 and agencies[0].gu.name_ko == "강남구"
    services = db.session.execute(select(AgencyService).where(AgencyService.organisation_id == agencies[0].id)
                                  .order_by(AgencyService.id)).scalars().all()
    assert [s.schedule for s in services][0] == "=1+1"  # the neutralising quote comes off again
    assert services[1].capacity_status == "waitlist" and services[1].min_age is None
    again = csv_io.export_csv(gangnam, gangnam.organisation.office_code)
    assert rows(again) == rows(moved.decode("utf-8-sig"))
    [imported] = events(db, "agencies_imported")
    assert imported.details and '"rows":2' in imported.details


def test_cp949_and_reuse_existing_agency(db, build, seobu):
    existing = build.agency(gu="마포구", name="마포구가족센터", agency_kind="가족센터")
    text = HEADER + "\n" + "마포구가족센터,가족센터,한국어 교실,,multicultural,7,15,한국어|베트남어,available,마포구,,,,,2026-01-05\n"
    assert csv_io.import_directory(seobu, text.encode("cp949")) == 1
    db.session.commit()
    service = db.session.execute(select(AgencyService)).scalar_one()
    assert service.organisation_id == existing.id and service.languages == ["한국어", "베트남어"]


def test_per_row_errors_and_all_or_nothing(db, build, seobu):
    before = (count(db, Organisation), count(db, AgencyService))
    lines = [HEADER,
             "좋은센터,가족센터,상담,,counselling,7,15,,available,마포구,,,,,",
             "나쁜센터,없는유형,상담,,counselling,7,15,,available,마포구,,,,,",
             "센터3,가족센터,상담,,counselling|astrology,7,15,,available,마포구,,,,,",
             "센터4,가족센터,상담,,counselling,15,7,,available,마포구,,,,,",
             "센터5,가족센터,상담,,counselling,7,15,,busy,마포구,,,,,",
             "센터6,가족센터,상담,,counselling,7,15,,available,없는구,,,,,",
             "센터7,가족센터,상담,,counselling,7,15,,available,강남구,,,,,",
             "센터8,가족센터,,,counselling,7,15,,available,마포구,,,,,",
             "센터9,가족센터,상담,,counselling,7,15,,available,마포구,,,,,2026/01/01"]
    raw = "\n".join(lines).encode("utf-8")
    preview = csv_io.parse_directory(seobu, raw)
    assert [(line, column) for line, column, _m in preview.errors] == [
        (3, "organization_kind"), (4, "domains"), (5, "eligibility_max_age"), (6, "capacity_status"),
        (7, "service_area"), (8, "service_area"), (9, "service_name"), (10, "last_confirmed")]
    assert all(message for *_x, message in preview.errors) and not preview.ok
    with pytest.raises(DomainError):
        csv_io.import_directory(seobu, raw)
    db.session.rollback()
    assert (count(db, Organisation), count(db, AgencyService)) == before
    assert events(db, "agencies_imported") == []


@pytest.mark.parametrize("raw", [b"", b"name,kind\nx,y\n", (HEADER + "\n\n").encode()])
def test_unreadable_files_refused(seobu, raw):
    with pytest.raises(DomainError) as err:
        csv_io.parse_directory(seobu, raw)
    assert err.value.field == "file"
