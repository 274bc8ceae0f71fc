"""Coordinator screens: the guardian roster, register/edit, and the vetting page (checks, status, login)."""
from __future__ import annotations

from flask import current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import case as sql_case
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from .. import permissions as p
from ..audit.services import record
from ..auth.models import Gu, Organisation
from ..cases.loaders import UID_MAX, deny_not_found
from ..db import today_kst
from ..extensions import db
from ..i18n import current_language
from ..form_actions import save_or_show
from ..navigation import add_nav
from . import bp
from . import services as gs
from .eligibility import missing_requirements
from .forms import CheckRequestForm, CheckResultForm, GuardianForm, LoginForm, RosterFilterForm, StatusForm
from .models import CHECK_KINDS, CHECK_RESULTS, GUARDIAN_STATUSES, SUSPEND_REASONS, Assignment, RecordCheck, Guardian
from .vetting import activation_refusal, pending_check, vetting_steps
from .vetting_forms import ActivateForm, TrainingForm, checks_form

coordinators = p.roles_required(p.DISTRICT_COORDINATOR)
add_nav("guardians.roster", _l("교육후견인"), p.DISTRICT_COORDINATOR)
_STATUS_ORDER = sql_case({s: i for i, s in enumerate(GUARDIAN_STATUSES)}, value=Guardian.status)


def load_guardian_or_404(uid) -> Guardian:
    """The guardian if the current user manages them; otherwise an audited 404."""
    guardian = None
    if uid and len(str(uid)) <= UID_MAX:
        guardian = db.session.execute(select(Guardian).where(Guardian.uid == str(uid))).scalar_one_or_none()
    if guardian is None or not p.can_manage_guardian(current_user, guardian):
        deny_not_found(Guardian.__tablename__, uid)
    return guardian


def _office_choices(form: GuardianForm) -> None:
    office = current_user.organisation.office_code
    english = current_language() == "en"  # 자치구 names are reference data with an English name
    form.gu_id.choices = [(None, gettext("선택"))] + [
        (g.id, g.name_en if english else g.name_ko) for g in db.session.execute(
            select(Gu).where(Gu.office_code == office).order_by(Gu.name_en if english else Gu.name_ko)).scalars()]
    form.conflict_school_ids.choices = [(o.id, o.name) for o in db.session.execute(
        select(Organisation).where(Organisation.kind == "school", Organisation.office_code == office)
        .order_by(Organisation.name)).scalars()]


@bp.get("/")
@coordinators
def roster():
    """The office's guardians by vetting state, each with what still keeps them from serving."""
    form = RosterFilterForm(request.args)
    status = form.status.data if form.validate() else ""
    query = select(Guardian).where(p.guardian_scope(current_user)).options(selectinload(Guardian.checks))
    if status:
        query = query.where(Guardian.status == status)
    page = db.paginate(query.order_by(_STATUS_ORDER, Guardian.id), per_page=current_app.config["PAGE_SIZE"],
                       error_out=False)
    counts = dict(db.session.execute(select(Guardian.status, func.count()).where(
        p.guardian_scope(current_user)).group_by(Guardian.status)).all())
    today = today_kst()
    missing = {g.id: missing_requirements(g, today) for g in page.items}
    record("guardian_list_viewed", object_type="guardian",
           details={"status": status, "page": page.page, "shown": len(page.items)})
    html = render_template("guardians/roster.html", form=form, page=page, status=status, counts=counts,
                           statuses=GUARDIAN_STATUSES, missing=missing)
    db.session.commit()
    return html


def _save_form(form: GuardianForm, run, template_args: dict):
    """Validate, run the service, commit and go to the guardian; else re-render with the errors."""
    if form.validate_on_submit():
        ok, guardian = save_or_show(form, lambda: run(form.to_fields()))
        if ok:
            flash(gettext("저장했습니다."), "success")
            return redirect(url_for("guardians.detail", uid=guardian.uid))
    status = 400 if request.method == "POST" else 200
    return render_template("guardians/form.html", form=form, **template_args), status


@bp.route("/new", methods=["GET", "POST"])
@coordinators
def new():
    """Register a new applicant guardian in the coordinator's office."""
    form = GuardianForm()
    _office_choices(form)
    return _save_form(form, lambda fields: gs.register_guardian(current_user, fields), {"guardian": None})


@bp.route("/<uid>/edit", methods=["GET", "POST"])
@coordinators
def edit(uid: str):
    """Edit a guardian's profile."""
    guardian = load_guardian_or_404(uid)
    form = GuardianForm()
    _office_choices(form)
    if request.method == "GET":
        form.fill(guardian)

    def run(fields):
        gs.update_guardian(current_user, guardian, fields)
        return guardian
    response = _save_form(form, run, {"guardian": guardian})
    if isinstance(response, tuple):  # the form shows the guardian's profile: an audited view
        record("guardian_viewed", obj=guardian, subject=guardian, details={"page": "edit"})
        db.session.commit()
    return response


def _status_form(guardian: Guardian, form: StatusForm | None = None) -> StatusForm:
    form = form or StatusForm(formdata=None)
    nexts = list(gs.STATUS_FLOW[guardian.status]) + ([] if guardian.status == "retired" else ["retired"])
    form.status.choices = [(s, GUARDIAN_STATUSES[s]) for s in dict.fromkeys(nexts)]
    return form


