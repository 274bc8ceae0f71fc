"""Referral screens of the school side: write, correct and send a referral, follow it, cancel it,
and the list of overdue referrals.  The agency's side lives in portal_views.py."""
from __future__ import annotations

from flask_babel import gettext
from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from sqlalchemy import select

from ..audit.services import record
from ..auth.models import Organisation
from ..cases.chronology import case_events
from ..cases.loaders import UID_MAX, deny_not_found, load_case_or_404
from ..db import today_kst
from .. import submissions
from ..domain import DomainError, NotPermitted, attach_to_form
from ..extensions import db
from ..permissions import (DISTRICT_COORDINATOR, SCHOOL_LEAD, SCHOOL_ROLES, can_view_referral, referral_scope,
                           roles_required)
from . import bp
from .models import (DECLINE_REASONS, OVERRIDE_CATEGORIES, REFERRAL_STATUSES, SERVICE_KINDS, SHAREABLE_ITEMS,
                     AgencyService, Referral)
from .referral_forms import CancelForm, SendForm, office_agencies, referral_form
from .referral_queries import referral_coverage
from .referrals import (allowed_referral_transitions, cancel_referral, create_referral, is_overdue,
                        is_school_side, overdue_referrals, send_referral, update_referral_draft)

bp.add_app_template_global(SHAREABLE_ITEMS, "REFERRAL_ITEMS")
bp.add_app_template_global(REFERRAL_STATUSES, "REFERRAL_STATUSES")
bp.add_app_template_global(DECLINE_REASONS, "DECLINE_REASONS")
bp.add_app_template_global(SERVICE_KINDS, "SERVICE_KINDS")


def _by_uid(model, uid):
    if not uid or len(str(uid)) > UID_MAX:
        return None
    return db.session.execute(select(model).where(model.uid == str(uid))).scalar_one_or_none()


def load_referral_or_404(uid, school_side: bool = False) -> Referral:
    """The referral if the current user may see it (``school_side``: as its school or
    coordinator); otherwise an audited 404, like a case out of scope."""
    referral = _by_uid(Referral, uid)
    if referral is None or not can_view_referral(current_user, referral) or (
            school_side and not is_school_side(current_user, referral.case)):
        deny_not_found(Referral.__tablename__, uid)
    return referral


def _is_lead(case) -> bool:
    return current_user.role == SCHOOL_LEAD and current_user.organisation_id == case.school_id


def _run(form, run) -> bool:
    """Run a service on a valid form and commit; a refused rule goes to the form (False)."""
    if not form.validate():
        return False
    submissions.once(form)  # a repeat goes where the first went, changing nothing
    try:
        run(form)
    except NotPermitted:
        db.session.rollback()
        abort(403)
    except DomainError as error:
        db.session.rollback()
        attach_to_form(form, error)
        return False
    db.session.commit()
    return True


def _chosen(form) -> tuple[Organisation | None, AgencyService | None]:
    agency = db.session.get(Organisation, form.agency.data) if form.agency.data else None
    return agency, (db.session.get(AgencyService, form.service.data) if form.service.data else None)


def _render_form(case, form, coverage, agencies, referral=None, status: int = 200):
    action = (url_for("agencies.edit_referral", uid=referral.uid) if referral is not None
              else url_for("agencies.new_referral", case_uid=case.uid))
    return render_template("agencies/referral_new.html", case=case, form=form, is_lead=_is_lead(case),
                           referral=referral, action=action, coverage=coverage,
                           covered_agencies=[a for a in agencies if coverage.covers(a)]), status


@bp.route("/referrals/new/<case_uid>", methods=["GET", "POST"], endpoint="new_referral")
@login_required
def new_referral(case_uid: str):
    """Write a referral: agency, service, reason and exactly which items to share."""
    case = load_case_or_404(case_uid)
    if not is_school_side(current_user, case):
        abort(403)
    chosen = _by_uid(Organisation, request.args.get("agency"))
    agencies = office_agencies(case.school.office_code, extra=chosen)
    coverage = referral_coverage(case, agencies)
    if request.method == "GET":
        form = referral_form(agencies, coverage=coverage, agency=chosen.id if chosen in agencies else None)
        page = _render_form(case, form, coverage, agencies)
        # the form shows the case's student and the items it could share: an audited view
        record("case_viewed", obj=case, subject=case.student, details={"page": "referral_new"})
        db.session.commit()
        return page
    form = referral_form(agencies, formdata=request.form, coverage=coverage)
    sending = request.form.get("action") == "send"
    created = []

    def run(f):
        agency, service = _chosen(f)
        referral = create_referral(case, current_user, agency=agency, service=service, reason=f.reason.data,
                                   shared_items=list(f.shared_items.data or []))
        if sending:
            send_referral(referral, current_user, override_reason=f.override_reason.data,
                          override_category=f.override_category.data)
        created.append(referral)
    if _run(form, run):
        flash(gettext("기관에 의뢰를 보냈습니다.") if sending else gettext("의뢰를 임시 저장했습니다."), "success")
        return redirect(url_for("agencies.referral", uid=created[0].uid))
    return _render_form(case, form, coverage, agencies, status=400)


