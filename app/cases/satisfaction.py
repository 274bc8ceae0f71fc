"""Satisfaction at the end of support (만족도 조사): when a case has closed, the school team
records how satisfied the student and the parent were (1–5) with an optional comment (encrypted).

The statistics pages show the scores as a KPI (reports/); the comment never leaves the case."""
from __future__ import annotations

import datetime as dt
from typing import Optional

from flask_babel import gettext, lazy_gettext as _l
from sqlalchemy import Date, ForeignKey, Integer, String, UniqueConstraint, select
from sqlalchemy.orm import Mapped, mapped_column

from ..audit.services import record
from ..db import Ciphertext, EncryptedText, TimestampMixin, UidMixin, ciphertext_column, today_kst
from ..domain import DomainError, NotPermitted
from ..extensions import db
from ..permissions import SCHOOL_ROLES
from .chronology import add_event
from .models import SupportCase

SATISFACTION_PARTIES = {"student": _l("학생"), "parent": _l("보호자")}
SCORES = {5: _l("매우 만족"), 4: _l("만족"), 3: _l("보통"), 2: _l("불만족"), 1: _l("매우 불만족")}
#: a case whose support has ended (종결, 사후 관리) can be surveyed
SURVEYABLE_STATUSES = ("closed", "follow_up")
COMMENT_MAX = 1000


class CaseSatisfaction(UidMixin, TimestampMixin, db.Model):
    """One party's satisfaction with the support a closed case gave (one per party, editable)."""

    __tablename__ = "case_satisfaction"
    case_id: Mapped[int] = mapped_column(ForeignKey("support_case.id"), nullable=False, index=True)
    party: Mapped[str] = mapped_column(String(10), nullable=False)
    score: Mapped[int] = mapped_column(Integer, nullable=False)
    #: the day of the survey (KST): the statistics count it in this period
    surveyed_on: Mapped[dt.date] = mapped_column(Date, nullable=False, index=True)
    recorded_by_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), nullable=False)
    comment_enc: Mapped[Ciphertext] = ciphertext_column()
    comment = EncryptedText()

    __table_args__ = (UniqueConstraint("case_id", "party", name="uq_case_satisfaction_party"),)


def satisfaction_of(case: SupportCase) -> dict[str, Optional[CaseSatisfaction]]:
    """{party: its survey or None}, for the case page."""
    found = {s.party: s for s in db.session.scalars(select(CaseSatisfaction).filter_by(case_id=case.id))}
    return {party: found.get(party) for party in SATISFACTION_PARTIES}


def record_satisfaction(case: SupportCase, actor, *, party: str, score, comment: str = "",
                        surveyed_on: dt.date | None = None) -> CaseSatisfaction:
    """Record (or correct) one party's satisfaction; the school team of a closed case only."""
    if actor is None or actor.role not in SCHOOL_ROLES or actor.organisation_id != case.school_id:
        raise NotPermitted(gettext("이 사례의 만족도를 기록할 권한이 없습니다."))
    if case.status not in SURVEYABLE_STATUSES:
        raise DomainError(gettext("만족도는 종결되었거나 사후 관리 중인 사례에만 기록할 수 있습니다."), "party")
    if party not in SATISFACTION_PARTIES:
        raise DomainError(gettext("응답자를 학생 또는 보호자 중에서 골라 주세요."), "party")
    try:
        score = int(score)
    except (TypeError, ValueError):
        score = 0
    if score not in SCORES:
        raise DomainError(gettext("만족도를 1점부터 5점 사이에서 골라 주세요 (1점 매우 불만족, 5점 매우 만족)."), "score")
    comment = (comment or "").strip()
    if len(comment) > COMMENT_MAX:
        raise DomainError(gettext("의견은 %(max)s자 이내로 입력해 주세요 (지금 %(n)s자).", max=f"{COMMENT_MAX:,}",
                                  n=f"{len(comment):,}"), "comment")
    day = surveyed_on or today_kst()
    if case.closed_on and day < case.closed_on:
        raise DomainError(gettext("조사일은 사례 종결일과 같거나 그 뒤여야 합니다."), "surveyed_on")
    if day > today_kst():
        raise DomainError(gettext("조사일은 오늘이나 그 전이어야 합니다."), "surveyed_on")
    survey = db.session.scalar(select(CaseSatisfaction).filter_by(case_id=case.id, party=party))
    corrected = survey is not None
    if survey is None:
        survey = CaseSatisfaction(case_id=case.id, party=party, recorded_by_id=actor.id)
        db.session.add(survey)
    survey.score, survey.comment, survey.surveyed_on, survey.recorded_by_id = score, comment or None, day, actor.id
    db.session.flush()
    label = SATISFACTION_PARTIES[party]
    line = (_l("%(party)s 만족도 수정: %(score)d점 (%(label)s)", party=label, score=score, label=SCORES[score]) if corrected
            else _l("%(party)s 만족도 기록: %(score)d점 (%(label)s)", party=label, score=score, label=SCORES[score]))
    add_event(case, "satisfaction", line, actor)
    record("case_satisfaction_recorded", obj=survey, subject=case.student, actor=actor,
           details={"party": party, "score": score, "corrected": corrected, "comment": bool(comment)})
    return survey
