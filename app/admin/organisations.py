"""Organisations kept by the admin: schools (NEIS code, level, 자치구) and agencies (kind,
자치구).  The city office and the district offices come from the migrations and stay as they are.
Each change is audited with codes only; callers commit."""
from __future__ import annotations

from flask_babel import gettext
import re

from sqlalchemy import func, select

from ..agencies.models import AGENCY_KINDS
from ..audit.services import record
from ..auth.models import SCHOOL_LEVELS, Gu, Organisation, User
from ..domain import DomainError
from ..extensions import db
from .services import require_admin

#: the kinds made and edited here
EDITABLE_KINDS = ("school", "agency")
#: NEIS codes: 행정표준코드 such as B100000465, or the 7-digit 표준학교코드 such as 7010057
SCHOOL_CODE = re.compile(r"^[A-Z0-9]{7,10}$")
AGENCY_CODE = re.compile(r"^[A-Z0-9][A-Z0-9-]{1,31}$")


def _gu(gu_id) -> Gu:
    try:
        gu = db.session.get(Gu, int(gu_id)) if gu_id not in (None, "") else None
    except (TypeError, ValueError):
        gu = None
    if gu is None:
        raise DomainError(gettext("자치구를 목록에서 골라 주세요."), "gu_id")
    return gu


def _code(kind: str, code: str | None, current: Organisation | None) -> str:
    code = (code or "").strip().upper()
    if kind == "school" and not SCHOOL_CODE.match(code):
        raise DomainError(gettext("학교 코드는 NEIS 학교 코드(영문 대문자·숫자 7~10자, 예: B100000465)로 입력해 주세요."), "code")
    if kind == "agency":
        if not code:
            return current.code if current is not None else _next_agency_code()
        if not AGENCY_CODE.match(code):
            raise DomainError(gettext("기관 코드는 영문 대문자·숫자·하이픈 2~32자로 입력해 주세요 (비우면 자동으로 정합니다)."), "code")
    clash = select(Organisation.id).where(func.upper(Organisation.code) == code)
    if current is not None:
        clash = clash.where(Organisation.id != current.id)
    if db.session.execute(clash).first():
        raise DomainError(gettext("이미 사용 중인 기관 코드입니다: %(code)s", code=code), "code")
    return code


def _next_agency_code() -> str:
    """AG-<n>, as the agency directory numbers the agencies it registers."""
    n = (db.session.execute(select(func.count()).where(Organisation.kind == "agency")).scalar() or 0) + 1
    while db.session.execute(select(Organisation.id).where(Organisation.code == f"AG-{n}")).first():
        n += 1
    return f"AG-{n}"


def _clean(kind: str, fields: dict, current: Organisation | None = None) -> dict:
    """Checked column values of a school or agency; the office follows from the 자치구."""
    name = (fields.get("name") or "").strip()
    if not name or len(name) > 200:
        raise DomainError(gettext("기관명을 200자 이내로 입력해 주세요."), "name")
    values = {"code": _code(kind, fields.get("code"), current), "name": name}
    if kind == "school":
        if fields.get("school_level") not in SCHOOL_LEVELS:
            raise DomainError(gettext("학교급을 목록에서 골라 주세요."), "school_level")
        values["school_level"] = fields["school_level"]
    else:
        if fields.get("agency_kind") not in AGENCY_KINDS:
            raise DomainError(gettext("기관 유형을 목록에서 골라 주세요."), "agency_kind")
        values["agency_kind"] = fields["agency_kind"]
    gu = _gu(fields.get("gu_id"))
    values.update(gu_id=gu.id, office_code=gu.office_code)
    return values


def create_organisation(actor, kind: str, fields: dict) -> Organisation:
    """Register a school or an agency."""
    require_admin(actor)
    if kind not in EDITABLE_KINDS:
        raise DomainError(gettext("학교나 유관기관만 등록할 수 있습니다."), "kind")
    organisation = Organisation(kind=kind, **_clean(kind, fields))
    db.session.add(organisation)
    db.session.flush()
    record("organisation_created", obj=organisation, actor=actor,
           details={"kind": kind, "code": organisation.code, "office": organisation.office_code})
    return organisation


def _require_editable(organisation: Organisation) -> None:
    if organisation.kind not in EDITABLE_KINDS:
        raise DomainError(gettext("교육청과 교육지원청은 이 화면에서 바꿀 수 없습니다."), "name")


def update_organisation(actor, organisation: Organisation, fields: dict) -> list[str]:
    """Change a school's or agency's code, name, level or kind, or 자치구; returns the changed fields."""
    require_admin(actor)
    _require_editable(organisation)
    values = _clean(organisation.kind, fields, organisation)
    changed = [key for key, value in values.items() if getattr(organisation, key) != value]
    for key in changed:
        setattr(organisation, key, values[key])
    if changed:
        db.session.flush()
        record("organisation_updated", obj=organisation, actor=actor,
               details={"fields": changed, "code": organisation.code, "office": organisation.office_code})
    return changed


def active_user_count(organisation: Organisation) -> int:
    """How many active accounts belong to the organisation."""
    return db.session.execute(select(func.count()).select_from(User).where(
        User.organisation_id == organisation.id, User.active.is_(True))).scalar() or 0


def deactivate_organisation(actor, organisation: Organisation) -> None:
    """Take a school or agency out of use; refused while it still has active accounts."""
    require_admin(actor)
    _require_editable(organisation)
    if not organisation.active:
        raise DomainError(gettext("이미 비활성화된 기관입니다."), None)
    users = active_user_count(organisation)
    if users:
        raise DomainError(gettext("이 기관에 사용 중인 계정이 %(n)d개 있어 비활성화할 수 없습니다. "
                                  "먼저 그 계정들을 비활성화하거나 다른 기관으로 옮겨 주세요.", n=users), None)
    organisation.active = False
    db.session.flush()
    record("organisation_deactivated", obj=organisation, actor=actor,
           details={"kind": organisation.kind, "code": organisation.code})


def reactivate_organisation(actor, organisation: Organisation) -> None:
    """Put a deactivated school or agency back in use."""
    require_admin(actor)
    _require_editable(organisation)
    if organisation.active:
        raise DomainError(gettext("이미 운영 중인 기관입니다."), None)
    organisation.active = True
    db.session.flush()
    record("organisation_updated", obj=organisation, actor=actor,
           details={"fields": ["active"], "code": organisation.code})
