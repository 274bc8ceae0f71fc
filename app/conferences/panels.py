"""Home-page panels of the conferences feature, merged into each role's panels by home.views."""
from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import joinedload

from ..db import today_kst, utcnow
from ..extensions import db
from .access import conference_scope, my_action_items, my_upcoming_reviews
from .models import Conference

UPCOMING = 5
#: action items and reviews a home panel shows; the rest on the my-work page (conferences.my_work).
#: A district's panel listed 50 reviews, a school's 27 plus 20 items: a third of the home's time.
HOME_ROWS = 10


def upcoming_conferences(user, limit: int = UPCOMING) -> list[Conference]:
    """The next scheduled conferences the user organises or takes part in, soonest first."""
    return list(db.session.execute(select(Conference).where(
        conference_scope(user), Conference.status == "scheduled", Conference.starts_at >= utcnow())
        .options(joinedload(Conference.organiser))
        .order_by(Conference.starts_at, Conference.id).limit(limit)).scalars())


def conference_panels(user) -> dict:
    """The two panels' data: next conferences; my action items (overdue first) and upcoming reviews."""
    today = today_kst()
    return {"conferences_upcoming": upcoming_conferences(user),
            "conference_actions": my_action_items(user, today, limit=HOME_ROWS),
            "conference_reviews": my_upcoming_reviews(user, today, limit=HOME_ROWS), "conference_today": today}