def _current_assignments(guardian: Guardian) -> list[Assignment]:
    """The guardian's proposed, active and suspended assignments with case, student and school (one query)."""
    from ..cases.models import SupportCase
    from .assignments import COUNTED
    return list(db.session.execute(
        select(Assignment).where(Assignment.guardian_id == guardian.id, Assignment.status.in_(COUNTED))
        .options(selectinload(Assignment.case).selectinload(SupportCase.student),
                 selectinload(Assignment.case).selectinload(SupportCase.school))
        .order_by(Assignment.status.desc(), Assignment.id)).scalars())


def _vetting(guardian: Guardian, forms: dict, today) -> dict:
    """The three vetting steps' panel: their state and forms (vetting_views.py posts them)."""
    return {"steps": vetting_steps(guardian, today), "refusal": activation_refusal(guardian, today),
            "pending": {kind: pending_check(guardian, kind) for kind in CHECK_KINDS},
            "checks": forms.get("vet_checks") or checks_form(guardian),
            "training": forms.get("vet_training") or TrainingForm(formdata=None, training_hours=guardian.training_hours),
            "activate": forms.get("vet_activate") or ActivateForm(formdata=None)}


def render_detail(guardian: Guardian, status: int = 200, forms: dict | None = None):
    """The vetting page; every showing of it is an audited view of personal data."""
    forms = forms or {}
    today = today_kst()
    pending = [c for c in guardian.checks if c.result == "pending"]
    result_forms = {c.id: forms.get(("result", c.id)) or CheckResultForm(formdata=None, prefix=f"r{c.id}")
                    for c in pending}
    html = render_template(
        "guardians/detail.html", guardian=guardian, today=today, missing=missing_requirements(guardian, today),
        checks=sorted(guardian.checks, key=lambda c: (c.requested_on, c.id), reverse=True),
        kinds=CHECK_KINDS, results=CHECK_RESULTS, result_forms=result_forms,
        status_form=_status_form(guardian, forms.get("status")),
        request_form=forms.get("request") or CheckRequestForm(formdata=None, requested_on=today, consent_on=today),
        login_form=forms.get("login") or LoginForm(formdata=None),
        assignments=_current_assignments(guardian), suspend_reasons=SUSPEND_REASONS,
        vetting=_vetting(guardian, forms, today))
    record("guardian_viewed", obj=guardian)
    db.session.commit()
    return html, status


@bp.get("/<uid>")
@coordinators
def detail(uid: str):
    """One guardian: profile, record checks, what is missing, status and login."""
    return render_detail(load_guardian_or_404(uid))


def _act(guardian: Guardian, key, form, run, message: str):
    """Run one vetting action from the detail page; refusals re-render it (400) with nothing saved."""
    if form.validate_on_submit():
        ok, _ = save_or_show(form, lambda: run(form))
        if ok:
            flash(message, "success")
            return redirect(url_for("guardians.detail", uid=guardian.uid))
    return render_detail(guardian, 400, {key: form})


@bp.post("/<uid>/status")
@coordinators
def status(uid: str):
    """Move the guardian to another lifecycle state."""
    guardian = load_guardian_or_404(uid)
    form = _status_form(guardian, StatusForm())
    return _act(guardian, "status", form, lambda f: gs.change_guardian_status(
        current_user, guardian, f.status.data, f.note.data or ""), gettext("상태를 변경했습니다."))


@bp.post("/<uid>/checks")
@coordinators
def check_request(uid: str):
    """Log a record check request."""
    guardian = load_guardian_or_404(uid)
    return _act(guardian, "request", CheckRequestForm(), lambda f: gs.record_check_request(
        current_user, guardian, f.kind.data, f.consent_on.data, f.requested_on.data), gettext("조회 요청을 기록했습니다."))


@bp.post("/<uid>/checks/<check_uid>/result")
@coordinators
def check_result(uid: str, check_uid: str):
    """Record the result of one of the guardian's pending checks."""
    guardian = load_guardian_or_404(uid)
    check = next((c for c in guardian.checks if c.uid == check_uid), None)
    if check is None:
        deny_not_found(RecordCheck.__tablename__, check_uid)
    form = CheckResultForm(prefix=f"r{check.id}")
    return _act(guardian, ("result", check.id), form, lambda f: gs.record_check_result(
        current_user, check, f.result.data, f.checked_on.data, f.reference.data), gettext("조회 결과를 기록했습니다."))


@bp.post("/<uid>/login")
@coordinators
def create_login(uid: str):
    """Create the guardian's own login."""
    guardian = load_guardian_or_404(uid)
    return _act(guardian, "login", LoginForm(), lambda f: gs.create_guardian_login(
        current_user, guardian, f.login.data, f.password.data), gettext("후견인 계정을 만들었습니다."))


# create_app imports only each feature's views module: the guardian portal and the matching
# screens live in their own modules and register their routes from here
from . import assignment_views, concern_views, handling_views, match_views, portal_views, vetting_views  # noqa: E402,F401
