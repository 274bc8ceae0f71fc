"""The referral state machine of DESIGN.md: its transitions, which side may start each, and the
check every referral service runs first (side, then status).  Pure rules: no writes."""
from __future__ import annotations

from dataclasses import dataclass

from flask_babel import gettext, lazy_pgettext

from ..domain import DomainError, NotPermitted
from ..permissions import AGENCY_COORDINATOR, DISTRICT_COORDINATOR, SCHOOL_ROLES
from ..words import particle
from .models import REFERRAL_STATUSES, Referral

SCHOOL, AGENCY = "school", "agency"


@dataclass(frozen=True)
class Transition:
    sources: tuple[str, ...]
    target: str
    side: str
    label: object  # a lazy message


#: the referral lifecycle of DESIGN.md
TRANSITIONS: dict[str, Transition] = {  # labels: the action, not the status of the same word
    "send": Transition(("draft",), "sent", SCHOOL, lazy_pgettext("referral action", "의뢰 보내기")),
    "accept": Transition(("sent",), "accepted", AGENCY, lazy_pgettext("referral action", "접수")),
    "decline": Transition(("sent",), "declined", AGENCY, lazy_pgettext("referral action", "거절")),
    "start_service": Transition(("accepted",), "in_service", AGENCY,
                                lazy_pgettext("referral action", "서비스 시작")),
    "complete": Transition(("in_service",), "completed", AGENCY, lazy_pgettext("referral action", "완료")),
    "fail": Transition(("in_service",), "failed", AGENCY, lazy_pgettext("referral action", "종결(미완료)")),
    "cancel": Transition(("draft", "sent", "accepted", "in_service"), "cancelled", SCHOOL,
                         lazy_pgettext("referral action", "의뢰 취소")),
}
#: the audit action of each transition
ACTIONS = {"send": "referral_sent", "accept": "referral_accepted", "decline": "referral_declined",
           "start_service": "referral_service_started", "complete": "referral_completed",
           "fail": "referral_failed", "cancel": "referral_cancelled"}


def is_school_side(actor, case) -> bool:
    """The school team of the case's school, or the coordinator of its district office."""
    if actor is None or not getattr(actor, "is_authenticated", False):
        return False
    if actor.role in SCHOOL_ROLES:
        return actor.organisation_id == case.school_id
    return (actor.role == DISTRICT_COORDINATOR and actor.organisation is not None
            and actor.organisation.office_code == case.school.office_code)


def is_agency_side(actor, referral: Referral) -> bool:
    """A coordinator of the agency the referral went to."""
    return bool(actor is not None and actor.role == AGENCY_COORDINATOR
                and actor.organisation_id == referral.agency_id)


def require_side(referral: Referral, side: str, actor) -> None:
    ok = is_school_side(actor, referral.case) if side == SCHOOL else is_agency_side(actor, referral)
    if not ok:
        raise NotPermitted(gettext("이 의뢰를 처리할 권한이 없습니다."))


def check_referral_transition(referral: Referral, name: str, actor) -> None:
    """Refuse a wrong side first, then a status the transition does not start from."""
    rule = TRANSITIONS[name]
    require_side(referral, rule.side, actor)
    if referral.status not in rule.sources:
        raise DomainError(gettext("%(status)s 상태에서는 %(action)s%(eul)s 할 수 없습니다.",
                                  status=f"'{REFERRAL_STATUSES[referral.status]}'", action=f"'{rule.label}'",
                                  eul=particle(f"'{rule.label}'", "을/를")), "status")


def allowed_referral_transitions(referral: Referral, actor) -> list[str]:
    """Transitions the actor may start from the referral's current status."""
    result = []
    for name, rule in TRANSITIONS.items():
        try:
            check_referral_transition(referral, name, actor)  # a page view: no lock
        except DomainError:
            continue
        result.append(name)
    return result
