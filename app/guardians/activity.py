"""활동일지: guardians log their meetings; a concern (app/guardians/concerns.py) alerts the school
team and the coordinator at once.

Callers commit.  Monthly totals are counted in SQL for the district coordinator.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from flask_babel import gettext
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, or_, select

from ..audit.services import record
from ..cases.chronology import add_event
from ..db import today_kst
from ..domain import DomainError, NotPermitted
from ..exports import write_xlsx
from ..extensions import db
from ..i18n import date_words, language
from ..words import month_text
from .concerns import clean_description, raise_concern
from .eligibility import missing_requirements
from .models import ACTIVITY_KINDS, ActivityLog, Assignment, Guardian

MINUTES_MIN, MINUTES_MAX = 1, 600
NOTES_MAX = 2000


def kst_date(moment: dt.datetime | None) -> dt.date | None:
    """The Seoul calendar day of a naive-UTC timestamp."""
    return (moment + dt.timedelta(hours=9)).date() if moment else None


def check_activity(assignment: Assignment, actor, *, occurred_on, minutes, kind, notes: str = "",
                   concern: bool = False, concern_description: str = "") -> None:
    """Raise the first broken rule of a new log line (NotPermitted for someone else's assignment)."""
    guardian = assignment.guardian
    if actor is None or guardian.user_id is None or actor.id != guardian.user_id:
        raise NotPermitted(_("본인에게 배정된 학생의 활동만 기록할 수 있습니다."))
    if assignment.status != "active":
        raise DomainError(_("활동 중인 배정에만 활동일지를 쓸 수 있습니다 (현재: %(status)s).",
                            status=assignment.status_label))
    missing = missing_requirements(guardian)
    if missing:
        raise DomainError(_("활동 자격 요건을 충족하지 않아 기록할 수 없습니다: %(missing)s", missing="; ".join(missing)))
    today = today_kst()
    if not isinstance(occurred_on, dt.date):
        raise DomainError(_("활동 날짜를 입력해 주세요."), "occurred_on")
    if occurred_on > today:
        raise DomainError(gettext("활동 날짜는 오늘이나 그 전이어야 합니다."), "occurred_on")
    accepted = kst_date(assignment.accepted_at)
    if accepted and occurred_on < accepted:
        raise DomainError(gettext("활동 날짜는 배정을 수락한 %(day)s부터 오늘까지 중에서 골라 주세요.",
                                  day=date_words(accepted)), "occurred_on")
    if not isinstance(minutes, int) or not MINUTES_MIN <= minutes <= MINUTES_MAX:
        raise DomainError(_("활동 시간은 %(low)d분에서 %(high)d분 사이로 입력해 주세요.", low=MINUTES_MIN, high=MINUTES_MAX),
                          "minutes")
    if kind not in ACTIVITY_KINDS:
        raise DomainError(_("활동 유형을 선택해 주세요."), "kind")
    if len(notes or "") > NOTES_MAX:
        raise DomainError(_("활동 내용이 너무 깁니다."), "notes")
    if concern:
        clean_description(concern_description)


def log_activity(assignment: Assignment, actor, *, occurred_on: dt.date, minutes: int, kind: str,
                 notes: str = "", concern: bool = False, concern_description: str = "") -> ActivityLog:
    """Record one meeting by the assignment's own, eligible guardian; a concern (which needs a
    description of at least a sentence) alerts the school team and the coordinators at once."""
    check_activity(assignment, actor, occurred_on=occurred_on, minutes=minutes, kind=kind, notes=notes,
                   concern=concern, concern_description=concern_description)
    case = assignment.case
    log = ActivityLog(assignment_id=assignment.id, case_id=case.id, guardian_id=assignment.guardian_id,
                      occurred_on=occurred_on, minutes=minutes, kind=kind, concern=bool(concern))
    log.notes = notes or ""
    db.session.add(log)
    db.session.flush()
    add_event(case, "assignment",
              _l("교육후견인 활동: %(day)s %(kind)s %(minutes)d분", day=occurred_on, kind=ACTIVITY_KINDS[kind],
                 minutes=minutes), actor=actor)
    record("activity_logged", obj=log, subject=case.student, actor=actor, details={"concern": bool(concern)})
    if concern:
        raise_concern(assignment, log, actor, concern_description)
    return log


# -- monthly totals for the coordinator -------------------------------------------------------

@dataclass(frozen=True)
class TotalsRow:
    guardian: Guardian
    meetings: int
    minutes: int

    @property
    def hours(self) -> float:
        return round(self.minutes / 60, 1)


def month_bounds(month: str) -> tuple[dt.date, dt.date]:
    """First and last day of 'YYYY-MM' (ValueError when malformed)."""
    first = dt.datetime.strptime(month, "%Y-%m").date().replace(day=1)
    following = (first + dt.timedelta(days=32)).replace(day=1)
    return first, following - dt.timedelta(days=1)


def monthly_totals(office_code: str, month: str) -> list[TotalsRow]:
    """Meetings and minutes per guardian of the office in the month; active guardians appear with 0."""
    first, last = month_bounds(month)
    sums = (select(ActivityLog.guardian_id.label("gid"), func.count(ActivityLog.id).label("meetings"),
                   func.coalesce(func.sum(ActivityLog.minutes), 0).label("minutes"))
            .where(ActivityLog.occurred_on >= first, ActivityLog.occurred_on <= last)
            .group_by(ActivityLog.guardian_id).subquery())
    rows = db.session.execute(
        select(Guardian, func.coalesce(sums.c.meetings, 0), func.coalesce(sums.c.minutes, 0))
        .outerjoin(sums, sums.c.gid == Guardian.id)
        .where(Guardian.office_code == office_code, or_(Guardian.status == "active", sums.c.gid.is_not(None)))
        .order_by(Guardian.id)).all()
    result = [TotalsRow(guardian, int(meetings), int(minutes)) for guardian, meetings, minutes in rows]
    return sorted(result, key=lambda r: (-r.minutes, r.guardian.name or ""))


def monthly_totals_xlsx(rows: list[TotalsRow], path, month: str = "") -> None:
    """Write the totals as one sheet through the one export writer (names become safe text,
    counts stay numbers); ``path`` is a file path (written atomically) or a binary stream."""
    def lines():
        for row in rows:
            yield [row.guardian.name or "", str(row.guardian.status_label), row.meetings, row.minutes, row.hours]
        yield [_("합계"), "", sum(r.meetings for r in rows), sum(r.minutes for r in rows),
               round(sum(r.minutes for r in rows) / 60, 1)]

    first = month_bounds(month)[0] if month else None
    heading = month_text(first.year, first.month, language()) if first else ""
    write_xlsx(path, [(_("활동실적 %(month)s", month=heading).strip(),
                       [_("교육후견인"), _("상태"), _("만남 횟수"), _("활동 시간(분)"), _("활동 시간(시간)")], lines())])
