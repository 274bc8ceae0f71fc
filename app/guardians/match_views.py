"""Coordinator screens for matching: ranked suggestions for one case, and the office batch.

Only the district coordinator of the case's office may use them: others get an audited 403
(a case outside their scope an audited 404).  Register with ``from . import match_views``.
"""
from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext
from flask_login import current_user
from ..form_fields import BaseForm
from sqlalchemy import select
from wtforms import HiddenField
from wtforms.validators import DataRequired

from ..audit.services import record
from ..cases.loaders import load_case_or_404
from ..domain import DomainError, NotPermitted
from ..extensions import db
from ..permissions import DISTRICT_COORDINATOR, roles_required
from . import bp
from .assignments import case_places, is_office_coordinator, propose_assignment
from .match_states import assignment_states, case_assignments, suggestion_states
from .matching import batch_proposal, confirm_batch, explain, ranked_suggestions
from .models import Guardian

#: suggestions shown on one page (the best ones; the list is ranked)
SHOWN = 30


class ProposeForm(BaseForm):
    guardian = HiddenField(validators=[DataRequired()])


class BatchForm(BaseForm):
    """The selected cases come as repeated ``case`` values; the ``all`` button takes every pair."""


def _coordinator_case(uid: str):
    case = load_case_or_404(uid)
    if not is_office_coordinator(current_user, case):
        abort(403)
    return case


def _render_suggestions(case, status: int = 200, error: str | None = None):
    try:
        found, total = ranked_suggestions(case, SHOWN)
    except DomainError as refused:
        found, total, error = [], 0, error or refused.message
    places, on_case = case_places(case), case_assignments(case)
    html = render_template("guardians/suggestions.html", case=case, student=case.student, suggestions=found,
                           total=total, places=places, error=error, form=ProposeForm(formdata=None),
                           assignments=on_case, assignment_states=assignment_states(on_case),
                           states=suggestion_states(found, places))
    record("guardian_suggestions_viewed", obj=case, subject=case.student,
           details={"shown": len(found), "error": bool(error)})
    db.session.commit()
    return html, status


@bp.get("/match/<uid>", endpoint="suggestions")
@roles_required(DISTRICT_COORDINATOR)
def suggestions_page(uid: str):
    """Ranked guardians for one case, each with its explained score."""
    return _render_suggestions(_coordinator_case(uid))


@bp.post("/match/<uid>/propose")
@roles_required(DISTRICT_COORDINATOR)
def propose(uid: str):
    """Propose one suggested guardian for the case."""
    case = _coordinator_case(uid)
    form = ProposeForm()
    guardian = None
    if form.validate():
        guardian = db.session.execute(select(Guardian).where(Guardian.uid == form.guardian.data[:36])).scalar_one_or_none()
    if guardian is None:
        return _render_suggestions(case, 400, gettext("제안할 교육후견인을 찾을 수 없습니다."))
    try:
        score, parts = explain(case, guardian)
        propose_assignment(case, guardian, current_user, score, parts)
    except NotPermitted:
        db.session.rollback()
        abort(403)
    except DomainError as refused:
        db.session.rollback()
        return _render_suggestions(case, 400, refused.message)
    db.session.commit()
    flash(gettext("교육후견인에게 연계를 제안했습니다. 수락하면 활동이 시작됩니다."), "success")
    return redirect(url_for("guardians.suggestions", uid=case.uid))


def _office_code() -> str:
    if current_user.organisation is None or not current_user.organisation.office_code:
        abort(403)
    return current_user.organisation.office_code


@bp.get("/match/batch")
@roles_required(DISTRICT_COORDINATOR)
def batch():
    """The exactly optimal proposal for every waiting case of the coordinator's office."""
    result = batch_proposal(_office_code())
    html = render_template("guardians/batch.html", result=result, form=BatchForm(formdata=None))
    record("guardian_batch_viewed", object_type="district_office", object_id=result.office_code,
           details={"waiting": len(result.waiting), "pairs": len(result.pairs), "total": result.total})
    db.session.commit()
    return html


@bp.post("/match/batch", endpoint="confirm_batch")
@roles_required(DISTRICT_COORDINATOR)
def confirm_batch_view():
    """Propose all pairs of the (recomputed) batch, or those of the selected cases."""
    form = BatchForm()
    if not form.validate():
        abort(400)
    result = batch_proposal(_office_code())
    uids = set(request.form.getlist("case"))
    if not request.form.get("all") and not uids:
        flash(gettext("제안할 사례를 선택해 주세요."), "error")
        return redirect(url_for("guardians.batch"))
    selected = None if request.form.get("all") else [p.case.id for p in result.pairs if p.case.uid in uids]
    try:
        made = confirm_batch(result, current_user, selected)
    except DomainError as refused:
        db.session.rollback()
        flash(gettext("일괄 제안을 저장하지 못했습니다: %(reason)s", reason=refused.message), "error")
        return redirect(url_for("guardians.batch"))
    db.session.commit()
    flash(gettext("교육후견인 연계 %(n)d건을 제안했습니다.", n=len(made)), "success")
    return redirect(url_for("guardians.batch"))
