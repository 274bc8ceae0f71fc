"""Needs and risk change over time: a further request joins the open case, a need is added or
resolved with its outcome, the risk level is re-rated with a reason.  Each writes a chronology
line and an audit event in the caller's transaction; callers commit."""
from __future__ import annotations

from flask_babel import gettext, lazy_gettext as _l

from ..audit.services import record
from ..db import today_kst
from ..domain import DomainError
from ..extensions import db
from .chronology import add_event, listing
from .models import DOMAINS, NEED_OUTCOMES, OPEN_STATUSES, REQUESTERS, RISK_LEVELS, CaseNeed, SupportCase
from .services import _require_school_team


def add_request_to_case(case: SupportCase, actor, *, requested_by: str, needs: list[tuple[str, str]],
                        summary: str = "") -> list[CaseNeed]:
    """A new request for a student with an open case joins that case: its new needs are added
    (a domain the case already has gets the new description appended) with a chronology line."""
    _require_school_team(actor, case.school_id)
    if requested_by not in REQUESTERS:
        raise DomainError(gettext("요청한 사람을 선택해 주세요."), "requested_by")
    if case.status not in OPEN_STATUSES:
        raise DomainError(gettext("진행 중인 사례에만 요청을 더할 수 있습니다."), "student")
    added, current = [], {need.domain: need for need in case.needs}
    for domain, description in needs:
        if domain not in DOMAINS or not (description or "").strip():
            raise DomainError(gettext("지원 영역과 내용을 확인해 주세요."), "needs")
        if domain in current:
            need = current[domain]
            need.description = "\n".join(filter(None, [need.description, description.strip()]))
        else:
            added.append(add_need(case, actor, domain=domain, description=description, log=False))
    who, domains, summary = REQUESTERS[requested_by], listing([DOMAINS[d] for d, _ in needs]), (summary or "").strip()
    text = (_l("추가 지원 요청 (%(who)s 요청, %(domains)s): %(summary)s", who=who, domains=domains, summary=summary)
            if summary else _l("추가 지원 요청 (%(who)s 요청, %(domains)s)", who=who, domains=domains))
    add_event(case, "request", text, actor)
    record("case_request_merged", obj=case, subject=case.student, actor=actor,
           details={"domains": [d for d, _ in needs], "requested_by": requested_by})
    return added


def add_need(case: SupportCase, actor, *, domain: str, description: str, log: bool = True) -> CaseNeed:
    """Add a need as the situation changes (a domain the case does not have yet)."""
    _require_school_team(actor, case.school_id)
    if case.status not in OPEN_STATUSES:
        raise DomainError(gettext("진행 중인 사례에만 지원 영역을 더할 수 있습니다."), "domain")
    if domain not in DOMAINS:
        raise DomainError(gettext("지원 영역을 선택해 주세요."), "domain")
    if any(need.domain == domain and need.resolved_on is None for need in case.needs):
        raise DomainError(gettext("이미 '%(domain)s' 영역이 있습니다.", domain=DOMAINS[domain]), "domain")
    if not (description or "").strip():
        raise DomainError(gettext("내용을 간단히 적어 주세요."), "description")
    need = CaseNeed(case_id=case.id, domain=domain, added_on=today_kst())
    need.description = description.strip()
    need.case = case
    db.session.add(need)
    db.session.flush()
    if log:
        add_event(case, "request", _l("지원 영역 추가: %(domain)s — %(text)s", domain=DOMAINS[domain],
                                      text=description.strip()), actor)
        record("case_need_added", obj=need, subject=case.student, actor=actor, details={"domain": domain})
    return need


def resolve_need(need: CaseNeed, case: SupportCase, actor, *, outcome: str, note: str = "") -> None:
    """Mark one need resolved with an outcome while the case goes on."""
    _require_school_team(actor, case.school_id)
    if need.case_id != case.id:
        raise DomainError(gettext("이 사례의 지원 영역이 아닙니다."), "outcome")
    if case.status not in OPEN_STATUSES:
        raise DomainError(gettext("진행 중인 사례에서만 영역을 마무리할 수 있습니다."), "outcome")
    if need.resolved_on is not None:
        raise DomainError(gettext("이미 마무리한 영역입니다."), "outcome")
    if outcome not in NEED_OUTCOMES:
        raise DomainError(gettext("결과를 선택해 주세요."), "outcome")
    need.outcome, need.resolved_on = outcome, today_kst()
    need.outcome_note = (note or "").strip() or None
    note_text = (note or "").strip()
    add_event(case, "request", _l("지원 영역 마무리: %(domain)s (%(outcome)s) — %(note)s", domain=need.domain_label,
                                  outcome=NEED_OUTCOMES[outcome], note=note_text) if note_text else
              _l("지원 영역 마무리: %(domain)s (%(outcome)s)", domain=need.domain_label, outcome=NEED_OUTCOMES[outcome]),
              actor)
    record("case_need_resolved", obj=need, subject=case.student, actor=actor,
           details={"domain": need.domain, "outcome": outcome})


def rerate_risk(case: SupportCase, actor, *, risk_level: str, reason: str) -> None:
    """Re-rate the risk level as the situation changes, with the reason."""
    _require_school_team(actor, case.school_id)
    if case.status not in OPEN_STATUSES:
        raise DomainError(gettext("진행 중인 사례에서만 위기 수준을 바꿀 수 있습니다."), "risk_level")
    if risk_level not in RISK_LEVELS:
        raise DomainError(gettext("위기 수준을 선택해 주세요."), "risk_level")
    if risk_level == case.risk_level:
        raise DomainError(gettext("이미 '%(level)s' 수준입니다.", level=RISK_LEVELS[risk_level][0]), "risk_level")
    if not (reason or "").strip():
        raise DomainError(gettext("바꾸는 이유를 입력해 주세요."), "reason")
    previous = case.risk_level
    case.risk_level, case.urgency = risk_level, RISK_LEVELS[risk_level][1]
    add_event(case, "status", _l("위기 수준 변경: %(old)s → %(new)s — %(reason)s", old=RISK_LEVELS[previous][0],
                                 new=RISK_LEVELS[risk_level][0], reason=reason.strip()), actor)
    record("case_risk_rerated", obj=case, subject=case.student, actor=actor,
           details={"from": previous, "to": risk_level})
