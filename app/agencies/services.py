"""Agency directory upkeep: agencies and their services, kept by the district coordinators of the
agency's office and by the agency's own coordinators (their own entry only).

Every function takes the acting user, checks the actor may keep that agency's entry, writes an
audit event in the caller's transaction and raises DomainError (or NotPermitted); callers commit.
"""
from __future__ import annotations

from flask_babel import gettext
import datetime as dt
import re

from sqlalchemy import func, select

from ..audit.services import record
from ..auth.models import Gu, Organisation
from ..cases.models import DOMAINS
from ..db import today_kst
from ..domain import DomainError, NotPermitted
from ..extensions import db
from ..permissions import AGENCY_COORDINATOR, DISTRICT_COORDINATOR, has_role
from .models import AGENCY_KINDS, CAPACITY_STATUSES, AgencyService, ServiceArea

MAX_AGE = 24
#: plain-text service fields and their length limits
TEXT_LIMITS = {"name": 200, "description": 2000, "schedule": 200, "contact_phone": 40, "contact_email": 120,
               "address": 200}
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
PHONE = re.compile(r"^[0-9+][0-9\- ]{6,18}$")


def can_manage_agency(user, agency) -> bool:
    """The coordinators of the agency's district office, and the agency's own coordinators, keep
    its directory entry (an agency knows best whether it takes new referrals)."""
    if agency is None or agency.kind != "agency":
        return False
    if has_role(user, AGENCY_COORDINATOR):
        return user.organisation_id == agency.id
    return (has_role(user, DISTRICT_COORDINATOR) and user.organisation is not None
            and agency.office_code == user.organisation.office_code)


def _require_coordinator(actor) -> None:
    if not has_role(actor, DISTRICT_COORDINATOR) or actor.organisation is None:
        raise NotPermitted(gettext("교육지원청 담당자만 유관기관 목록을 관리할 수 있습니다."))


def _require_manager(actor, agency) -> None:
    if not can_manage_agency(actor, agency):
        raise NotPermitted(gettext("이 기관을 관리할 권한이 없습니다."))


def office_gu(actor, gu_id) -> Gu:
    """The 자치구 ``gu_id`` if it belongs to the actor's office, else a DomainError."""
    try:
        gu = db.session.get(Gu, int(gu_id)) if gu_id not in (None, "") else None
    except (TypeError, ValueError):
        gu = None
    if gu is None or gu.office_code != actor.organisation.office_code:
        raise DomainError(gettext("소속 교육지원청 관할 자치구를 선택해 주세요."), "gu_id")
    return gu


def clean_agency(actor, name, agency_kind, gu_id) -> dict:
    """Validate an agency's name, kind and 자치구 (in the actor's office)."""
    name = (name or "").strip()
    if not name or len(name) > 200:
        raise DomainError(gettext("기관명을 200자 이내로 입력해 주세요."), "name")
    if agency_kind not in AGENCY_KINDS:
        raise DomainError(gettext("기관 유형을 목록에서 선택해 주세요."), "agency_kind")
    return {"name": name, "agency_kind": agency_kind, "gu": office_gu(actor, gu_id)}


def free_agency_codes(count: int) -> list[str]:
    """The next ``count`` free "AG-n" codes, from the number of agencies + 1 up, as one new agency
    after another would take them — two queries, whatever ``count``."""
    n = (db.session.execute(select(func.count()).where(Organisation.kind == "agency")).scalar() or 0) + 1
    used = set(db.session.execute(select(Organisation.code).where(Organisation.code.like("AG-%"))).scalars())
    codes: list[str] = []
    while len(codes) < count:
        if f"AG-{n}" not in used:
            codes.append(f"AG-{n}")
        n += 1
    return codes


def _next_code() -> str:
    return free_agency_codes(1)[0]


def new_agency(clean: dict, code: str) -> Organisation:
    """An agency from validated values and a free code (the caller checked the code, adds and flushes)."""
    return Organisation(kind="agency", code=code, name=clean["name"], agency_kind=clean["agency_kind"],
                        gu_id=clean["gu_id"], office_code=clean["office_code"])


