"""Guardian portal (/guardians/me): own assignments, accept or decline, activity logs; and the
coordinator's monthly activity totals (/guardians/totals)."""
from __future__ import annotations

import io

from flask import abort, flash, redirect, render_template, request, send_file, url_for
from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import select

from .. import permissions as p
from ..audit.services import record
from ..cases.loaders import UID_MAX, deny_not_found
from ..db import today_kst
from ..domain import DomainError, NotPermitted
from ..extensions import db
from ..form_actions import save_or_show
from ..navigation import add_nav
from ..pagination import page_arg
from . import bp
from .activity import month_bounds, monthly_totals, monthly_totals_xlsx
from .eligibility import missing_requirements
from .assignment_forms import EndRequestForm
from .models import ACTIVITY_KINDS, CONCERN_STATUSES, SUSPEND_REASONS, ActivityLog, Assignment, GuardianConcern
from .portal import card_for, portal_for, shared_goals
from .portal_forms import AcceptForm, ActivityForm, DeclineForm

add_nav("guardians.portal", _l("나의 활동"), p.GUARDIAN)
add_nav("guardians.totals", _l("후견인 활동 실적"), p.DISTRICT_COORDINATOR)

#: assignments a guardian can open; declined and closed ones are gone for them
OPENABLE = ("proposed", "active", "suspended")
LOGS_PER_PAGE = 20


def _own_assignment(uid: str) -> Assignment:
    """The current guardian's own assignment, or an audited 404 (another's looks like none)."""
    guardian = p.guardian_for_user(current_user)
    assignment = None
    if guardian is not None and uid and len(uid) <= UID_MAX:
        assignment = db.session.execute(select(Assignment).where(Assignment.uid == uid)).scalar_one_or_none()
    if assignment is None or assignment.guardian_id != guardian.id or assignment.status not in OPENABLE:
        deny_not_found(Assignment.__tablename__, uid)
    return assignment


@bp.get("/me")
@p.roles_required(p.GUARDIAN)
def portal():
    """The guardian's students (minimal fields), or why their activity is paused."""
    html = render_template("guardians/portal.html", portal=portal_for(current_user))
    db.session.commit()
    return html


def _concern_states(logs) -> dict[int, str]:
    """activity id -> the concern's status label, for the logs on this page (one query); the
    guardian sees whether their concern was acknowledged, never the response."""
    ids = [log.id for log in logs if log.concern]
    if not ids:
        return {}
    rows = db.session.execute(select(GuardianConcern.activity_id, GuardianConcern.status)
                              .where(GuardianConcern.activity_id.in_(ids))).all()
    return {activity_id: CONCERN_STATUSES[status] for activity_id, status in rows}


def render_assignment(assignment: Assignment, form: ActivityForm | None = None, status: int = 200,
                      end_form: EndRequestForm | None = None):
    """One assignment: the student's few fields, the log form and past logs; nothing while paused."""
    missing = missing_requirements(assignment.guardian)
    paused = bool(missing) or assignment.status == "suspended"
    context = {"assignment": assignment, "paused": paused, "missing": missing,
               "suspended_reason": SUSPEND_REASONS.get(assignment.suspended_reason or "other") if
               assignment.status == "suspended" else None,
               "refusals": list(form.form_errors) if form is not None else []}
    if assignment.status in ("active", "suspended") and assignment.end_requested_at is None:
        context["end_form"] = end_form or EndRequestForm(formdata=None)
    if not paused:
        context["card"] = card_for(assignment, shared_goals([assignment.case_id]).get(assignment.case_id, []))
        context["logs"] = db.paginate(
            select(ActivityLog).where(ActivityLog.assignment_id == assignment.id)
            .order_by(ActivityLog.occurred_on.desc(), ActivityLog.id.desc()),
            page=page_arg(), per_page=LOGS_PER_PAGE, error_out=False)
        context["concern_states"] = _concern_states(context["logs"].items)
        context["kinds"] = ACTIVITY_KINDS
        if assignment.status == "active":
            context["form"] = form or ActivityForm(formdata=None, occurred_on=today_kst())
        else:
            context["accept_form"], context["decline_form"] = AcceptForm(formdata=None), DeclineForm(formdata=None)
    html = render_template("guardians/assignment.html", **context)
    if not paused:
        record("guardian_assignment_viewed", obj=assignment, subject=assignment.case.student)
    db.session.commit()
    return html, status


@bp.get("/me/<uid>")
@p.roles_required(p.GUARDIAN)
def assignment(uid: str):
    """One of the guardian's own assignments."""
    return render_assignment(_own_assignment(uid))


