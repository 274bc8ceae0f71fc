"""Referral services: the closed loop from a school to an agency and back.

Like the case lifecycle, every transition is named in TRANSITIONS (referral_rules.py), checked by
``check_referral_transition`` (role and side first, then status), and leaves a chronology line
on the case and an audit event (codes only, never shared values) in the caller's transaction.
"""
from __future__ import annotations

import datetime as dt

from flask import current_app
from flask_babel import gettext, lazy_gettext as _l

from .. import signals
from ..audit.services import record
from ..business_days import add_business_days
from ..cases.chronology import add_event
from ..cases.consent import consent_covers
from ..db import today_kst, utcnow
from ..domain import DomainError, NotPermitted
from ..extensions import db
from ..locking import lock_for_change
from ..i18n import date_words
from ..permissions import SCHOOL_LEAD
from .models import DECLINE_REASONS, OVERRIDE_CATEGORIES, REFERRAL_STATUSES, SERVICE_KINDS, SHAREABLE_ITEMS, Referral, ServiceRecord
from .referral_alerts import notify_agency, notify_agency_new, notify_override, notify_sender, sent_on
from .referral_queries import ENDED_CASES, shared_values
# the state machine lives in referral_rules.py; callers may import it from here
from .referral_rules import (ACTIONS, AGENCY, SCHOOL, TRANSITIONS, allowed_referral_transitions,  # noqa: F401
                             check_referral_transition, is_agency_side, is_school_side, require_side)
# the reads live in referral_queries.py; callers may import them from here
from .referral_queries import is_overdue, overdue_referrals, overridden_referrals  # noqa: F401
from .referral_queries import referrals_for_case, shared_items_visible  # noqa: F401

TEXT_MAX = 2000
#: a case in these statuses takes no new referral
FINISHED_CASES = ENDED_CASES
#: the targets that answer (accepted, declined) or end a referral: each sends ``referral_resolved``
RESOLVING = ("accepted", "declined", "completed", "failed", "cancelled")


def _begin(referral: Referral, name: str, actor) -> None:
    """Lock the referral (another user may be answering it right now), then check the rules."""
    lock_for_change(referral)
    check_referral_transition(referral, name, actor)


def _transition(referral: Referral, name: str, actor, details: dict | None = None, text=None,
                reason: str | None = None) -> None:
    """``text``: a lazy message (or None) added to the chronology line in brackets."""
    rule = TRANSITIONS[name]
    source = referral.status
    referral.status = rule.target
    case = referral.case
    words = {"agency": referral.agency.name, "source": REFERRAL_STATUSES[source],
             "target": REFERRAL_STATUSES[rule.target]}
    add_event(case, "referral", _l("%(agency)s: %(source)s → %(target)s (%(text)s)", text=text, **words) if text
              else _l("%(agency)s: %(source)s → %(target)s", **words), actor)
    record(ACTIONS[name], obj=referral, subject=case.student, actor=actor, reason=reason,
           details={"from": source, "to": rule.target, "agency": referral.agency.uid, **(details or {})})
    if rule.target in RESOLVING:  # after the change and its audit event, as every owner sends
        signals.referral_resolved.send(referral, actor=actor, status=rule.target)


def _required(value: str | None, message: str, field: str) -> str:
    value = (value or "").strip()
    if not value:
        raise DomainError(message, field)
    if len(value) > TEXT_MAX:
        raise DomainError(gettext("내용이 너무 깁니다."), field)
    return value


def _check_content(agency, service, reason, shared_items) -> tuple[str, list[str]]:
    if agency is None or agency.kind != "agency" or not agency.active:
        raise DomainError(gettext("의뢰할 기관을 선택해 주세요."), "agency")
    if service is not None and service.organisation_id != agency.id:
        raise DomainError(gettext("선택한 기관의 서비스가 아닙니다."), "service")
    items = list(dict.fromkeys(shared_items or []))
    if not items:
        raise DomainError(gettext("기관에 보낼 정보를 하나 이상 선택해 주세요."), "shared_items")
    if any(item not in SHAREABLE_ITEMS for item in items):
        raise DomainError(gettext("보낼 수 없는 정보입니다."), "shared_items")
    return _required(reason, gettext("의뢰 사유를 입력해 주세요."), "reason"), items


def create_referral(case, actor, *, agency, service=None, reason: str, shared_items: list[str]) -> Referral:
    """A draft referral of the case to ``agency`` sharing only ``shared_items``."""
    if not is_school_side(actor, case):
        raise NotPermitted(gettext("이 사례를 의뢰할 권한이 없습니다."))
    if case.status in FINISHED_CASES:
        raise DomainError(gettext("종결·미선정되었거나 요청이 철회된 사례는 의뢰할 수 없습니다."), "status")
    reason, items = _check_content(agency, service, reason, shared_items)
    referral = Referral(case_id=case.id, agency_id=agency.id, service_id=service.id if service else None,
                        status="draft", created_by_id=actor.id, shared_items=items)
    referral.reason = reason
    referral.case, referral.agency, referral.service = case, agency, service
    db.session.add(referral)
    db.session.flush()
    add_event(case, "referral", _l("%(agency)s: 의뢰 작성", agency=agency.name), actor)
    record("referral_created", obj=referral, subject=case.student, actor=actor,
           details={"agency": agency.uid, "service": service.uid if service else None, "items": items})
    return referral


