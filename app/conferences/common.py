"""Small helpers the conference services share: Seoul time, links, the case's school team."""
from __future__ import annotations

import datetime as dt

from flask_babel import gettext as _, lazy_gettext as _l, lazy_pgettext
from sqlalchemy import select

from ..auth.models import User
from ..domain import DomainError
from ..extensions import db
from ..i18n import date_words
from ..permissions import SCHOOL_ROLES

KST = dt.timezone(dt.timedelta(hours=9))
TEXT_MAX = 4000
#: decisions that changed the case when they were recorded (an amendment cannot undo them)
APPLIED_DECISIONS = ("escalate", "close")
#: case statuses whose action items and reviews no longer belong on anyone's lists
FINISHED_CASES = ("closed", "not_selected", "withdrawn")


def to_utc(starts_at) -> dt.datetime:
    """An aware datetime, or a naive one meaning Seoul time, as naive UTC."""
    if not isinstance(starts_at, dt.datetime):
        raise DomainError(_("회의 날짜와 시간을 입력해 주세요."), "starts_at")
    aware = starts_at if starts_at.tzinfo else starts_at.replace(tzinfo=KST)
    return aware.astimezone(dt.timezone.utc).replace(tzinfo=None)


def kst_label(when_utc: dt.datetime) -> str:
    """'2026. 3. 5. 15:00' in Seoul time."""
    local = when_utc + dt.timedelta(hours=9)
    return f"{local.year}. {local.month}. {local.day}. {local:%H:%M}"


def kst_parts(when_utc: dt.datetime) -> tuple[dt.date, str]:
    """(day, 'HH:MM') in Seoul time: the parameters of a stored message (the day written for its reader)."""
    local = when_utc + dt.timedelta(hours=9)
    return local.date(), f"{local:%H:%M}"


def kst_words(when_utc: dt.datetime) -> str:
    """'2026. 3. 5. 15:00' / '5 Mar 2026 15:00' in Seoul time, in the page's language."""
    day, time = kst_parts(when_utc)
    return f"{date_words(day)} {time}"


def link(conference) -> str:
    """The conference page, as alerts link to it."""
    return f"/conferences/{conference.uid}"


def school_team(school_id: int) -> list[User]:
    """The active school team of a school, in a stable order."""
    return list(db.session.execute(select(User).where(
        User.role.in_(SCHOOL_ROLES), User.organisation_id == school_id, User.active.is_(True))
        .order_by(User.id)).scalars())


#: weekday and month words of a near date inside a stored message (rendered for each reader)
WEEKDAY_WORDS = (lazy_pgettext("weekday", "월"), lazy_pgettext("weekday", "화"), lazy_pgettext("weekday", "수"),
                 lazy_pgettext("weekday", "목"), lazy_pgettext("weekday", "금"), lazy_pgettext("weekday", "토"),
                 lazy_pgettext("weekday", "일"))
MONTH_WORDS = (lazy_pgettext("month", "1월"), lazy_pgettext("month", "2월"), lazy_pgettext("month", "3월"),
               lazy_pgettext("month", "4월"), lazy_pgettext("month", "5월"), lazy_pgettext("month", "6월"),
               lazy_pgettext("month", "7월"), lazy_pgettext("month", "8월"), lazy_pgettext("month", "9월"),
               lazy_pgettext("month", "10월"), lazy_pgettext("month", "11월"), lazy_pgettext("month", "12월"))


def short_day_message(day: dt.date):
    """A near date with its weekday for a stored message: "12월 8일 (화)" / "Tue 8 Dec"."""
    return _l("%(month)s %(day)d일 (%(weekday)s)", month=MONTH_WORDS[day.month - 1], day=day.day,
              weekday=WEEKDAY_WORDS[day.weekday()])


def due_message(due: dt.date, today: dt.date):
    """How a deadline stands, for a stored message: "3일 지남" / "오늘까지" / "2일 남음" (words.due_text)."""
    days = (due - today).days
    if days == 0:
        return lazy_pgettext("deadline", "오늘까지")
    if days < 0:
        return (lazy_pgettext("deadline, one day", "%(n)d일 지남", n=-days) if days == -1
                else lazy_pgettext("deadline", "%(n)d일 지남", n=-days))
    return (lazy_pgettext("deadline, one day", "%(n)d일 남음", n=days) if days == 1
            else lazy_pgettext("deadline", "%(n)d일 남음", n=days))
