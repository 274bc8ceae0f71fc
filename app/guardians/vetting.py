"""Guardian vetting in three steps for the usual path (DESIGN: 교육후견인 심사):

1. ``record_checks`` — both record checks (성범죄 경력, 아동학대 관련 범죄 전력), each with its
   consent, request and (when it has come back) result dates, in one submission;
2. ``record_training`` — the basic training hours;
3. ``activate_guardian`` — the guardian starts serving.

Each step is one transaction made of the single-purpose services of services.py (which check the
actor, audit every change and stay the way other code and corrections use), so a refusal anywhere
leaves nothing saved; the caller commits.  A refusal names the form field it belongs to
(``<kind>_<field>`` for a check), in Korean.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from flask import current_app
from flask_babel import gettext

from ..db import today_kst
from ..domain import DomainError, NotPermitted
from . import services as gs
from .eligibility import missing_requirements, training_hours_required
from .models import CHECK_KINDS, CHECK_RESULTS, Guardian, RecordCheck

#: the statuses a guardian walks through to become active (each step audited by the service)
PATH = ("applicant", "screening", "trained", "active")


@dataclass
class CheckEntry:
    """One kind's row of the checks step; ``result`` "pending" records only the request."""

    consent_on: dt.date | None = None
    requested_on: dt.date | None = None
    result: str = "pending"
    checked_on: dt.date | None = None
    reference: str = ""

    @property
    def empty(self) -> bool:
        return (self.consent_on is None and self.requested_on is None and self.result in ("", "pending")
                and self.checked_on is None and not (self.reference or "").strip())


def pending_check(guardian: Guardian, kind: str) -> RecordCheck | None:
    """The guardian's latest check of ``kind`` still waiting for its result."""
    waiting = [c for c in guardian.checks if c.kind == kind and c.result == "pending"]
    return max(waiting, key=lambda c: (c.requested_on, c.id)) if waiting else None


def valid_check(guardian: Guardian, kind: str, day: dt.date | None = None) -> RecordCheck | None:
    """A clear check of ``kind`` valid on ``day``, if any."""
    day = day or today_kst()
    return next((c for c in guardian.checks if c.kind == kind and c.valid_on(day)), None)


def _prefixed(kind: str, error: DomainError) -> DomainError:
    """The single service's refusal, moved to the kind's own field of the checks form."""
    if isinstance(error, NotPermitted):
        return error
    field = error.field if error.field in ("consent_on", "requested_on", "result", "checked_on",
                                           "reference") else "result"
    return DomainError(f"{str(CHECK_KINDS[kind]).split(' (')[0]}: {error.message}", f"{kind}_{field}")


def _walk(actor, guardian: Guardian, target: str, note: str = "") -> None:
    """Move the guardian along PATH up to ``target``, one audited status change at a time."""
    if guardian.status not in PATH:
        return
    for step in PATH[PATH.index(guardian.status) + 1:PATH.index(target) + 1]:
        gs.change_guardian_status(actor, guardian, step, note if step == target else "")


def record_checks(actor, guardian: Guardian, entries: dict[str, CheckEntry]) -> list[RecordCheck]:
    """Step 1: record both record checks at once — for each kind a new request (consent and
    request dates) or the result of the pending one, and the result when it is given.  A kind
    may be left empty only while it has a clear check in date.  An applicant moves to screening."""
    gs._require_manager(actor, guardian)
    if guardian.status == "retired":
        raise DomainError(gettext("활동 종료된 교육후견인은 심사할 수 없습니다."), None)
    today, months = today_kst(), current_app.config["CHECK_VALIDITY_MONTHS"]
    touched = []
    for kind in CHECK_KINDS:
        entry = entries.get(kind) or CheckEntry()
        pending = pending_check(guardian, kind)
        if entry.empty and pending is None:
            if valid_check(guardian, kind, today) is not None:
                continue
            raise DomainError(gettext("조회 요청일과 본인 동의일을 입력해 주세요."), f"{kind}_requested_on")
        if pending is not None and entry.result in ("", "pending"):
            continue  # still waiting for this kind's result: nothing new to record
        if entry.result not in CHECK_RESULTS:
            raise DomainError(gettext("조회 결과를 선택해 주세요."), f"{kind}_result")
        if entry.result == "clear" and isinstance(entry.checked_on, dt.date) and \
                gs.add_months(entry.checked_on, months) < today:
            raise DomainError(gettext("조회일로부터 %(n)d개월이 지나 유효기간이 끝난 조회입니다. 다시 조회한 결과를 "
                                      "기록해 주세요.", n=months), f"{kind}_checked_on")
        try:
            check = pending or gs.record_check_request(actor, guardian, kind, entry.consent_on, entry.requested_on)
            if entry.result != "pending":
                gs.record_check_result(actor, check, entry.result, entry.checked_on, entry.reference)
        except DomainError as refused:
            raise _prefixed(kind, refused) from None
        touched.append(check)
    if not touched:
        raise DomainError(gettext("새로 기록할 내용이 없습니다. 조회 요청이나 도착한 결과를 입력해 주세요."), None)
    if guardian.status == "applicant" and not any(c.result == "not_clear" for c in guardian.checks):
        _walk(actor, guardian, "screening")
    return touched


def record_training(actor, guardian: Guardian, hours) -> bool:
    """Step 2: record the basic training hours (audited as a profile change); once they reach
    the required hours an applicant or a guardian in screening becomes 교육 이수.  Returns
    whether the training is complete."""
    gs._require_manager(actor, guardian)
    if guardian.status == "retired":
        raise DomainError(gettext("활동 종료된 교육후견인입니다."), "training_hours")
    if hours is None or hours == "":
        raise DomainError(gettext("기본 교육 이수 시간을 숫자로 입력해 주세요."), "training_hours")
    gs.update_guardian(actor, guardian, {"training_hours": hours})
    done = guardian.training_hours >= training_hours_required()
    if done and guardian.status in ("applicant", "screening"):
        _walk(actor, guardian, "trained")
    return done


def activation_refusal(guardian: Guardian, day: dt.date | None = None) -> str | None:
    """Why the guardian may not start serving now, in Korean (None when they may)."""
    if guardian.status == "active":
        return gettext("이미 활동 중인 교육후견인입니다.")
    if guardian.status == "retired":
        return gettext("활동 종료된 교육후견인은 다시 활동할 수 없습니다.")
    missing = missing_requirements(guardian, day)[1:]  # not active yet: the first item is the status
    if missing:
        return gettext("활동을 시작하려면 먼저 갖추어야 합니다: %(missing)s", missing=" · ".join(missing))
    return None


def activate_guardian(actor, guardian: Guardian, note: str = "") -> None:
    """Step 3: the guardian starts serving (from any vetting state, or back from a suspension);
    refused with what is still missing (a check not clear, expired or pending, training)."""
    gs._require_manager(actor, guardian)
    refusal = activation_refusal(guardian)
    if refusal:
        raise DomainError(refusal, "note")
    if guardian.status == "suspended":
        gs.change_guardian_status(actor, guardian, "active", note)
    else:
        _walk(actor, guardian, "active", note)


def vetting_steps(guardian: Guardian, day: dt.date | None = None) -> list[dict]:
    """The three steps of the vetting panel, each with whether it is done."""
    day = day or today_kst()
    checks_done = all(valid_check(guardian, kind, day) is not None for kind in CHECK_KINDS) and not any(
        c.result == "not_clear" for c in guardian.checks)
    return [{"code": "checks", "done": checks_done},
            {"code": "training", "done": guardian.training_hours >= training_hours_required()},
            {"code": "activate", "done": guardian.status == "active"}]
