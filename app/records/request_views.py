"""열람·정정 request screens (the school lead of the student's school): the list, recording a request,
the request page with its answers, and the copy (printable page and JSON file).

Everyone else gets 403 (the role) or an audited 404 (another school's student or request).  Every
page names the student, so each showing is audited; the copy's showings and downloads carry the
request as their reason (request_services.record_copy).
"""
from __future__ import annotations

import json

from flask import Response, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _, lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from .. import permissions as p
from ..audit.services import record
from ..cases.loaders import UID_MAX, deny_not_found, load_student_or_404
from ..db import today_kst
from .. import submissions
from ..domain import DomainError, NotPermitted, attach_to_form
from ..extensions import db
from ..navigation import add_nav
from . import bp
from . import request_services as svc
from .request_copy import build_copy
from .request_forms import CompleteForm, CorrectionForm, RefuseForm, RequestFilterForm, SubjectRequestForm
from .request_models import STATUSES, SubjectRequest

leads = p.roles_required(p.SCHOOL_LEAD)

add_nav("records.subject_requests", _l("열람·정정 요청"), p.SCHOOL_LEAD)


def load_request_or_404(uid) -> SubjectRequest:
    """The request with this uid if it is about a student of the lead's school; else an audited 404."""
    found = None
    if uid and len(str(uid)) <= UID_MAX:
        found = db.session.scalar(select(SubjectRequest).where(SubjectRequest.uid == str(uid)))
    if found is None or not p.can_handle_subject_requests(current_user, found.student):
        deny_not_found(SubjectRequest.__tablename__, uid)
    return found


@bp.route("/requests")
@leads
def subject_requests():
    """The school's 열람·정정 requests, open ones first by deadline, filterable by status."""
    form = RequestFilterForm(request.args)
    status = form.status.data if form.validate() and form.status.data in STATUSES else None
    query = (select(SubjectRequest).where(SubjectRequest.school_id == current_user.organisation_id)
             .options(joinedload(SubjectRequest.student)))
    if status:
        query = query.where(SubjectRequest.status == status)
    query = query.order_by((SubjectRequest.status != "open"), SubjectRequest.due_on, SubjectRequest.id)
    page = db.paginate(query, per_page=current_app.config["PAGE_SIZE"], error_out=False)
    record("subject_request_list_viewed", object_type="subject_request",
           details={"status": status, "page": page.page, "shown": len(page.items)})
    html = render_template("records/request_list.html", page=page, form=form, today=today_kst(),
                           page_args={"status": status} if status else {})
    db.session.commit()
    return html


@bp.route("/requests/new/<student_uid>", methods=["GET", "POST"])
@leads
def new_subject_request(student_uid):
    """Record a 열람 or 정정 request about a student of the lead's school."""
    student = load_student_or_404(student_uid)
    if not p.can_handle_subject_requests(current_user, student):
        abort(403)
    form = SubjectRequestForm()
    if request.method == "GET":
        form.requested_on.data = today_kst()
    elif form.validate_on_submit():
        submissions.once(form)  # a repeat goes where the first went, changing nothing
        try:
            made = svc.record_request(current_user, student, kind=form.kind.data, requested_by=form.requested_by.data,
                                      requested_on=form.requested_on.data, identity_method=form.identity_method.data,
                                      identity_note=form.identity_note.data or "",
                                      correction_asked=form.correction_asked.data or "")
        except NotPermitted:
            abort(403)
        except DomainError as error:
            db.session.rollback()
            attach_to_form(form, error)
        else:
            db.session.commit()
            flash(_("요청을 기록했습니다. 처리 기한은 %(due)s입니다.", due=made.due_on.isoformat()), "success")
            return redirect(url_for(".subject_request", uid=made.uid))
    record("student_viewed", obj=student, subject=student, details={"screen": "subject_request_new"})
    html = render_template("records/request_new.html", form=form, student=student)
    db.session.commit()
    return html, (400 if form.errors else 200)


