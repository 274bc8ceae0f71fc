"""Guardian roster and vetting: registration, lifecycle, logins, record checks, suspension.

Every function takes the acting user, checks it may act on this office's roster, writes an
audit event in the caller's transaction and raises DomainError (or NotPermitted); callers commit.
Audit details never hold decrypted values.
"""
from __future__ import annotations

import calendar
import datetime as dt

from flask import current_app
from flask_babel import gettext
from flask_babel import gettext as _
from sqlalchemy import select

from ..audit.services import record
from ..auth.models import Gu, Organisation, User
from ..auth.services import create_user
from ..cases.models import DOMAINS
from ..db import today_kst
from ..domain import DomainError, NotPermitted
from ..extensions import db
from ..locking import lock_for_change
from ..i18n import N_
from ..notifications.services import object_key, resolve
from ..permissions import DISTRICT_COORDINATOR, GUARDIAN, can_manage_guardian
from .eligibility import is_eligible, missing_requirements
from .lapse import offer_reinstatement, suspend_assignments_of
from .recipients import office_coordinators  # noqa: F401  (the daily command imports it from here)
from ..words import particle
from .models import (CHECK_KINDS, CHECK_RESULTS, GENDERS, GUARDIAN_STATUSES, SLOTS, SUSPEND_REASONS, Assignment,
                     Guardian, GuardianConflict, RecordCheck, msgid)

#: status -> the statuses it may move to (anything may also be retired)
STATUS_FLOW = {"applicant": ("screening",), "screening": ("trained",), "trained": ("active",),
               "active": ("suspended",), "suspended": ("active",), "retired": ()}
MAX_CAPACITY = 4
#: the plain-text fields a form may send; the rest are lists or numbers
TEXT_LIMITS = {"name": 50, "phone": 20, "address": 200, "dong": 40}


def _with_particle(message: str, label: str, slot: str, pair: str, **values) -> str:
    """``message`` (a msgid with %(label)s and the particle's slot) with the translated label and
    the Korean particle that follows it; an English translation simply leaves the slot out."""
    word = gettext(label)
    return gettext(message, label=word, **{slot: particle(word, pair)}, **values)


def _require_coordinator(actor) -> None:
    if actor is None or actor.role != DISTRICT_COORDINATOR or actor.organisation is None:
        raise NotPermitted(_("교육지원청 담당자만 교육후견인을 관리할 수 있습니다."))


def _require_manager(actor, guardian: Guardian) -> None:
    if not can_manage_guardian(actor, guardian):
        raise NotPermitted(_("이 교육후견인을 관리할 권한이 없습니다."))


def add_months(day: dt.date, months: int) -> dt.date:
    """``day`` plus whole months, clamped to the month's last day (1/31 + 1 → 2/28)."""
    month0 = day.month - 1 + months
    year, month = day.year + month0 // 12, month0 % 12 + 1
    return dt.date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def _clean_fields(actor, fields: dict, current: Guardian | None = None) -> dict:
    """Validate every field before anything changes; missing keys keep their current value."""
    def get(name, default=None):
        return fields[name] if name in fields else (getattr(current, name) if current else default)

    clean = {}
    for name, limit in TEXT_LIMITS.items():
        value = (get(name) or "").strip()
        if len(value) > limit:
            raise DomainError(_("%(n)d자 이내로 입력해 주세요.", n=limit), name)
        clean[name] = value or None
    for name, label in (("name", N_("이름")), ("phone", N_("연락처"))):
        if not clean[name]:
            raise DomainError(_with_particle(N_("%(label)s%(eul)s 입력해 주세요."), label, "eul", "을/를"), name)
    birth = get("birth_date")
    if not isinstance(birth, dt.date):
        raise DomainError(_("생년월일을 입력해 주세요."), "birth_date")
    if birth > today_kst():
        raise DomainError(_("생년월일이 미래일 수 없습니다."), "birth_date")
    clean["birth_date"] = birth
    gu_id = fields["gu_id"] if "gu_id" in fields else (current.gu_id if current else None)
    gu = db.session.get(Gu, int(gu_id)) if gu_id else None
    if gu is None or gu.office_code != actor.organisation.office_code:
        raise DomainError(_("소속 교육지원청 관할 자치구를 선택해 주세요."), "gu_id")
    clean["gu_id"] = gu.id
    gender = get("gender") or None
    if gender is not None and gender not in GENDERS:
        raise DomainError(_("성별을 올바르게 선택해 주세요."), "gender")
    clean["gender"] = gender
    languages = [str(x).strip() for x in (get("languages") or []) if str(x).strip()]
    if any(len(x) > 30 for x in languages) or len(languages) > 10:
        raise DomainError(_("사용 언어는 30자 이내로 10개까지 입력해 주세요."), "languages")
    clean["languages"] = list(dict.fromkeys(languages))
    for name, allowed, label in (("experience", DOMAINS, N_("경험 영역")), ("availability", SLOTS, N_("활동 가능 시간"))):
        values = list(dict.fromkeys(get(name) or []))
        unknown = [v for v in values if v not in allowed]
        if unknown:
            raise DomainError(_("알 수 없는 %(label)s입니다: %(values)s", label=gettext(label),
                                values=", ".join(map(str, unknown))), name)
        clean[name] = values
    for name, low, high, label in (("capacity", 1, MAX_CAPACITY, N_("담당 학생 수")),
                                   ("training_hours", 0, 1000, N_("교육 이수 시간"))):
        value = get(name, 2 if name == "capacity" else 0)
        try:
            value = int(value)
        except (TypeError, ValueError):
            raise DomainError(_with_particle(N_("%(label)s%(eun)s 숫자로 입력해 주세요."), label, "eun", "은/는"),
                              name) from None
        if not low <= value <= high:
            raise DomainError(_with_particle(N_("%(label)s%(eun)s %(low)d~%(high)d 사이여야 합니다."), label, "eun",
                                             "은/는", low=low, high=high), name)
        clean[name] = value
    school_ids = fields.get("conflict_school_ids") if "conflict_school_ids" in fields else (
        [c.school_id for c in current.conflicts] if current else [])
    school_ids = list(dict.fromkeys(int(i) for i in school_ids or []))
    if school_ids:
        found = set(db.session.execute(select(Organisation.id).where(
            Organisation.id.in_(school_ids), Organisation.kind == "school")).scalars())
        if found != set(school_ids):
            raise DomainError(_("이해충돌 학교를 올바르게 선택해 주세요."), "conflict_school_ids")
    clean["conflict_school_ids"] = school_ids
    return clean


