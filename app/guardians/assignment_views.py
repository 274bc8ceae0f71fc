"""The coordinator's assignment screen (/guardians/assignments/<uid>): suspend, reactivate or end
one assignment, and see a guardian's request to end it.  Only the coordinators of the case's
office open it; everyone else gets an audited 404."""
from __future__ import annotations

from flask import flash, redirect, render_template, url_for
from flask_babel import gettext
from flask_login import current_user
from sqlalchemy import select

from .. import permissions as p
from ..audit.services import record
from ..cases.loaders import UID_MAX, deny_not_found
from ..extensions import db
from ..form_actions import save_or_show
from . import bp
from .assignment_forms import EndForm, ReactivateForm, SuspendForm
from .assignments import (COUNTED, close_assignment, is_office_coordinator, reactivate_assignment,
                          reactivation_refusal, suspend_assignment)
from .eligibility import missing_requirements
from .models import CLOSE_REASONS, SUSPEND_REASONS, Assignment

coordinators = p.roles_required(p.DISTRICT_COORDINATOR)


def load_assignment_or_404(uid) -> Assignment:
    """The assignment if the current user coordinates its case's office; otherwise an audited 404."""
    assignment = None
    if uid and len(str(uid)) <= UID_MAX:
        assignment = db.session.execute(select(Assignment).where(Assignment.uid == str(uid))).scalar_one_or_none()
    if assignment is None or not is_office_coordinator(current_user, assignment.case):
        deny_not_found(Assignment.__tablename__, uid)
    return assignment


def _forms(assignment: Assignment, given: dict) -> dict:
    """The blank forms for what may be done now; ``given`` replaces one (a form with errors)."""
    forms = {}
    if assignment.status == "active":
        forms["suspend"] = SuspendForm(formdata=None, prefix="s")
    if assignment.status == "suspended":
        forms["reactivate"] = ReactivateForm(formdata=None, prefix="r")
    if assignment.status in COUNTED:
        forms["end"] = EndForm(formdata=None, prefix="e", seen=assignment.status)
    return {**forms, **given}


def render_manage(assignment: Assignment, status: int = 200, forms: dict | None = None):
    """The assignment page; every showing of it is an audited view of the student's data."""
    case = assignment.case
    html = render_template(
        "guardians/manage.html", assignment=assignment, case=case, student=case.student,
        guardian=assignment.guardian, forms=_forms(assignment, forms or {}),
        suspend_reasons=SUSPEND_REASONS, close_reasons=CLOSE_REASONS,
        missing=missing_requirements(assignment.guardian),
        refusal=reactivation_refusal(assignment) if assignment.status == "suspended" else None)
    record("assignment_viewed", obj=assignment, subject=case.student,
           details={"end_requested": assignment.end_requested_at is not None})
    db.session.commit()
    return html, status


@bp.get("/assignments/<uid>")
@coordinators
def manage(uid: str):
    """One assignment: guardian, student, state, the guardian's end request and the actions."""
    return render_manage(load_assignment_or_404(uid))


def _back(assignment: Assignment, form) -> str:
    where = form.back.data or "assignment"
    if where == "guardian":
        return url_for("guardians.detail", uid=assignment.guardian.uid)
    if where == "case":
        return url_for("cases.view", uid=assignment.case.uid)
    return url_for("guardians.manage", uid=assignment.uid)


def _act(assignment: Assignment, key: str, form, run, message: str):
    """Run one action; a refusal shows the assignment page again (400) with nothing saved."""
    if form.validate_on_submit():
        ok, _ = save_or_show(form, run)
        if ok:
            flash(message, "success")
            return redirect(_back(assignment, form))
    return render_manage(assignment, 400, {key: form})


@bp.post("/assignments/<uid>/suspend")
@coordinators
def suspend(uid: str):
    """Pause an active assignment with a coded reason."""
    assignment = load_assignment_or_404(uid)
    form = SuspendForm(prefix="s")
    return _act(assignment, "suspend", form, lambda: suspend_assignment(assignment, current_user, form.reason.data),
                gettext("배정을 일시 중지했습니다. 교육후견인은 이 학생의 정보를 볼 수 없습니다."))


@bp.post("/assignments/<uid>/reactivate")
@coordinators
def reactivate(uid: str):
    """Resume a suspended assignment (refused, with what is missing, while the guardian is ineligible)."""
    assignment = load_assignment_or_404(uid)
    form = ReactivateForm(prefix="r")
    return _act(assignment, "reactivate", form, lambda: reactivate_assignment(assignment, current_user),
                gettext("배정을 재개했습니다."))


@bp.post("/assignments/<uid>/end")
@coordinators
def end(uid: str):
    """End an assignment (or withdraw a proposal) with a closure code and the may-rematch flag."""
    assignment = load_assignment_or_404(uid)
    form = EndForm(prefix="e")
    return _act(assignment, "end", form, lambda: close_assignment(
        assignment, current_user, form.reason.data, bool(form.rematchable.data), form.seen.data or None),
        gettext("배정을 종료했습니다."))
