"""The hard rules of a guardian–case pair, as reads: places taken and left, eligibility, conflicts
and history.  assignments.py enforces them under its locks; matching and the pages ask them."""
from __future__ import annotations

import datetime as dt

from flask_babel import gettext as _
from sqlalchemy import func, select

from ..cases.models import SupportCase
from ..db import today_kst
from ..domain import DomainError
from ..extensions import db
from ..permissions import DISTRICT_COORDINATOR
from .eligibility import missing_requirements
from .models import Assignment, Guardian, GuardianConflict

#: statuses that hold one of the guardian's places and one of the case's
COUNTED = ("proposed", "active", "suspended")
#: a student has at most this many guardians (DESIGN: 1–4)
MAX_GUARDIANS_PER_CASE = 4
#: case statuses in which a guardian may be proposed
MATCHABLE_CASE_STATUSES = ("selected", "planning", "in_support", "monitoring")
#: the longest reason a guardian may give when asking to end an assignment
END_NOTE_MAX = 500


def is_office_coordinator(actor, case: SupportCase) -> bool:
    """The district coordinator of the office that covers the case's school."""
    return bool(actor is not None and actor.role == DISTRICT_COORDINATOR and actor.organisation is not None
                and case.school.office_code == actor.organisation.office_code)


def guardian_load(guardian_id: int, excluding: int | None = None) -> int:
    """How many places of the guardian are taken (proposed, active or suspended)."""
    query = select(func.count(Assignment.id)).where(Assignment.guardian_id == guardian_id,
                                                     Assignment.status.in_(COUNTED))
    if excluding is not None:
        query = query.where(Assignment.id != excluding)
    return db.session.execute(query).scalar_one()


def require_eligible(guardian: Guardian, day: dt.date) -> None:
    missing = missing_requirements(guardian, day)
    if missing:
        raise DomainError(_("활동 요건을 갖추지 못한 교육후견인입니다: %(missing)s", missing="; ".join(missing)),
                          "guardian")


def require_capacity(guardian: Guardian, excluding: int | None = None) -> None:
    if guardian_load(guardian.id, excluding) >= guardian.capacity:
        raise DomainError(_("교육후견인의 담당 가능 인원(%(n)d명)이 모두 찼습니다.", n=guardian.capacity), "guardian")


def pair_refusal(case: SupportCase, guardian: Guardian, day: dt.date | None = None) -> str | None:
    """The first hard rule that forbids this pair, in the reader's language (None when the pair is allowed)."""
    day = day or today_kst()
    if guardian.office_code != case.school.office_code:
        return _("다른 교육지원청 소속의 교육후견인입니다.")
    missing = missing_requirements(guardian, day)
    if missing:
        return _("활동 요건을 갖추지 못한 교육후견인입니다: %(missing)s", missing="; ".join(missing))
    if guardian_load(guardian.id) >= guardian.capacity:
        return _("교육후견인의 담당 가능 인원(%(n)d명)이 모두 찼습니다.", n=guardian.capacity)
    if db.session.execute(select(GuardianConflict.id).filter_by(guardian_id=guardian.id,
                                                               school_id=case.school_id)).first():
        return _("학생의 학교와 이해관계가 있는 교육후견인입니다.")
    history = db.session.execute(
        select(Assignment.case_id, Assignment.status, Assignment.rematchable)
        .join(SupportCase, SupportCase.id == Assignment.case_id)
        .where(Assignment.guardian_id == guardian.id, SupportCase.student_id == case.student_id)).all()
    for case_id, status, rematchable in history:
        if case_id == case.id and status in COUNTED:
            return _("이미 이 사례에 제안되었거나 배정된 교육후견인입니다.")
        if status == "declined":
            return _("이 학생과의 연계를 거절한 적이 있는 교육후견인입니다.")
        if status == "closed" and not rematchable:
            return _("이 학생과 다시 연계하지 않기로 한 교육후견인입니다.")
    return None


def case_places(case: SupportCase) -> int:
    """How many more guardians the case may get (needed, at most 4, minus those it has)."""
    taken = db.session.execute(select(func.count(Assignment.id)).where(
        Assignment.case_id == case.id, Assignment.status.in_(COUNTED))).scalar_one()
    return max(0, min(case.guardians_needed, MAX_GUARDIANS_PER_CASE) - taken)
