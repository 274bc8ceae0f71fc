"""What the case's lifecycle does to its referrals: consent withdrawn or expired, case closed or
withdrawn.  Called by the receivers in reactions.py, inside the case change's transaction; the
case change itself was already allowed, so the referral side checks are not asked again.
"""
from __future__ import annotations

from flask_babel import gettext, lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from ..audit.services import record
from ..cases.chronology import add_event
from ..cases.consent import consent_covers
from ..db import utcnow
from ..domain import DomainError
from ..extensions import db
from ..lifecycle import CloseItem
from .models import Referral
from .referral_alerts import notify_agency, sent_on
from .referrals import TEXT_MAX, end_referral

#: statuses a consent withdrawal stops outright (the agency has not taken the referral on)
STOPPABLE = ("draft", "sent")
#: statuses in which the agency has the referral in hand: finish it or cancel it with a reason
OPEN_AT_AGENCY = ("sent", "accepted", "in_service")
#: the outcome note (stored as it is, in Korean: it is the referral's note) and the chronology words of a close
CLOSE_REASON = "사례 종결"
CLOSE_WORDS = _l("사례 종결")
CLOSE_HINT = _l("진행 중인 의뢰는 기관이 먼저 마무리하거나, 여기에 사유를 적어 취소해야 종결할 수 있습니다.")


def choice_key(referral: Referral) -> str:
    """The close form's field (and ``choices`` key) for one referral."""
    return f"referral_{referral.id}"


def _referrals(case, statuses) -> list[Referral]:
    return list(db.session.execute(select(Referral).where(Referral.case_id == case.id, Referral.status.in_(statuses))
                                   .options(joinedload(Referral.agency)).order_by(Referral.id)).scalars())


def close_items(case) -> list[CloseItem]:
    """One optional "cancel reason" question per referral the agency has in hand."""
    return [CloseItem(key=choice_key(r), label=_l("%(agency)s 의뢰 (%(status)s) 취소 사유", agency=r.agency.name,
                                                               status=r.status_label), kind="reason",
                      hint=CLOSE_HINT, required=False) for r in _referrals(case, OPEN_AT_AGENCY)]


def end_on_close(case, actor, choices: dict) -> list[Referral]:
    """Closing the case: drafts are cancelled; a referral the agency has in hand is cancelled
    with the reason written on the close form, and without one the close is refused (nothing
    is changed here before every referral was checked)."""
    open_ones = _referrals(case, OPEN_AT_AGENCY)
    reasons = {}
    for referral in open_ones:
        key = choice_key(referral)
        reason = (choices.get(key) or "").strip()
        if not reason:
            raise DomainError(gettext("%(agency)s 의뢰(%(status)s)가 진행 중입니다. 의뢰를 먼저 마무리하거나 "
                                      "취소 사유를 입력해 주세요.", agency=referral.agency.name,
                                      status=referral.status_label), key)
        if len(reason) > TEXT_MAX:
            raise DomainError(gettext("취소 사유가 너무 깁니다."), key)
        reasons[referral.id] = reason
    ended = []
    for referral in _referrals(case, ("draft",)):
        end_referral(referral, actor, CLOSE_REASON, cause="case_closed", text=CLOSE_WORDS)
        ended.append(referral)
    for referral in open_ones:
        end_referral(referral, actor, reasons[referral.id], cause="case_closed", text=CLOSE_WORDS,
                     agency_text=_l("%(school)s에서 %(day)s에 보낸 의뢰를 취소했습니다 (학교의 지원 종결). "
                                    "취소 사유는 의뢰 화면에서 볼 수 있습니다.", school=case.school.name,
                                    day=sent_on(referral)))
        ended.append(referral)
    return ended


def end_on_withdrawn_case(case, actor) -> list[Referral]:
    """A withdrawn request ends every referral not yet finished (the agency is told)."""
    ended = _referrals(case, ("draft", *OPEN_AT_AGENCY))
    for referral in ended:
        end_referral(referral, actor, "요청 철회", cause="case_withdrawn", text=_l("요청 철회"))
    return ended


def stop_referrals_on_withdrawal(case, actor, *, cause: str = "consent_withdrawn") -> list[Referral]:
    """After a withdrawal (or, with ``cause="consent_expired"``, an expiry; ``actor`` None): cancel
    draft and sent referrals whose agency is no longer covered and mark accepted ones (their items
    are hidden from now on); override referrals are kept."""
    referrals = db.session.execute(select(Referral).where(
        Referral.case_id == case.id, Referral.override_by_id.is_(None),
        Referral.consent_withdrawn_at.is_(None),
        Referral.status.in_((*STOPPABLE, "accepted", "in_service")))).scalars().all()
    expired = cause == "consent_expired"
    word = "동의 만료" if expired else "동의 철회"  # the outcome note, stored as it is
    words = _l("동의 만료") if expired else _l("동의 철회")
    touched = []
    for referral in referrals:
        if consent_covers(case, "agency_referral", referral.agency):
            continue
        referral.consent_withdrawn_at = utcnow()
        if referral.status in STOPPABLE:
            end_referral(referral, actor, f"{word}로 중단", cause=cause, text=words,
                         agency_text=_l("%(school)s에서 %(day)s에 보낸 의뢰가 %(why)s로 중단되었습니다.",
                                        school=case.school.name, day=sent_on(referral), why=words)
                         if referral.sent_at else None)
        else:
            add_event(case, "referral", _l("%(agency)s: %(why)s로 공유 정보 비공개", agency=referral.agency.name, why=words),
                      actor)
            record("referral_items_hidden", obj=referral, subject=case.student, actor=actor,
                   details={"status": referral.status, "cause": cause})
            notify_agency(referral, _l("%(school)s에서 %(day)s에 보낸 의뢰: %(why)s로 공유 정보가 더 이상 보이지 "
                                       "않습니다.", school=case.school.name, day=sent_on(referral), why=words))
        touched.append(referral)
    return touched

