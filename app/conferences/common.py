"""Small helpers the conference services share: Seoul time, links, the case's school team."""
from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from ..auth.models import User
from ..domain import DomainError
from ..extensions import db
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
        raise DomainError("회의 날짜와 시간을 입력해 주세요.", "starts_at")
    aware = starts_at if starts_at.tzinfo else starts_at.replace(tzinfo=KST)
    return aware.astimezone(dt.timezone.utc).replace(tzinfo=None)


def kst_label(when_utc: dt.datetime) -> str:
    """'2026. 3. 5. 15:00' in Seoul time."""
    local = when_utc + dt.timedelta(hours=9)
    return f"{local.year}. {local.month}. {local.day}. {local:%H:%M}"


def link(conference) -> str:
    """The conference page, as alerts link to it."""
    return f"/conferences/{conference.uid}"


def school_team(school_id: int) -> list[User]:
    """The active school team of a school, in a stable order."""
    return list(db.session.execute(select(User).where(
        User.role.in_(SCHOOL_ROLES), User.organisation_id == school_id, User.active.is_(True))
        .order_by(User.id)).scalars())
