"""Cancelling a scheduled conference with a reason, and reading an earlier version of a record."""
from __future__ import annotations

import datetime as dt

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext
from flask_login import current_user, login_required
from sqlalchemy import select

from ...audit.services import record
from ...cases.loaders import UID_MAX, deny_not_found
from ...extensions import db
from ...form_actions import save_or_show
from .. import access, bp
from .. import services as s
from ..forms import CancelForm
from ..models import ConferenceAmendment
from .pages import LABELS, load_conference_or_404


def _day(value: str | None) -> dt.date | None:
    return dt.date.fromisoformat(value) if value else None


@bp.route("/<uid>/cancel", methods=["GET", "POST"])
@login_required
def cancel(uid: str):
    """Cancel a scheduled conference with a reason; the participants are told."""
    conference = load_conference_or_404(uid)
    if not access.is_organiser_side(current_user, conference):
        abort(403)
    if conference.status != "scheduled":
        flash(gettext("예정된 회의만 취소할 수 있습니다."), "error")
        return redirect(url_for("conferences.view", uid=conference.uid))
    form = CancelForm()
    status = 200
    if request.method == "POST":
        status = 400
        if form.validate():
            saved, _ = save_or_show(form, lambda: s.cancel_conference(conference, current_user,
                                                                      reason=form.reason.data))
            if saved:
                flash(gettext("사례회의를 취소했습니다. 참석자에게 알렸습니다."), "success")
                return redirect(url_for("conferences.view", uid=conference.uid))
    html = render_template("conferences/cancel.html", conference=conference, form=form, labels=LABELS)
    db.session.commit()
    return html, status


@bp.get("/<uid>/versions/<amendment_uid>")
@login_required
def version(uid: str, amendment_uid: str):
    """The record as it was before one amendment (the organiser side only)."""
    conference = load_conference_or_404(uid)
    if not access.is_organiser_side(current_user, conference):
        abort(403)
    amendment = None
    if amendment_uid and len(amendment_uid) <= UID_MAX:
        amendment = db.session.execute(select(ConferenceAmendment).where(
            ConferenceAmendment.uid == amendment_uid)).scalar_one_or_none()
    if amendment is None or amendment.conference_id != conference.id:
        deny_not_found(ConferenceAmendment.__tablename__, amendment_uid)
    previous = amendment.previous or {}
    cases = {cc.case.uid: cc.case for cc in conference.cases}
    rows = [(cases[case_uid], {**values, "next_review_on": _day(values.get("next_review_on"))})
            for case_uid, values in (previous.get("cases") or {}).items() if case_uid in cases]
    html = render_template("conferences/version.html", conference=conference, amendment=amendment,
                           previous=previous, rows=rows, labels=LABELS)
    record("conference_version_viewed", obj=amendment, details={"conference": conference.uid})
    for case, _values in rows:
        record("conference_case_viewed", obj=conference, subject=case.student,
               details={"case": case.uid, "version": amendment.uid})
    db.session.commit()
    return html
