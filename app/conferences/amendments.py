"""Amending a recorded meeting: the organiser side corrects the minutes and the decisions with a
reason; the record as it was is kept (ConferenceAmendment.previous), so no version is lost.

What a decision already did to a case (an escalation sent, a case closed) is not undone here:
those decision codes cannot be changed, nor chosen, by an amendment.  Callers commit.
"""
from __future__ import annotations

import datetime as dt

from flask_babel import gettext as _, lazy_gettext as _l
from sqlalchemy import select

from ..audit.services import record
from ..cases.chronology import add_event
from ..db import today_kst, utcnow
from ..domain import DomainError, NotPermitted
from ..extensions import db
from ..locking import lock_for_change
from .access import is_organiser_side
from .common import APPLIED_DECISIONS, TEXT_MAX
from .models import DECISIONS, Conference, ConferenceAmendment, ConferenceCase
from .reviews import refresh_reviews

REASON_MAX = 1000


def snapshot(conference: Conference) -> dict:
    """The record as it stands: minutes and each case's decision, note and review date."""
    return {"minutes": conference.minutes,
            "cases": {cc.case.uid: {"decision": cc.decision, "note": cc.decision_note,
                                    "next_review_on": cc.next_review_on.isoformat() if cc.next_review_on else None}
                      for cc in conference.cases}}


def _check_case(cc: ConferenceCase, given: dict | None, today: dt.date) -> dict:
    """One case's amended decision, note and review date, normalised; refuses undoing an applied decision."""
    name = cc.case.student.name
    if not given or given.get("decision") not in DECISIONS:
        raise DomainError(_("%(name)s 학생 사례의 결정을 선택해 주세요.", name=name), "decisions")
    decision, note = given["decision"], (given.get("note") or "").strip()[:TEXT_MAX] or None
    if decision != cc.decision:
        if cc.decision in APPLIED_DECISIONS:
            raise DomainError(_("%(name)s 학생 사례의 '%(decision)s' 결정은 이미 사례에 반영되어 기록 수정으로 "
                                "바꿀 수 없습니다. 필요하면 사례 화면에서 처리해 주세요.", name=name,
                                decision=DECISIONS[cc.decision]), "decisions")
        if decision in APPLIED_DECISIONS:
            raise DomainError(_("'%(decision)s' 결정은 기록 수정으로 새로 내릴 수 없습니다. 사례 화면에서 "
                                "처리해 주세요.", decision=DECISIONS[decision]), "decisions")
    if decision == "escalate" and not note:
        raise DomainError(_("교육지원청 요청 사유를 메모에 적어 주세요."), "decisions")
    review = given.get("next_review_on")
    if review is not None and not isinstance(review, dt.date):
        raise DomainError(_("다음 점검일을 날짜로 입력해 주세요."), "decisions")
    if review != cc.next_review_on and review is not None and review < today:
        raise DomainError(_("다음 점검일은 오늘 이후여야 합니다."), "decisions")
    return {"decision": decision, "note": note, "review": review}


def amend_meeting(conference: Conference, actor, *, reason: str, minutes: str, decisions: dict) -> ConferenceAmendment:
    """Correct a held meeting's minutes and decisions with a reason, keeping the earlier version."""
    if not is_organiser_side(actor, conference):
        raise NotPermitted(_("이 회의 기록을 수정할 권한이 없습니다."))
    lock_for_change(conference)  # the organiser's colleague may be recording it right now
    if conference.status != "held":
        raise DomainError(_("결과가 기록된 회의만 수정할 수 있습니다."), "status")
    reason = (reason or "").strip()
    if not reason:
        raise DomainError(_("수정 사유를 입력해 주세요."), "reason")
    if len(reason) > REASON_MAX:
        raise DomainError(_("수정 사유가 너무 깁니다."), "reason")
    minutes = (minutes or "").strip()[:TEXT_MAX]
    if not minutes:
        raise DomainError(_("회의록을 입력해 주세요."), "minutes")
    decisions = {int(k): v for k, v in (decisions or {}).items()}
    if set(decisions) - {cc.case_id for cc in conference.cases}:
        raise DomainError(_("이 회의에서 다루지 않은 사례의 결정입니다."), "decisions")
    today = today_kst()
    checked = {cc.case_id: _check_case(cc, decisions.get(cc.case_id), today) for cc in conference.cases}
    changed = [cc for cc in conference.cases if (cc.decision, cc.decision_note, cc.next_review_on) != tuple(
        checked[cc.case_id][k] for k in ("decision", "note", "review"))]
    minutes_changed = minutes != conference.minutes
    if not changed and not minutes_changed:
        raise DomainError(_("바뀐 내용이 없습니다. 고칠 내용을 입력해 주세요."), "minutes")
    amendment = ConferenceAmendment(conference_id=conference.id, amended_at=utcnow(), amended_by_id=actor.id)
    amendment.reason, amendment.previous = reason, snapshot(conference)
    db.session.add(amendment)
    decision_changes = {}
    for cc in changed:
        new = checked[cc.case_id]
        if new["decision"] != cc.decision:
            decision_changes[cc.case.uid] = [cc.decision, new["decision"]]
        cc.decision, cc.decision_note, cc.next_review_on = new["decision"], new["note"], new["review"]
    conference.minutes = minutes
    db.session.flush()
    refresh_reviews(cc.case_id for cc in changed)
    for cc in conference.cases:  # the minutes cover every case discussed
        add_event(cc.case, "conference", _l("사례회의 기록 수정: %(reason)s", reason=reason), actor)
    record("conference_amended", obj=conference, actor=actor,
           details={"amendment": amendment.uid, "minutes": minutes_changed,
                    "cases": [cc.case.uid for cc in changed], "decisions": decision_changes})
    return amendment


def amendments_of(conference: Conference) -> list[ConferenceAmendment]:
    """The conference's amendments, oldest first."""
    return list(db.session.execute(select(ConferenceAmendment).where(
        ConferenceAmendment.conference_id == conference.id)
        .order_by(ConferenceAmendment.amended_at, ConferenceAmendment.id)).scalars())
