"""The concern page (/guardians/concerns/<uid>): the school team and the coordinator read a
guardian's concern in full (audited) and acknowledge it with the response taken."""
from __future__ import annotations

from flask import flash, redirect, render_template, url_for
from flask_babel import gettext
from flask_login import current_user, login_required
from sqlalchemy import select

from .. import permissions as p
from ..audit.services import record
from ..cases.loaders import UID_MAX, deny_not_found
from ..cases.plan import PLANNABLE
from ..extensions import db
from ..form_actions import save_or_show
from . import bp
from .assignment_forms import AcknowledgeForm
from .concerns import acknowledge_concern, can_view_concern
from .models import ACTIVITY_KINDS, GuardianConcern


def load_concern_or_404(uid) -> GuardianConcern:
    """The concern if the current user may read it; otherwise an audited 404 (a guardian's own
    concern too: they see only its state, on their assignment page)."""
    concern = None
    if uid and len(str(uid)) <= UID_MAX:
        concern = db.session.execute(
            select(GuardianConcern).where(GuardianConcern.uid == str(uid))).scalar_one_or_none()
    if concern is None or not can_view_concern(current_user, concern):
        deny_not_found(GuardianConcern.__tablename__, uid)
    return concern


def render_concern(concern: GuardianConcern, status: int = 200, form: AcknowledgeForm | None = None):
    """Show the concern in full; recorded as a ``concern_viewed`` of the student's data."""
    case = concern.case
    school_side = p.can_edit_case(current_user, case)
    html = render_template(
        "guardians/concern.html", concern=concern, case=case, student=case.student, activity=concern.activity,
        guardian=concern.guardian, kinds=ACTIVITY_KINDS, school_side=school_side,
        can_plan=school_side and case.status in PLANNABLE,
        form=form or (AcknowledgeForm(formdata=None) if concern.status == "open" else None))
    record("concern_viewed", obj=concern, subject=case.student, details={"status": concern.status})
    db.session.commit()
    return html, status


@bp.get("/concerns/<uid>")
@login_required
def concern(uid: str):
    """One concern: what the guardian reported, on which activity, and what was done about it."""
    return render_concern(load_concern_or_404(uid))


@bp.post("/concerns/<uid>/acknowledge")
@login_required
def acknowledge(uid: str):
    """Acknowledge the concern with the response taken (and an optional plan action or note)."""
    concern = load_concern_or_404(uid)
    form = AcknowledgeForm()
    if form.validate_on_submit():
        ok, _ = save_or_show(form, lambda: acknowledge_concern(
            concern, current_user, response=form.response.data, goal=form.goal.data or "",
            action=form.action.data or "", note=form.note.data or "", note_kind=form.note_kind.data or "counselling"))
        if ok:
            flash(gettext("우려 보고를 확인하고 조치를 기록했습니다. 교육후견인에게 확인 사실을 알렸습니다."), "success")
            return redirect(url_for("guardians.concern", uid=concern.uid))
    return render_concern(concern, 400, form)
