"""Who may serve: the one rule every guardian path checks (propose, accept, reactivate, keep).

A guardian is eligible on a day only when active, trained (basic training hours done) and both
record checks — 성범죄 경력 (아청법 제56조) and 아동학대 관련 범죄 전력 (아동복지법 제29조의3) —
are clear and valid on that day.
"""
from __future__ import annotations

import datetime as dt

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import and_, exists

from ..db import today_kst
from .models import CHECK_KINDS, Guardian, RecordCheck


def training_hours_required() -> int:
    return current_app.config["GUARDIAN_TRAINING_HOURS"]


def missing_requirements(guardian: Guardian, day: dt.date | None = None) -> list[str]:
    """What keeps the guardian from serving on ``day``, in the reader's language (empty when eligible)."""
    day = day or today_kst()
    missing = []
    if guardian.status != "active":
        missing.append(_("활동 상태가 아닙니다 (%(status)s).", status=guardian.status_label))
    if guardian.training_hours < training_hours_required():
        missing.append(_("기본 교육 %(required)d시간 중 %(done)d시간 이수", required=training_hours_required(),
                         done=guardian.training_hours))
    for kind, label in CHECK_KINDS.items():
        checks = [c for c in guardian.checks if c.kind == kind]
        if any(c.result == "not_clear" for c in checks):
            missing.append(_("%(check)s: 결격 사유 있음", check=label))
        elif not any(c.valid_on(day) for c in checks):
            if any(c.result == "clear" for c in checks):
                missing.append(_("%(check)s: 유효기간 만료", check=label))
            elif checks:
                missing.append(_("%(check)s: 결과 대기 중", check=label))
            else:
                missing.append(_("%(check)s: 조회 기록 없음", check=label))
    return missing


def is_eligible(guardian: Guardian, day: dt.date | None = None) -> bool:
    """True when the guardian may be proposed, accept, or stay active on ``day``."""
    return not missing_requirements(guardian, day)


def eligible_condition(day: dt.date | None = None):
    """The same rule as SQL on Guardian, for lists and matching (no per-row Python checks)."""
    day = day or today_kst()
    clauses = [Guardian.status == "active", Guardian.training_hours >= training_hours_required()]
    for kind in CHECK_KINDS:
        clauses.append(exists().where(RecordCheck.guardian_id == Guardian.id, RecordCheck.kind == kind,
                                      RecordCheck.result == "clear", RecordCheck.valid_until >= day))
    # a not-clear result of either kind disqualifies even beside an older clear one
    clauses.append(~exists().where(RecordCheck.guardian_id == Guardian.id, RecordCheck.result == "not_clear"))
    return and_(*clauses)