def update_referral_draft(referral: Referral, actor, *, agency, service=None, reason: str,
                          shared_items: list[str]) -> None:
    """Change a draft's agency, service, reason or items."""
    require_side(referral, SCHOOL, actor)
    if referral.status != "draft":
        raise DomainError(gettext("보내기 전의 의뢰만 고칠 수 있습니다."), "status")
    reason, items = _check_content(agency, service, reason, shared_items)
    referral.agency_id, referral.agency = agency.id, agency
    referral.service_id, referral.service = (service.id if service else None), service
    referral.reason, referral.shared_items = reason, items
    add_event(referral.case, "referral", _l("%(agency)s: 의뢰 내용 수정 (작성 중)", agency=agency.name), actor)
    record("referral_updated", obj=referral, subject=referral.case.student, actor=actor,
           details={"agency": agency.uid, "service": service.uid if service else None, "items": items})


def send_referral(referral: Referral, actor, override_reason: str | None = None,
                  override_category: str | None = None) -> None:
    """Send a draft: consent must cover the agency, or a school lead overrides with a category and a
    reason.  The audit event keeps only the category and the referral's uid: the written reason is
    about a child's emergency and stays encrypted in the referral, for the school team."""
    _begin(referral, "send", actor)
    case, agency = referral.case, referral.agency
    override = (override_reason or "").strip() or None
    category = override_category or None
    if override is not None or category is not None:
        if actor.role != SCHOOL_LEAD or actor.organisation_id != case.school_id:
            raise NotPermitted(gettext("동의 없이 보내기는 학교 지원팀장만 할 수 있습니다."))
        if category not in OVERRIDE_CATEGORIES:
            raise DomainError(gettext("동의 없이 보내는 사유의 종류를 선택해 주세요."), "override_category")
        override = _required(override, gettext("동의 없이 보내는 사유를 입력해 주세요."), "override_reason")
    elif not consent_covers(case, "agency_referral", agency):
        raise DomainError(gettext("학생과 보호자 모두가 이 기관(또는 기관 종류)으로의 의뢰에 동의해야 보낼 수 있습니다."),
                          "consent")
    if not agency.active:
        raise DomainError(gettext("운영하지 않는 기관입니다."), "agency")
    referral.shared = shared_values(case, list(referral.shared_items))
    referral.sent_at, referral.sent_by_id = utcnow(), actor.id
    referral.respond_by = add_business_days(today_kst(), current_app.config["REFERRAL_RESPONSE_BUSINESS_DAYS"])
    if override is not None:
        referral.override_by_id, referral.override_reason = actor.id, override
        referral.override_category = category
    details = {"items": list(referral.shared_items), "override": override is not None,
               "respond_by": referral.respond_by.isoformat()}
    if override is not None:
        details["override_category"] = category  # the pointer is the event's object_id (referral uid)
    _transition(referral, "send", actor, details, text=_l("동의 없이 긴급 의뢰") if override else None,
                reason=str(OVERRIDE_CATEGORIES[category]) if override is not None else None)
    notify_agency_new(referral)
    if override is not None:
        notify_override(referral)


def accept_referral(referral: Referral, actor) -> None:
    """The agency takes the referral on."""
    _begin(referral, "accept", actor)
    referral.responded_at, referral.responded_by_id = utcnow(), actor.id
    _transition(referral, "accept", actor)
    notify_sender(referral, _l("의뢰를 접수했습니다."))


def decline_referral(referral: Referral, actor, reason_code: str, comment: str = "") -> None:
    """The agency declines with a coded reason (and a comment, required for 'other')."""
    _begin(referral, "decline", actor)
    if reason_code not in DECLINE_REASONS:
        raise DomainError(gettext("거절 사유를 선택해 주세요."), "reason_code")
    comment = (comment or "").strip()
    if reason_code == "other" and not comment:
        raise DomainError(gettext("기타 사유를 적어 주세요."), "comment")
    if len(comment) > TEXT_MAX:
        raise DomainError(gettext("내용이 너무 깁니다."), "comment")
    referral.decline_reason, referral.decline_comment = reason_code, comment or None
    referral.responded_at, referral.responded_by_id = utcnow(), actor.id
    referral.closed_at = utcnow()
    _transition(referral, "decline", actor, {"reason": reason_code}, text=DECLINE_REASONS[reason_code])
    notify_sender(referral, _l("의뢰를 거절했습니다 (%(reason)s).", reason=DECLINE_REASONS[reason_code]))


