"""My work from conferences: every open action item the user (or their school team or agency)
owns, overdue first, and every case review coming up, soonest first, a page at a time.  The
home panel shows the first few of each and links here."""
from __future__ import annotations

from flask import render_template, request
from flask_login import current_user
from flask_sqlalchemy.pagination import Pagination

from ... import permissions as p
from ...audit.services import record
from ...db import today_kst
from ...extensions import db
from ...pagination import page_arg
from .. import bp
from ..my_work import count_action_items, count_upcoming_reviews, my_action_items, my_upcoming_reviews

PER_PAGE = 30
#: ?show= -> the list it shows
LISTS = ("actions", "reviews")


class WorkPage(Pagination):
    """One page of a my-work list: ``fetch(limit, offset)`` for the rows, ``counter()`` for the
    total (``count`` is Pagination's own flag)."""

    def _query_items(self) -> list:
        return self._query_args["fetch"](self.per_page, self._query_offset)

    def _query_count(self) -> int:
        return self._query_args["counter"]()


@bp.get("/my-work")
@p.roles_required(*p.SCHOOL_ROLES, p.DISTRICT_COORDINATOR, p.GUARDIAN, p.AGENCY_COORDINATOR)
def my_work():
    """내 실행 과제 · 점검 예정: one list at a time (``?show=actions|reviews``), paged."""
    show = request.args.get("show") if request.args.get("show") in LISTS else LISTS[0]
    user, today = current_user._get_current_object(), today_kst()
    if show == "actions":
        page = WorkPage(page=page_arg(), per_page=PER_PAGE, error_out=False,
                        fetch=lambda limit, offset: my_action_items(user, today, limit, offset),
                        counter=lambda: count_action_items(user, today))
    else:
        page = WorkPage(page=page_arg(), per_page=PER_PAGE, error_out=False,
                        fetch=lambda limit, offset: my_upcoming_reviews(user, today, limit=limit, offset=offset),
                        counter=lambda: count_upcoming_reviews(user, today))
    if page.items:  # the lines name students: a view of personal data, recorded like a list page
        record("conference_work_viewed", object_type="conference_work", object_id=show,
               details={"page": page.page, "shown": len(page.items)})
    html = render_template("conferences/my_work.html", page=page, show=show, lists=LISTS, today=today)
    db.session.commit()  # after rendering: the rows stay loaded
    return html
