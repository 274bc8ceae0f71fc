"""Notification screens: every alert of the user with filters and pages, 확인 and 모두 확인."""
from __future__ import annotations

from flask import current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext, lazy_gettext as _l
from flask_login import current_user, login_required
from sqlalchemy import select

from ..audit.services import record
from ..cases.loaders import UID_MAX, deny_not_found
from ..extensions import db
from ..navigation import add_nav
from ..permissions import ADMIN, AGENCY_COORDINATOR, AUDITOR, DISTRICT_COORDINATOR, GUARDIAN, SCHOOL_LEAD, SCHOOL_STAFF
from . import bp
from .models import Notification
from .services import KINDS, AlertFilters, alerts_query, mark_all_read, unread_count
from .services import mark_read as mark_note_read

STATES = {"unread": _l("새 알림"), "all": _l("전체"), "resolved": _l("처리 완료")}

add_nav("notifications.index", _l("알림"), SCHOOL_STAFF, SCHOOL_LEAD, DISTRICT_COORDINATOR, GUARDIAN, AGENCY_COORDINATOR,
        AUDITOR, ADMIN)


def _safe_next(default: str) -> str:
    """Go back only to a path inside the app (never to another site)."""
    target = request.form.get("next") or ""
    return target if target.startswith("/") and not target.startswith("//") else default


@bp.get("/")
@login_required
def index():
    """모두 보기: the user's own alerts, newest first, filtered by state and kind, in pages."""
    state = request.args.get("state") if request.args.get("state") in STATES else "unread"
    kind = request.args.get("kind") if request.args.get("kind") in KINDS else ""
    page = db.paginate(alerts_query(current_user, AlertFilters(state=state, kind=kind)),
                       per_page=current_app.config["PAGE_SIZE"], error_out=False)
    html = render_template("notifications/list.html", page=page, state=state, kind=kind, states=STATES,
                           kinds=KINDS, unread=unread_count(current_user))
    # alert texts name students: recorded like every list page (filters only, never the texts)
    record("notification_list_viewed", object_type="notification",
           details={"state": state, "kind": kind, "page": page.page, "shown": len(page.items)})
    db.session.commit()
    return html


@bp.post("/<uid>/read")
@login_required
def mark_read(uid: str):
    """확인: mark one of the user's own alerts read; someone else's is an audited 404."""
    note = None
    if uid and len(uid) <= UID_MAX:
        note = db.session.execute(select(Notification).where(Notification.uid == uid)).scalar_one_or_none()
    if note is None or note.user_id != current_user.id:
        deny_not_found(Notification.__tablename__, uid)
    mark_note_read(note, current_user)
    db.session.commit()
    return redirect(_safe_next(url_for("home.index")))


@bp.post("/read-all")
@login_required
def read_all():
    """모두 확인: mark every unread alert of the user read."""
    count = mark_all_read(current_user)
    db.session.commit()
    flash(gettext("알림 %(n)d건을 확인했습니다.", n=count) if count else gettext("확인할 새 알림이 없습니다."), "success")
    return redirect(_safe_next(url_for("notifications.index")))


from . import mail_views  # noqa: E402,F401  (알림 받는 방법 and 메일 발송 현황 join this blueprint)