def create_agency(actor, clean: dict, code: str | None = None) -> Organisation:
    """Add a validated agency without auditing (register_agency and the importer audit)."""
    code = (code or "").strip() or _next_code()
    if len(code) > 32:
        raise DomainError(gettext("기관 코드는 32자 이내로 입력해 주세요."), "code")
    if db.session.execute(select(Organisation.id).where(Organisation.code == code)).first():
        raise DomainError(gettext("이미 사용 중인 기관 코드입니다."), "code")
    gu = clean["gu"]
    agency = new_agency({**clean, "gu_id": gu.id, "office_code": gu.office_code}, code)
    db.session.add(agency)
    db.session.flush()
    return agency


def register_agency(actor, name: str, agency_kind: str, gu_id, code: str | None = None) -> Organisation:
    """Add an agency in a 자치구 of the coordinator's office."""
    _require_coordinator(actor)
    agency = create_agency(actor, clean_agency(actor, name, agency_kind, gu_id), code)
    record("agency_registered", obj=agency, actor=actor, details={"office": agency.office_code, "code": agency.code})
    return agency


def update_agency(actor, agency: Organisation, fields: dict) -> list[str]:
    """Change an agency's name, kind, 자치구 or active flag; returns the changed field names.
    The active flag (whether it is in the directory at all) is the district office's call."""
    _require_manager(actor, agency)
    if "active" in fields and bool(fields["active"]) != agency.active and not has_role(actor, DISTRICT_COORDINATOR):
        raise NotPermitted(gettext("운영 여부는 교육지원청 담당자만 바꿀 수 있습니다."))
    clean = clean_agency(actor, fields.get("name", agency.name), fields.get("agency_kind", agency.agency_kind),
                         fields.get("gu_id", agency.gu_id))
    values = {"name": clean["name"], "agency_kind": clean["agency_kind"], "gu_id": clean["gu"].id,
              "active": bool(fields.get("active", agency.active))}
    changed = [k for k, v in values.items() if getattr(agency, k) != v]
    for k in changed:
        setattr(agency, k, values[k])
    if changed:
        record("agency_updated", obj=agency, actor=actor, details={"fields": changed})
    return changed


def _age(value, field: str) -> int | None:
    if value in (None, ""):
        return None
    try:
        age = int(value)
    except (TypeError, ValueError):
        raise DomainError(gettext("나이는 숫자로 입력해 주세요."), field) from None
    if not 0 <= age <= MAX_AGE:
        raise DomainError(gettext("나이는 0~%(n)d세 사이여야 합니다.", n=MAX_AGE), field)
    return age


def _list(value) -> list:
    if isinstance(value, str):
        value = value.split("|")
    return list(dict.fromkeys(str(v).strip() for v in (value or []) if str(v).strip()))