def start_service(referral: Referral, actor) -> None:
    """The agency starts delivering the service."""
    _begin(referral, "start_service", actor)
    _transition(referral, "start_service", actor)
    notify_sender(referral, _l("서비스를 시작했습니다."))


def add_service_record(referral: Referral, actor, occurred_on: dt.date, kind: str, note: str = "") -> ServiceRecord:
    """Record a delivered service; the first record moves an accepted referral into service."""
    require_side(referral, AGENCY, actor)
    if referral.status not in ("accepted", "in_service"):
        raise DomainError(gettext("접수했거나 서비스 중인 의뢰에만 기록할 수 있습니다."), "status")
    if kind not in SERVICE_KINDS:
        raise DomainError(gettext("서비스 종류를 선택해 주세요."), "kind")
    if not isinstance(occurred_on, dt.date):
        raise DomainError(gettext("서비스 날짜를 입력해 주세요."), "occurred_on")
    earliest = referral.sent_at.date() - dt.timedelta(days=1) if referral.sent_at else None
    if occurred_on > today_kst() or (earliest and occurred_on < earliest):
        raise DomainError(gettext("서비스 날짜는 %(first)s부터 오늘까지 중에서 골라 주세요 (의뢰 전이나 앞으로의 날짜는 "
                                  "기록할 수 없습니다).", first=date_words(earliest)) if earliest
                          else gettext("서비스 날짜는 오늘이나 그 전이어야 합니다."), "occurred_on")
    note = (note or "").strip()
    if len(note) > TEXT_MAX:
        raise DomainError(gettext("내용이 너무 깁니다."), "note")
    if referral.status == "accepted":
        start_service(referral, actor)
    item = ServiceRecord(referral_id=referral.id, occurred_on=occurred_on, kind=kind, created_by_id=actor.id)
    item.note = note or None
    db.session.add(item)
    db.session.flush()
    add_event(referral.case, "referral", _l("%(agency)s: 서비스 제공 (%(kind)s, %(day)s)", agency=referral.agency.name,
                                            kind=SERVICE_KINDS[kind], day=occurred_on), actor)
    record("referral_service_recorded", obj=item, subject=referral.case.student, actor=actor,
           details={"referral": referral.uid, "kind": kind, "occurred_on": occurred_on.isoformat()})
    return item


def _close(referral: Referral, name: str, actor, outcome_note: str, message) -> None:
    _begin(referral, name, actor)
    referral.outcome_note = _required(outcome_note, gettext("결과를 입력해 주세요."), "outcome_note")
    referral.closed_at = utcnow()
    _transition(referral, name, actor)
    notify_sender(referral, message)


def complete_referral(referral: Referral, actor, outcome_note: str) -> None:
    """The agency closes the referral as completed, with its outcome."""
    _close(referral, "complete", actor, outcome_note, _l("서비스를 완료했습니다."))


def fail_referral(referral: Referral, actor, outcome_note: str) -> None:
    """The agency closes the referral without completing the service, with the reason."""
    _close(referral, "fail", actor, outcome_note, _l("서비스를 마치지 못하고 종결했습니다."))


def cancel_referral(referral: Referral, actor, reason: str) -> None:
    """The school side withdraws the referral; the reason is kept as its outcome note."""
    _begin(referral, "cancel", actor)
    end_referral(referral, actor, _required(reason, gettext("취소 사유를 입력해 주세요."), "reason"))


def end_referral(referral: Referral, actor, reason: str, *, cause: str | None = None, text=None,
                 agency_text=None) -> None:
    """Cancel a referral that is not finished, with ``reason`` as its outcome note; a sent one
    is news for the agency.  The checked entry point is ``cancel_referral``; the case's own
    lifecycle (close, withdrawal, consent) calls this after it was itself allowed, so ``actor``
    may be anyone who changed the case, or None for a daily command.  ``text`` (for the chronology
    line) and ``agency_text`` (the agency's alert) are lazy messages."""
    lock_for_change(referral)  # the agency may be answering it at this moment
    if referral.status not in TRANSITIONS["cancel"].sources:
        raise DomainError(gettext("'%(status)s' 상태의 의뢰는 취소할 수 없습니다.", status=REFERRAL_STATUSES[referral.status]),
                          "status")
    referral.outcome_note = reason
    was_sent = referral.sent_at is not None
    referral.closed_at = utcnow()
    _transition(referral, "cancel", actor, {"cause": cause} if cause else None, text=text)
    if was_sent:
        notify_agency(referral, agency_text or _l("%(school)s에서 %(day)s에 보낸 의뢰를 취소했습니다.",
                                                  school=referral.case.school.name, day=sent_on(referral)))
