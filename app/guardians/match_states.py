"""What the matching pages say about each candidate: its real state, from the case's assignments,
the guardian's load and the case's free places — never "배정 완료" for a guardian nobody chose.

    proposed   제안됨 · 수락 대기   the guardian has this case's proposal and has not answered
    active     활동 중              the guardian accepted and works with the student
    suspended  일시 중지            paused (a lapsed check, a suspension, consent)
    declined   거절                 the guardian declined this student (not proposed again)
    closed     종료                 ended or withdrawn
    full       정원 참              the guardian's places are all taken
    not_chosen 선택 안 됨           the case has all the guardians it needs; this one was not chosen
    available  제안 가능            may be proposed now
"""
from __future__ import annotations

from dataclasses import dataclass

from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from flask_babel import lazy_pgettext
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from ..extensions import db
from ..i18n import N_
from .models import Assignment

CANDIDATE_STATES = {"proposed": _l("제안됨 · 수락 대기"), "active": lazy_pgettext("assignment status", "활동 중"),
                    "suspended": lazy_pgettext("assignment status", "일시 중지"),
                    "declined": lazy_pgettext("assignment status", "거절"),
                    "closed": lazy_pgettext("assignment status", "종료"), "full": _l("정원 참"),
                    "not_chosen": _l("선택 안 됨"), "available": _l("제안 가능")}
#: why a candidate without an assignment cannot be proposed, shown beside the state
STATE_HINTS = {"full": N_("담당 가능 인원이 모두 찼습니다."),
               "not_chosen": N_("이 사례에 필요한 교육후견인이 모두 제안·배정되었습니다.")}
#: the badge of each state (KRDS badge classes)
STATE_BADGES = {"active": "bg-primary", "proposed": "outline-primary", "declined": "outline-danger",
                "suspended": "outline-warning", "available": "bg-light-success"}


def candidate_state(assignment_status: str | None, load: int, capacity: int, places: int) -> str:
    """The state code of a candidate: its assignment on the case first, then whether the guardian
    has a free place, then whether the case still needs someone."""
    if assignment_status:
        if assignment_status not in CANDIDATE_STATES:
            raise ValueError(f"unknown assignment status {assignment_status}")
        return assignment_status
    if load >= capacity:
        return "full"
    if places <= 0:
        return "not_chosen"
    return "available"


@dataclass
class CandidateState:
    code: str

    @property
    def label(self) -> str:
        return str(CANDIDATE_STATES[self.code])

    @property
    def hint(self) -> str:
        return gettext(STATE_HINTS[self.code]) if self.code in STATE_HINTS else ""

    @property
    def badge(self) -> str:
        return STATE_BADGES.get(self.code, "bg-light-gray")

    @property
    def proposable(self) -> bool:
        return self.code == "available"


def case_assignments(case) -> list[Assignment]:
    """Every assignment of the case (any state), the current ones first, with their guardians."""
    from .assignments import COUNTED
    return list(db.session.execute(
        select(Assignment).where(Assignment.case_id == case.id).options(joinedload(Assignment.guardian))
        .order_by(Assignment.status.in_(COUNTED).desc(), Assignment.id.desc())).scalars())


def suggestion_states(suggestions, places: int) -> dict[int, CandidateState]:
    """Guardian id -> state of each ranked suggestion (suggestions never hold a guardian already on
    the case: matching bars them, so their state comes from load and places)."""
    return {s.guardian.id: CandidateState(candidate_state(None, s.load, s.guardian.capacity, places))
            for s in suggestions}


def assignment_states(assignments) -> dict[int, CandidateState]:
    """Assignment id -> state of each of the case's assignments."""
    return {a.id: CandidateState(candidate_state(a.status, 0, 1, 0)) for a in assignments}