def _apply(guardian: Guardian, clean: dict) -> list[str]:
    """Write validated values; returns the names of the fields that changed."""
    changed = []
    for name, value in clean.items():
        if name == "conflict_school_ids":
            old = {c.school_id for c in guardian.conflicts}
            if old != set(value):
                guardian.conflicts = [c for c in guardian.conflicts if c.school_id in value] + [
                    GuardianConflict(school_id=i) for i in value if i not in old]
                changed.append(name)
        elif getattr(guardian, name) != value:
            setattr(guardian, name, value)
            changed.append(name)
    return changed


def register_guardian(actor, fields: dict) -> Guardian:
    """Add an applicant guardian to the actor's district office roster."""
    _require_coordinator(actor)
    clean = _clean_fields(actor, fields)
    guardian = Guardian(office_code=actor.organisation.office_code, status="applicant")
    _apply(guardian, clean)
    db.session.add(guardian)
    db.session.flush()
    record("guardian_registered", obj=guardian, actor=actor, details={"office": guardian.office_code})
    return guardian


def update_guardian(actor, guardian: Guardian, fields: dict) -> list[str]:
    """Change a guardian's profile; returns the changed field names (audited, values not)."""
    _require_manager(actor, guardian)
    clean = _clean_fields(actor, fields, current=guardian)
    if clean["capacity"] < guardian.capacity:
        # places taken stay taken: the guardian's row is locked so no proposal slips in meanwhile
        lock_for_change(guardian, "capacity")
        from .assignments import guardian_load  # assignments builds on this module
        taken = guardian_load(guardian.id)
        if clean["capacity"] < taken:
            raise DomainError(_("이미 %(n)d명을 맡고 있어(제안·활동·일시 중지 포함) 담당 학생 수를 그보다 줄일 수 없습니다.",
                                n=taken), "capacity")
    changed = _apply(guardian, clean)
    if changed:
        record("guardian_updated", obj=guardian, actor=actor, details={"fields": changed})
    return changed


def _set_status(guardian: Guardian, status: str, note: str | None, actor) -> None:
    old, guardian.status = guardian.status, status
    guardian.status_note = (note or "").strip()[:200] or None
    record("guardian_status_changed", obj=guardian, actor=actor, details={"from": old, "to": status})


def change_guardian_status(actor, guardian: Guardian, status: str, note: str = "") -> None:
    """Move along applicant → screening → trained → active ⇄ suspended → retired."""
    _require_manager(actor, guardian)
    if status not in GUARDIAN_STATUSES:
        raise DomainError(_("상태를 올바르게 선택해 주세요."), "status")
    if status == guardian.status:
        raise DomainError(_("이미 '%(status)s' 상태입니다.", status=guardian.status_label), "status")
    if status != "retired" and status not in STATUS_FLOW[guardian.status]:
        target = str(GUARDIAN_STATUSES[status])
        raise DomainError(_("'%(old)s'에서 '%(new)s'%(ro)s 바꿀 수 없습니다.", old=guardian.status_label,
                                  new=target, ro=particle(f"'{target}'", "으로/로")), "status")
    if status == "active":
        # the guardian is not active yet, so the first item is the status itself: drop it
        missing = missing_requirements(guardian)[1:]
        if missing:
            raise DomainError(_("활동 요건이 충족되지 않았습니다: %(missing)s", missing=" · ".join(missing)), "status")
    if status in ("suspended", "retired"):
        suspend_assignments_of(guardian, "guardian_suspended", actor)
    was_eligible = is_eligible(guardian)
    _set_status(guardian, status, note, actor)
    if status == "active":
        offer_reinstatement(guardian, actor, was_eligible)