@bp.post("/me/<uid>/log")
@p.roles_required(p.GUARDIAN)
def log(uid: str):
    """Save one activity log line; a refused rule shows the form again with nothing saved."""
    from .activity import log_activity
    assignment = _own_assignment(uid)
    form = ActivityForm()
    if form.validate():
        ok, _ = save_or_show(form, lambda: log_activity(
            assignment, current_user, occurred_on=form.occurred_on.data, minutes=form.minutes.data,
            kind=form.kind.data, notes=form.notes.data or "", concern=form.concern.data,
            concern_description=form.concern_description.data or ""))
        if ok:
            flash(gettext("활동일지를 저장했습니다. 우려 사항을 학교 지원팀과 교육지원청에 알렸습니다.") if form.concern.data
                  else gettext("활동일지를 저장했습니다."), "success")
            return redirect(url_for("guardians.assignment", uid=assignment.uid))
    return render_assignment(assignment, form=form, status=400)


@bp.post("/me/<uid>/end-request")
@p.roles_required(p.GUARDIAN)
def end_request(uid: str):
    """Ask the office's coordinators to end this assignment, saying why."""
    from .assignments import request_end
    assignment = _own_assignment(uid)
    form = EndRequestForm()
    if form.validate():
        ok, _ = save_or_show(form, lambda: request_end(assignment, current_user, form.note.data))
        if ok:
            flash(gettext("배정 종료를 요청했습니다. 교육지원청 담당자가 확인 후 처리합니다."), "success")
            return redirect(url_for("guardians.assignment", uid=assignment.uid))
    return render_assignment(assignment, status=400, end_form=form)


def _respond(uid: str, run, message: str):
    """Accept or decline a proposal through the assignment service, then back to the portal."""
    assignment = _own_assignment(uid)
    try:
        run(assignment)
    except NotPermitted:
        db.session.rollback()
        abort(403)
    except DomainError as error:
        db.session.rollback()
        flash(error.message, "error")
    else:
        db.session.commit()
        flash(message, "success")
    return redirect(url_for("guardians.portal"))


@bp.post("/me/<uid>/accept")
@p.roles_required(p.GUARDIAN)
def accept(uid: str):
    """Accept a proposed assignment."""
    from .assignments import accept_assignment
    if not AcceptForm().validate():
        abort(400)
    return _respond(uid, lambda a: accept_assignment(a, current_user),
                    gettext("배정을 수락했습니다. 활동을 시작할 수 있습니다."))


@bp.post("/me/<uid>/decline")
@p.roles_required(p.GUARDIAN)
def decline(uid: str):
    """Decline a proposed assignment, with a reason."""
    from .assignments import decline_assignment
    form = DeclineForm()
    if not form.validate():
        _own_assignment(uid)
        flash(gettext("거절 사유를 입력해 주세요."), "error")
        return redirect(url_for("guardians.portal"))
    return _respond(uid, lambda a: decline_assignment(a, current_user, form.reason.data),
                    gettext("배정을 거절했습니다."))


# -- coordinator: monthly totals ------------------------------------------------------------

def _month() -> str:
    month = request.args.get("month") or today_kst().strftime("%Y-%m")
    try:
        month_bounds(month)
    except ValueError:
        abort(400)
    return month


def _office_code() -> str:
    office = current_user.organisation.office_code if current_user.organisation else None
    if not office:
        abort(403)
    return office


@bp.get("/totals")
@p.roles_required(p.DISTRICT_COORDINATOR)
def totals():
    """Meetings and hours per guardian of the coordinator's office in one month."""
    month, office = _month(), _office_code()
    rows = monthly_totals(office, month)
    html = render_template("guardians/totals.html", rows=rows, month=month, first_day=month_bounds(month)[0],
                           total_meetings=sum(r.meetings for r in rows), total_minutes=sum(r.minutes for r in rows))
    record("guardian_totals_viewed", object_type="guardian_totals", object_id=month,
           details={"office": office, "rows_shown": len(rows)})
    db.session.commit()
    return html


@bp.get("/totals.xlsx")
@p.roles_required(p.DISTRICT_COORDINATOR)
def totals_xlsx():
    """The same totals as an XLSX download (audited as an export)."""
    month, office = _month(), _office_code()
    rows = monthly_totals(office, month)
    buffer = io.BytesIO()
    monthly_totals_xlsx(rows, buffer, month)
    buffer.seek(0)
    record("guardian_totals_exported", object_type="guardian_totals", object_id=month,
           reason="교육후견인 월별 활동 실적 보고", details={"office": office, "rows": len(rows), "format": "xlsx"})
    db.session.commit()
    return send_file(buffer, as_attachment=True, download_name=f"guardian-totals-{month}.xlsx",
                     mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
