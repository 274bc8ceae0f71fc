"""Transfer screens (전학): send a case from its page, the list of a school's or an office's
transfers, one transfer (the old school's read-only record, the new school's receipt), and the
answers.  Out of scope is an audited 404 (like a case); in scope but not allowed is a 403."""
from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext, lazy_gettext as _l
from flask_login import current_user, login_required
from sqlalchemy import select

from ..audit.services import record
from ..auth.models import Organisation
from ..cases.loaders import UID_MAX, deny_not_found, load_case_or_404
from ..db import today_kst
from ..domain import DomainError, NotPermitted, attach_to_form
from ..extensions import db
from ..navigation import add_nav
from ..pagination import page_arg
from ..permissions import (DISTRICT_COORDINATOR, SCHOOL_LEAD, can_answer_transfer, can_cancel_transfer,
                           can_send_transfer, can_view_case, can_view_transfer, roles_required)
from . import bp
from .transfer_forms import AcceptForm, CancelForm, ReturnForm, SendForm
from .transfer_models import TRANSFER_STATUSES, CaseTransfer
from .transfer_queries import (QUERY_MAX, VIEWS, already_registered, destination_schools, open_transfer_for,
                              transfers_query)
from .transfer_services import (accept_transfer, cancel_transfer, data_travels, return_transfer, send_transfer)

add_nav("records.transfers", _l("전학 이관"), SCHOOL_LEAD, DISTRICT_COORDINATOR)
bp.add_app_template_global(TRANSFER_STATUSES, "TRANSFER_STATUSES")
PER_PAGE = 20


def load_transfer_or_404(uid) -> CaseTransfer:
    """The transfer if the current user may see it; otherwise an audited 404."""
    transfer = None
    if uid and len(str(uid)) <= UID_MAX:
        transfer = db.session.execute(select(CaseTransfer).where(CaseTransfer.uid == str(uid))).scalar_one_or_none()
    if transfer is None or not can_view_transfer(current_user, transfer):
        deny_not_found(CaseTransfer.__tablename__, uid)
    return transfer


def _run(form, run) -> bool:
    """Run a service on a valid form and commit; a refused rule goes to the form (False)."""
    if not form.validate():
        return False
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


def _render_new(case, form, query: str, status: int = 200):
    schools = destination_schools(query, case.school_id)
    form.to_school.choices = [(s.uid, f"{s.name} ({s.gu.name_ko if s.gu else ''})") for s in schools]
    html = render_template("records/transfer_new.html", case=case, form=form, query=query, schools=schools,
                           with_data=data_travels(case), open_transfer=open_transfer_for(case))
    # the form names the case's student: an audited view
    record("case_viewed", obj=case, subject=case.student, details={"page": "transfer_new"})
    db.session.commit()
    return html, status


@bp.route("/transfers/new/<case_uid>", methods=["GET", "POST"], endpoint="new_transfer")
@login_required
def new_transfer(case_uid: str):
    """Send the case to the school the student moves to (the case's school lead)."""
    case = load_case_or_404(case_uid)
    if not can_send_transfer(current_user, case):
        abort(403)
    if request.method == "GET":
        query = (request.args.get("q") or "").strip()[:QUERY_MAX]
        return _render_new(case, SendForm(formdata=None, q=query), query)
    form = SendForm()
    query = (form.q.data or "").strip()[:QUERY_MAX]
    created = []

    def run(f):
        school = db.session.execute(select(Organisation).where(
            Organisation.uid == str(f.to_school.data)[:UID_MAX])).scalar_one_or_none()
        created.append(send_transfer(case, current_user, to_school=school, note=f.note.data, contact=f.contact.data))
    if _run(form, run):
        flash(gettext("전학 이관을 보냈습니다. 받는 학교의 회신을 기다립니다."), "success")
        return redirect(url_for("records.transfer", uid=created[0].uid))
    return _render_new(case, form, query, 400)


@bp.get("/transfers", endpoint="transfers")
@roles_required(SCHOOL_LEAD, DISTRICT_COORDINATOR)
def transfers():
    """The school's incoming and outgoing transfers (a coordinator: the office's schools'), by tab."""
    view = request.args.get("view") if request.args.get("view") in VIEWS else "incoming"
    today = today_kst()
    page = db.paginate(transfers_query(current_user, view, today), page=page_arg(), per_page=PER_PAGE,
                       error_out=False)
    html = render_template("records/transfers.html", page=page, view=view, views=VIEWS, today=today)
    # the list names students: recorded like every list page
    record("transfer_list_viewed", object_type="case_transfer", details={"view": view, "rows_shown": len(page.items)})
    db.session.commit()
    return html


def render_transfer(transfer: CaseTransfer, status: int = 200, forms: dict | None = None):
    """The transfer page with the forms the user may use; the view is audited."""
    page_forms = {}
    if transfer.status == "sent":
        if can_answer_transfer(current_user, transfer):
            page_forms["accept"], page_forms["return"] = AcceptForm(formdata=None), ReturnForm(formdata=None)
        if can_cancel_transfer(current_user, transfer):
            page_forms["cancel"] = CancelForm(formdata=None)
    page_forms.update(forms or {})
    case = transfer.case
    html = render_template("records/transfer.html", transfer=transfer, forms=page_forms, today=today_kst(),
                           case_visible=can_view_case(current_user, case), case=case,
                           is_sender=current_user.organisation_id == transfer.from_school_id,
                           is_receiver=current_user.organisation_id == transfer.to_school_id,
                           duplicate="accept" in page_forms and transfer.with_data and already_registered(transfer))
    record("transfer_viewed", obj=transfer, subject=transfer.student)
    db.session.commit()
    return html, status


@bp.get("/transfers/<uid>", endpoint="transfer")
@roles_required(SCHOOL_LEAD, DISTRICT_COORDINATOR)
def transfer_view(uid: str):
    """One transfer: who sent it when, whether the case travels, the old school's contact, the answer."""
    return render_transfer(load_transfer_or_404(uid))


def _answer(uid: str, name: str, form_class, run, done: str):
    transfer = load_transfer_or_404(uid)
    form = form_class()
    if _run(form, lambda f: run(transfer, f)):
        flash(done, "success")
        return redirect(url_for("records.transfer", uid=transfer.uid))
    return render_transfer(transfer, 400, {name: form})


@bp.post("/transfers/<uid>/accept", endpoint="accept_transfer")
@roles_required(SCHOOL_LEAD)
def accept_view(uid: str):
    """The new school's receipt (with consent, the student and the case move here)."""
    return _answer(uid, "accept", AcceptForm, lambda t, f: accept_transfer(t, current_user),
                   gettext("전학 이관을 접수했습니다."))


@bp.post("/transfers/<uid>/return", endpoint="return_transfer")
@roles_required(SCHOOL_LEAD)
def return_view(uid: str):
    """The new school returns it, with the reason."""
    return _answer(uid, "return", ReturnForm, lambda t, f: return_transfer(t, current_user, f.reason.data),
                   gettext("전학 이관을 반송했습니다."))


@bp.post("/transfers/<uid>/cancel", endpoint="cancel_transfer")
@roles_required(SCHOOL_LEAD)
def cancel_view(uid: str):
    """The old school takes it back before an answer."""
    return _answer(uid, "cancel", CancelForm, lambda t, f: cancel_transfer(t, current_user),
                   gettext("전학 이관을 취소했습니다."))