def create_guardian_login(actor, guardian: Guardian, login: str, password: str) -> User:
    """Give the guardian their own account (role guardian, no organisation)."""
    _require_manager(actor, guardian)
    if guardian.user_id:
        raise DomainError(_("이미 로그인 계정이 있습니다."), "login")
    if guardian.status == "retired":
        raise DomainError(_("활동 종료된 교육후견인에게는 계정을 만들 수 없습니다."), "login")
    # the coordinator chose this password: the guardian must replace it at their first sign-in
    user = create_user(login=login or "", display_name=guardian.name or "", role=GUARDIAN, organisation=None,
                       password=password or "", actor=actor, temporary=True)
    guardian.user_id = user.id
    record("guardian_login_created", obj=guardian, actor=actor, details={"user": user.uid})
    return user


def record_check_request(actor, guardian: Guardian, kind: str, consent_on: dt.date, requested_on: dt.date) -> RecordCheck:
    """Log that a record check was requested with the guardian's written consent."""
    _require_manager(actor, guardian)
    if kind not in CHECK_KINDS:
        raise DomainError(_("조회 종류를 선택해 주세요."), "kind")
    if not isinstance(consent_on, dt.date):
        raise DomainError(_("동의일을 입력해 주세요."), "consent_on")
    if not isinstance(requested_on, dt.date):
        raise DomainError(_("요청일을 입력해 주세요."), "requested_on")
    if requested_on > today_kst():
        raise DomainError(_("요청일이 미래일 수 없습니다."), "requested_on")
    if consent_on > requested_on:
        raise DomainError(_("동의일은 요청일보다 늦을 수 없습니다 (동의 후 조회)."), "consent_on")
    if guardian.status == "retired":
        raise DomainError(_("활동 종료된 교육후견인입니다."), "kind")
    check = RecordCheck(guardian=guardian, kind=kind, consent_on=consent_on, requested_on=requested_on,
                        result="pending")
    db.session.add(check)
    db.session.flush()
    record("record_check_requested", obj=check, actor=actor, details={"guardian": guardian.uid, "kind": kind})
    return check


def record_check_result(actor, check: RecordCheck, result: str, checked_on: dt.date, reference: str) -> None:
    """Record a check's result; a not-clear result suspends the guardian and their assignments."""
    guardian = check.guardian
    _require_manager(actor, guardian)
    if check.result != "pending":
        raise DomainError(_("이미 결과가 기록된 조회입니다. 새 조회를 요청해 주세요."), "result")
    if result not in CHECK_RESULTS or result == "pending":
        raise DomainError(_("조회 결과를 선택해 주세요."), "result")
    if not isinstance(checked_on, dt.date):
        raise DomainError(_("조회일을 입력해 주세요."), "checked_on")
    if checked_on > today_kst() or checked_on < check.requested_on:
        raise DomainError(_("조회일은 요청일과 오늘 사이여야 합니다."), "checked_on")
    reference = (reference or "").strip()
    if not reference or len(reference) > 100:
        raise DomainError(_("회보서 번호를 100자 이내로 입력해 주세요."), "reference")
    was_eligible = is_eligible(guardian)
    check.result, check.checked_on, check.verified_by_id = result, checked_on, actor.id
    check.reference = reference
    check.valid_until = (add_months(checked_on, current_app.config["CHECK_VALIDITY_MONTHS"])
                         if result == "clear" else None)
    record("record_check_result", obj=check, actor=actor,
           details={"guardian": guardian.uid, "kind": check.kind, "result": result, "valid_until": check.valid_until})
    if result == "not_clear":
        suspend_guardian(guardian, "check_not_clear", actor)
    else:
        # the warnings about the older checks of this kind are answered by this one
        for older in guardian.checks:
            if older.kind == check.kind and older is not check:
                resolve(object_key("record_check", older))
        offer_reinstatement(guardian, actor, was_eligible)


def suspend_guardian(guardian: Guardian, reason: str, actor=None) -> list[Assignment]:
    """Stop an ineligible guardian: pause their active assignments and suspend an active guardian."""
    paused = suspend_assignments_of(guardian, reason, actor)
    if guardian.status == "active":
        _set_status(guardian, "suspended", msgid(SUSPEND_REASONS[reason]), actor)
    return paused