def clean_service(fields: dict, current: AgencyService | None = None, gu_ids: set[int] | None = None) -> dict:
    """Validate every service field before anything changes; missing keys keep their value.
    ``gu_ids``: every 자치구 id, when the caller already read them (an import checks many rows)."""
    def get(name):
        if name in fields:
            return fields[name]
        if current is None:
            return None
        return [a.gu_id for a in current.areas] if name == "areas" else getattr(current, name)

    clean = {}
    for name, limit in TEXT_LIMITS.items():
        value = (get(name) or "").strip()
        if len(value) > limit:
            raise DomainError(gettext("%(n)d자 이내로 입력해 주세요.", n=limit), name)
        clean[name] = value or None
    if not clean["name"]:
        raise DomainError(gettext("서비스명을 입력해 주세요."), "name")
    if clean["contact_email"] and not EMAIL.match(clean["contact_email"]):
        raise DomainError(gettext("이메일 주소 형식이 올바르지 않습니다."), "contact_email")
    if clean["contact_phone"] and not PHONE.match(clean["contact_phone"]):
        raise DomainError(gettext("전화번호는 숫자와 '-'로 입력해 주세요."), "contact_phone")
    domains = _list(get("domains"))
    if not domains:
        raise DomainError(gettext("지원 영역을 하나 이상 선택해 주세요."), "domains")
    unknown = [d for d in domains if d not in DOMAINS]
    if unknown:
        raise DomainError(gettext("알 수 없는 지원 영역입니다: %(names)s", names=", ".join(unknown)), "domains")
    clean["domains"] = domains
    clean["min_age"], clean["max_age"] = _age(get("min_age"), "min_age"), _age(get("max_age"), "max_age")
    if None not in (clean["min_age"], clean["max_age"]) and clean["min_age"] > clean["max_age"]:
        raise DomainError(gettext("최소 나이가 최대 나이보다 클 수 없습니다."), "max_age")
    languages = _list(get("languages"))
    if len(languages) > 10 or any(len(x) > 30 for x in languages):
        raise DomainError(gettext("언어는 30자 이내로 10개까지 입력해 주세요."), "languages")
    clean["languages"] = languages
    capacity = get("capacity_status") or "available"
    if capacity not in CAPACITY_STATUSES:
        raise DomainError(gettext("접수 상태를 목록에서 선택해 주세요."), "capacity_status")
    clean["capacity_status"] = capacity
    clean["areas"] = _areas(get("areas"), gu_ids)
    confirmed = get("last_confirmed_on")
    if confirmed is not None and not isinstance(confirmed, dt.date):
        raise DomainError(gettext("확인일을 2025-03-05 형식으로 입력해 주세요."), "last_confirmed_on")
    if confirmed is not None and confirmed > today_kst():
        raise DomainError(gettext("확인일이 미래일 수 없습니다."), "last_confirmed_on")
    clean["last_confirmed_on"] = confirmed
    return clean


def _areas(value, known: set[int] | None = None) -> list[int]:
    try:
        ids = list(dict.fromkeys(int(i) for i in value or []))
    except (TypeError, ValueError):
        raise DomainError(gettext("서비스 지역을 올바르게 선택해 주세요."), "areas") from None
    if not ids:
        raise DomainError(gettext("서비스 지역(자치구)을 하나 이상 선택해 주세요."), "areas")
    found = set(ids) & known if known is not None else \
        set(db.session.execute(select(Gu.id).where(Gu.id.in_(ids))).scalars())
    if found != set(ids):
        raise DomainError(gettext("서비스 지역을 올바르게 선택해 주세요."), "areas")
    return ids


def apply_service(service: AgencyService, clean: dict) -> list[str]:
    """Write validated values; returns the names of the fields that changed."""
    changed = []
    for name, value in clean.items():
        if name == "areas":
            old = {a.gu_id for a in service.areas}
            if old != set(value):
                service.areas = [a for a in service.areas if a.gu_id in value] + [
                    ServiceArea(gu_id=i) for i in value if i not in old]
                changed.append(name)
        elif getattr(service, name) != value:
            setattr(service, name, value)
            changed.append(name)
    return changed


def add_service(actor, agency: Organisation, fields: dict) -> AgencyService:
    """Add a service to an agency of the coordinator's office."""
    _require_manager(actor, agency)
    service = AgencyService(organisation=agency, domains=[], languages=[])
    apply_service(service, clean_service(fields))
    db.session.add(service)
    db.session.flush()
    record("agency_service_added", obj=service, actor=actor, details={"agency": agency.uid})
    return service


def update_service(actor, service: AgencyService, fields: dict) -> list[str]:
    """Change a service; returns the changed field names (audited, values not)."""
    _require_manager(actor, service.organisation)
    changed = apply_service(service, clean_service(fields, current=service))
    if changed:
        db.session.flush()
        record("agency_service_updated", obj=service, actor=actor, details={"fields": changed})
    return changed


def confirm_service(actor, service: AgencyService) -> None:
    """Mark the entry as confirmed with the agency today."""
    _require_manager(actor, service.organisation)
    service.last_confirmed_on = today_kst()
    db.session.flush()
    record("agency_service_confirmed", obj=service, actor=actor, details={"on": service.last_confirmed_on})