@bp.route("/referrals/<uid>/edit", methods=["GET", "POST"], endpoint="edit_referral")
@login_required
def edit_referral(uid: str):
    """Correct a draft (agency, service, reason, shared items), then keep it as a draft or send it."""
    referral = load_referral_or_404(uid, school_side=True)
    case = referral.case
    if referral.status != "draft":
        flash(gettext("보내기 전의 의뢰만 고칠 수 있습니다."), "error")
        return redirect(url_for("agencies.referral", uid=referral.uid))
    agencies = office_agencies(case.school.office_code, extra=referral.agency)
    coverage = referral_coverage(case, agencies)
    if request.method == "GET":
        form = referral_form(agencies, coverage=coverage, agency=referral.agency_id, service=referral.service_id,
                             reason=referral.reason, shared_items=list(referral.shared_items))
        page = _render_form(case, form, coverage, agencies, referral)
        record("referral_viewed", obj=referral, subject=case.student, details={"page": "edit"})
        db.session.commit()
        return page
    form = referral_form(agencies, formdata=request.form, coverage=coverage)
    sending = request.form.get("action") == "send"

    def run(f):
        agency, service = _chosen(f)
        update_referral_draft(referral, current_user, agency=agency, service=service, reason=f.reason.data,
                              shared_items=list(f.shared_items.data or []))
        if sending:
            send_referral(referral, current_user, override_reason=f.override_reason.data,
                          override_category=f.override_category.data)
    if _run(form, run):
        flash(gettext("기관에 의뢰를 보냈습니다.") if sending else gettext("의뢰를 고쳤습니다."), "success")
        return redirect(url_for("agencies.referral", uid=referral.uid))
    return _render_form(case, form, coverage, agencies, referral, status=400)


def render_referral(referral: Referral, status: int = 200, forms: dict | None = None):
    """The referral page with the forms the user may use; the view is audited."""
    case = referral.case
    allowed = allowed_referral_transitions(referral, current_user)
    page_forms = {}
    if "send" in allowed:
        page_forms["send"] = SendForm(formdata=None)
    if "cancel" in allowed:
        page_forms["cancel"] = CancelForm(formdata=None)
    page_forms.update(forms or {})
    prefix = f"{referral.agency.name}:"
    history = [e for e in case_events(case, "referral") if (e.text or "").startswith(prefix)]
    html = render_template("agencies/referral.html", referral=referral, case=case, history=history,
                           forms=page_forms, is_lead=_is_lead(case), overdue=is_overdue(referral, today_kst()), overdue_today=today_kst(),
                           override_categories=OVERRIDE_CATEGORIES,
                           can_edit=referral.status == "draft" and is_school_side(current_user, case))
    record("referral_viewed", obj=referral, subject=case.student)
    db.session.commit()
    return html, status


@bp.get("/referrals/<uid>", endpoint="referral")
@login_required
def referral_view(uid: str):
    """One referral for its school and coordinator: status, dates, what was shared, history."""
    return render_referral(load_referral_or_404(uid, school_side=True))


@bp.post("/referrals/<uid>/send", endpoint="send_referral")
@login_required
def send_view(uid: str):
    """Send a draft (a school lead may override missing consent with a written reason)."""
    referral = load_referral_or_404(uid, school_side=True)
    form = SendForm()
    if _run(form, lambda f: send_referral(referral, current_user, override_reason=f.override_reason.data,
                          override_category=f.override_category.data)):
        flash(gettext("기관에 의뢰를 보냈습니다."), "success")
        return redirect(url_for("agencies.referral", uid=referral.uid))
    return render_referral(referral, 400, {"send": form})


@bp.post("/referrals/<uid>/cancel", endpoint="cancel_referral")
@login_required
def cancel_view(uid: str):
    """Cancel a referral that is not finished, with the reason."""
    referral = load_referral_or_404(uid, school_side=True)
    form = CancelForm()
    if _run(form, lambda f: cancel_referral(referral, current_user, f.reason.data)):
        flash(gettext("의뢰를 취소했습니다."), "success")
        return redirect(url_for("agencies.referral", uid=referral.uid))
    return render_referral(referral, 400, {"cancel": form})


@bp.get("/referrals/overdue", endpoint="overdue_referrals")
@roles_required(DISTRICT_COORDINATOR, *SCHOOL_ROLES)
def overdue_view():
    """Referrals whose agency has not answered in time: the district's schools for a coordinator,
    the own school's for its team."""
    today = today_kst()
    referrals = overdue_referrals(referral_scope(current_user), today)
    html = render_template("agencies/overdue.html", referrals=referrals, today=today)
    # the list names each referral's student: recorded like every list page
    record("referral_list_viewed", object_type="referral", details={"page": "overdue", "shown": len(referrals)})
    db.session.commit()
    return html