def _render_request(req: SubjectRequest, status: int = 200, **forms):
    """The request page; it names the student, so each showing is recorded."""
    student = req.student
    forms.setdefault("complete_form", CompleteForm(formdata=None, prefix="complete", completed_on=today_kst()))
    forms.setdefault("refuse_form", RefuseForm(formdata=None, prefix="refuse", completed_on=today_kst()))
    if req.kind == "correction":
        forms.setdefault("correction_form", CorrectionForm(formdata=None, obj=student))
    record("subject_request_viewed", obj=req, subject=student)
    html = render_template("records/request_view.html", req=req, student=student, today=today_kst(),
                           copies=svc.copies_made(req) if req.kind == "access" else 0,
                           corrections=svc.corrections_made(req) if req.kind == "correction" else 0, **forms)
    db.session.commit()
    return html, status


@bp.route("/requests/<uid>")
@leads
def subject_request(uid):
    """One request: its facts, deadline and answer, with the copy and the forms while it is open."""
    return _render_request(load_request_or_404(uid))


def _act(uid, form, action, done_message: str, form_name: str):
    """Validate ``form``, run ``action(req)``; errors beside the fields, nothing changed."""
    req = load_request_or_404(uid)
    if form.validate_on_submit():
        try:
            action(req)
        except NotPermitted:
            abort(403)
        except DomainError as error:
            db.session.rollback()
            attach_to_form(form, error)
        else:
            db.session.commit()
            flash(done_message, "success")
            return redirect(url_for(".subject_request", uid=req.uid))
    if not form.errors:
        form.form_errors.append(_("입력한 내용을 확인해 주세요."))
    return _render_request(req, 400, **{form_name: form})


@bp.route("/requests/<uid>/correct", methods=["POST"])
@leads
def correct_subject_request(uid):
    """Correct the student's record for a 정정 request (the student service, the request as reason)."""
    form = CorrectionForm()
    return _act(uid, form, lambda req: svc.correct_student(current_user, req, form.student_fields()),
                _("학생 정보를 정정했습니다. 정정을 마쳤으면 '처리 완료'를 눌러 주세요."), "correction_form")


@bp.route("/requests/<uid>/complete", methods=["POST"])
@leads
def complete_subject_request(uid):
    """Answer a request as done, or partly done with the reason."""
    form = CompleteForm(prefix="complete")
    return _act(uid, form, lambda req: svc.complete_request(current_user, req, partly=form.partly.data,
                                                            reason=form.reason.data or "",
                                                            completed_on=form.completed_on.data),
                _("요청 처리를 완료했습니다."), "complete_form")


@bp.route("/requests/<uid>/refuse", methods=["POST"])
@leads
def refuse_subject_request(uid):
    """Refuse a request, with the reason."""
    form = RefuseForm(prefix="refuse")
    return _act(uid, form, lambda req: svc.refuse_request(current_user, req, reason=form.reason.data or "",
                                                          completed_on=form.completed_on.data),
                _("요청을 거절로 처리했습니다."), "refuse_form")


def _access_request(uid) -> SubjectRequest:
    req = load_request_or_404(uid)
    if req.kind != "access":
        deny_not_found(SubjectRequest.__tablename__, uid)  # a 정정 request has no copy
    return req


@bp.route("/requests/<uid>/copy")
@leads
def subject_copy(uid):
    """The printable copy of everything held about the student (audited, the request as reason)."""
    req = _access_request(uid)
    copy = build_copy(req)
    svc.record_copy(req, current_user, "html")
    html = render_template("records/request_copy.html", copy=copy, req=req, student=req.student)
    db.session.commit()
    return html


@bp.route("/requests/<uid>/copy.json")
@leads
def subject_copy_json(uid):
    """The same copy as a JSON file (audited as an export, the request as reason)."""
    req = _access_request(uid)
    body = json.dumps(build_copy(req).as_json(), ensure_ascii=False, indent=2)
    svc.record_copy(req, current_user, "json")
    db.session.commit()
    name = f"ieum-copy-{req.requested_on.isoformat()}-{req.uid[:8]}.json"
    return Response(body, mimetype="application/json; charset=utf-8",
                    headers={"Content-Disposition": f"attachment; filename={name}", "Cache-Control": "no-store"})
