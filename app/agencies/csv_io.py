"""Directory CSV with HSDS-like columns: export (UTF-8 with BOM), import with preview, all or nothing.

The importer reads a header row of the English column names (COLUMNS, as the export writes them)
or of their Korean names (KOREAN_HEADERS), or a mix."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from flask_babel import gettext, lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from ..audit.services import record
from ..auth.models import Gu, Organisation
from ..csv_import import csv_rows
from ..db_setup import begin_write
from ..domain import DomainError
from ..exports import csv_text, unquote_cell
from ..extensions import db
from ..students.importer import decode
from . import services as svc
from .models import AGENCY_KINDS, AgencyService, ServiceArea

COLUMNS = ("organization_name", "organization_kind", "service_name", "service_description", "domains",
           "eligibility_min_age", "eligibility_max_age", "languages", "capacity_status", "service_area",
           "schedule", "contact_phone", "contact_email", "location_address", "last_confirmed")
REQUIRED = ("organization_name", "organization_kind", "service_name", "domains", "service_area")
#: service field -> CSV column, for naming the column of a service error
FIELD_COLUMNS = {"name": "service_name", "description": "service_description", "domains": "domains",
                 "min_age": "eligibility_min_age", "max_age": "eligibility_max_age", "languages": "languages",
                 "capacity_status": "capacity_status", "areas": "service_area", "schedule": "schedule",
                 "contact_phone": "contact_phone", "contact_email": "contact_email", "address": "location_address",
                 "last_confirmed_on": "last_confirmed", "agency_kind": "organization_kind",
                 "gu_id": "service_area"}
#: the Korean header of each column (a file may use these instead of the English names)
KOREAN_HEADERS = {"기관명": "organization_name", "기관 유형": "organization_kind", "서비스명": "service_name",
                  "서비스 설명": "service_description", "지원 영역": "domains", "대상 최소 나이": "eligibility_min_age",
                  "대상 최대 나이": "eligibility_max_age", "지원 언어": "languages", "접수 상태": "capacity_status",
                  "서비스 지역": "service_area", "운영 시간": "schedule", "전화": "contact_phone",
                  "이메일": "contact_email", "주소": "location_address", "최종 확인일": "last_confirmed"}
_KOREAN = {name.replace(" ", ""): column for name, column in KOREAN_HEADERS.items()}  # "기관유형" too
#: each column as a person reads it (the preview's error table and the import page)
COLUMN_LABELS = {"organization_name": _l("기관명"), "organization_kind": _l("기관 유형"), "service_name": _l("서비스명"),
                 "service_description": _l("서비스 설명"), "domains": _l("지원 영역"),
                 "eligibility_min_age": _l("대상 최소 나이"), "eligibility_max_age": _l("대상 최대 나이"),
                 "languages": _l("지원 언어"), "capacity_status": _l("접수 상태"), "service_area": _l("서비스 지역"),
                 "schedule": _l("운영 시간"), "contact_phone": _l("전화"), "contact_email": _l("이메일"),
                 "location_address": _l("주소"), "last_confirmed": _l("최종 확인일")}
MAX_ROWS = 2000


def column_name(header: str) -> str:
    """The column a header cell names: an English column name (any case) or its Korean name."""
    header = header.strip().lstrip("\ufeff")
    return _KOREAN.get(header.replace(" ", ""), header.lower())


def _unneutralise(text: str) -> str:
    """A cell of our own export read back: the export writer's neutralising quote comes off."""
    return unquote_cell(text)


def agencies_query(office_code: str | None = None):
    """Agencies of one office (or all), by name."""
    query = (select(Organisation).where(Organisation.kind == "agency").order_by(Organisation.name, Organisation.id))
    if office_code:
        query = query.where(Organisation.office_code == office_code)
    return query


def export_csv(actor, office_code: str | None = None) -> str:
    """The directory as CSV text (BOM first); audited as one export."""
    agencies = db.session.execute(agencies_query(office_code)).scalars().all()
    services = db.session.execute(
        select(AgencyService).where(AgencyService.organisation_id.in_([a.id for a in agencies]))
        .options(selectinload(AgencyService.areas).selectinload(ServiceArea.gu))
        .order_by(AgencyService.organisation_id, AgencyService.id)).scalars().all() if agencies else []
    by_agency: dict[int, list] = {}
    for service in services:
        by_agency.setdefault(service.organisation_id, []).append(service)
    rows = [[agency.name, agency.agency_kind, s.name, s.description, "|".join(s.domains),
             s.min_age, s.max_age, "|".join(s.languages), s.capacity_status,
             "|".join(a.gu.name_ko for a in sorted(s.areas, key=lambda a: a.id)), s.schedule,
             s.contact_phone, s.contact_email, s.address,
             s.last_confirmed_on.isoformat() if s.last_confirmed_on else ""]
            for agency in agencies for s in by_agency.get(agency.id, [])]
    text = csv_text(COLUMNS, rows)  # the one export writer: BOM, formulas neutralised
    record("agencies_exported", object_type="organisation", actor=actor,
           details={"office": office_code or "all", "rows": len(rows)})
    return text


@dataclass
class DirectoryPreview:
    #: (line, agency dict, clean service fields)
    rows: list[tuple[int, dict, dict]] = field(default_factory=list)
    #: (line number in the file, column, message)
    errors: list[tuple[int, str, str]] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return bool(self.rows) and not self.errors

    @property
    def agency_names(self) -> list[str]:
        return list(dict.fromkeys(a["name"] for _line, a, _s in self.rows))


def parse_directory(actor, raw: bytes) -> DirectoryPreview:
    """Check every row against the same rules as the services; nothing is written."""
    svc._require_coordinator(actor)
    reader = csv_rows(decode(raw))  # a field over the csv module's limit is a DomainError on the file
    try:
        header = [column_name(h) for h in next(reader)]
    except StopIteration:
        raise DomainError(gettext("빈 파일입니다."), "file") from None
    missing = [c for c in REQUIRED if c not in header]
    if missing:
        raise DomainError(gettext("필수 열이 없습니다: %(columns)s", columns=", ".join(
            f"{COLUMN_LABELS[c]} ({c})" for c in missing)), "file")
    gus = {g.name_ko: g for g in db.session.execute(select(Gu)).scalars()}
    preview = DirectoryPreview()
    for line, cells in enumerate(reader, start=2):
        if not any(c.strip() for c in cells):
            continue
        if len(preview.rows) + len(preview.errors) >= MAX_ROWS:
            raise DomainError(gettext("한 번에 %(n)d행까지 가져올 수 있습니다.", n=MAX_ROWS), "file")
        row = {k: _unneutralise((v or "").strip()) for k, v in zip(header, cells)}
        try:
            preview.rows.append((line, *_parse_row(actor, row, gus)))
        except DomainError as err:
            preview.errors.append((line, FIELD_COLUMNS.get(err.field, err.field or ""), err.message))
    if not preview.rows and not preview.errors:
        raise DomainError(gettext("가져올 행이 없습니다."), "file")
    return preview


def _parse_row(actor, row: dict, gus: dict) -> tuple[dict, dict]:
    for column in REQUIRED:
        if not row.get(column):
            raise DomainError(gettext("값이 비어 있습니다."), column)
    names = [n.strip() for n in row["service_area"].split("|") if n.strip()]
    unknown = [n for n in names if n not in gus]
    if unknown:
        raise DomainError(gettext("알 수 없는 자치구입니다: %(names)s", names=", ".join(unknown)), "areas")
    if row["organization_kind"] not in AGENCY_KINDS:
        raise DomainError(gettext("기관 유형이 목록에 없습니다."), "agency_kind")
    try:
        agency = svc.clean_agency(actor, row["organization_name"], row["organization_kind"], gus[names[0]].id)
    except DomainError as err:
        raise DomainError(err.message, "organization_name" if err.field == "name" else err.field) from None
    confirmed = row.get("last_confirmed") or None
    if confirmed:
        try:
            confirmed = dt.date.fromisoformat(confirmed)
        except ValueError:
            raise DomainError(gettext("날짜는 2025-03-05 형식으로 적어 주세요."), "last_confirmed_on") from None
    fields = {"name": row["service_name"], "description": row.get("service_description"),
              "domains": row["domains"], "min_age": row.get("eligibility_min_age"),
              "max_age": row.get("eligibility_max_age"), "languages": row.get("languages", ""),
              "capacity_status": row.get("capacity_status") or "available", "areas": [gus[n].id for n in names],
              "schedule": row.get("schedule"), "contact_phone": row.get("contact_phone"),
              "contact_email": row.get("contact_email"), "address": row.get("location_address"),
              "last_confirmed_on": confirmed}
    return agency, svc.clean_service(fields, gu_ids={g.id for g in gus.values()})


def import_directory(actor, raw: bytes) -> int:
    """Save every row, or nothing when any row is invalid (the caller commits once).

    The file is read and checked first without the write lock (the view is ``read_first``);
    only then does the write transaction begin, and the office's agencies are read again inside
    it, in one query, so rows of an agency someone registered meanwhile join that agency."""
    preview = parse_directory(actor, raw)
    if not preview.ok:
        raise DomainError(gettext("오류가 있는 행이 %(n)d개 있어 저장하지 않았습니다.", n=len(preview.errors)), "file")
    office = actor.organisation.office_code
    # plain values only: the write transaction below starts with a commit, which expires objects
    rows = [({"name": a["name"], "agency_kind": a["agency_kind"], "gu_id": a["gu"].id,
              "office_code": a["gu"].office_code}, clean) for _line, a, clean in preview.rows]
    begin_write()
    existing = {a.name: a for a in db.session.execute(agencies_query(office)).scalars()}
    new = list(dict.fromkeys(a["name"] for a, _clean in rows if a["name"] not in existing))
    first = {a["name"]: a for a, _clean in reversed(rows)}  # each new agency as its first row names it
    with db.session.begin_nested():
        for name, code in zip(new, svc.free_agency_codes(len(new))):
            existing[name] = svc.new_agency(first[name], code)
            db.session.add(existing[name])
        for clean_agency, clean in rows:
            service = AgencyService(organisation=existing[clean_agency["name"]], domains=[], languages=[])
            svc.apply_service(service, clean)
            db.session.add(service)
        db.session.flush()
    record("agencies_imported", object_type="organisation", object_id=office, actor=actor,
           details={"rows": len(rows), "office": office})
    return len(rows)
