"""Agency coordinator portal (/agencies/inbox): referrals sent to their agency with only the shared
items; accept or decline, service records, final outcome."""
from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext, lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import select

from .. import permissions as p
from ..audit.services import record
from ..cases.loaders import UID_MAX, deny_not_found
from ..db import today_kst
from ..extensions import db
from ..form_actions import save_or_show
from ..navigation import add_nav
from ..pagination import page_arg
from . import bp
from .inbox import RECORDABLE, InboxRow, agency_panels, agency_referrals, inbox_row, inbox_rows  # noqa: F401
from .models import DECLINE_REASONS, SERVICE_KINDS, SHAREABLE_ITEMS, Referral, ServiceRecord
from .portal_forms import AcceptForm, DeclineForm, InboxFilterForm, OutcomeForm, ServiceRecordForm

add_nav("agencies.inbox", _l("받은 의뢰"), p.AGENCY_COORDINATOR)

PER_PAGE = 20


def _own_referral(uid: str) -> Referral:
    """A referral to the current user's agency, or an audited 404 (another agency's looks like none)."""
    referral = None
    if uid and len(uid) <= UID_MAX:
        referral = db.session.execute(agency_referrals(current_user).where(Referral.uid == uid)).scalar_one_or_none()
    if referral is None:
        deny_not_found(Referral.__tablename__, uid)
    return referral


@bp.get("/inbox")
@p.roles_required(p.AGENCY_COORDINATOR)
def inbox():
    """Referrals to the agency, newest first, filterable by status, with an overdue badge."""
    form = InboxFilterForm(request.args)
    query = agency_referrals(current_user)
    status = request.args.get("status") or ""
    if status and form.validate():
        query = query.where(Referral.status == status)
    page = db.paginate(query.order_by(Referral.sent_at.desc(), Referral.id.desc()),
                       page=page_arg(), per_page=PER_PAGE, error_out=False)
    rows = inbox_rows(page.items)
    html = render_template("agencies/inbox.html", page=page, rows=rows, form=form, status=status,
                           items=SHAREABLE_ITEMS)
    if rows:
        record("referral_inbox_viewed", object_type="referral_inbox", object_id=str(current_user.organisation_id),
               details={"rows_shown": len(rows), "status": status or None})
    db.session.commit()
    return html


def render_referral(referral: Referral, *, failed=None, status: int = 200):
    """One referral: shared items (or that they were withdrawn), reason, and the forms its status allows."""
    row = inbox_row(referral)
    forms = {}
    if referral.status == "sent":
        forms["accept"], forms["decline"] = AcceptForm(formdata=None), DeclineForm(formdata=None)
    if referral.status in RECORDABLE:
        forms["record"] = ServiceRecordForm(formdata=None, occurred_on=today_kst())
    if referral.status == "in_service":
        forms["outcome"] = OutcomeForm(formdata=None)
    if failed is not None and failed[0] in forms:
        forms[failed[0]] = failed[1]
    elif failed is not None:  # the referral moved on (a second click, another colleague): say why, above the page
        for message in [e for errors in failed[1].errors.values() for e in errors if isinstance(e, str)]:
            flash(message, "error")
    records = db.session.execute(select(ServiceRecord).where(ServiceRecord.referral_id == referral.id)
                                 .order_by(ServiceRecord.occurred_on.desc(), ServiceRecord.id.desc())).scalars().all()
    html = render_template("agencies/inbox_referral.html", referral=referral, row=row, forms=forms, records=records,
                           items=SHAREABLE_ITEMS, kinds=SERVICE_KINDS, decline_reasons=DECLINE_REASONS)
    record("referral_viewed", obj=referral, subject=referral.case.student)
    db.session.commit()
    return html, status


@bp.get("/inbox/<uid>")
@p.roles_required(p.AGENCY_COORDINATOR)
def inbox_referral(uid: str):
    """One referral to the agency."""
    return render_referral(_own_referral(uid))


def _act(uid: str, name: str, form, run, message: str):
    """Validate ``form``, run the referral service, commit once and redirect; a refused rule shows
    the page again (400) with the message next to its field and nothing saved."""
    referral = _own_referral(uid)
    if form.validate():
        ok, _ = save_or_show(form, lambda: run(referral, form))
        if ok:
            flash(message, "success")
            return redirect(url_for("agencies.inbox_referral", uid=referral.uid))
    return render_referral(referral, failed=(name, form), status=400)


@bp.post("/inbox/<uid>/accept")
@p.roles_required(p.AGENCY_COORDINATOR)
def inbox_accept(uid: str):
    """Accept a sent referral."""
    from .referrals import accept_referral
    return _act(uid, "accept", AcceptForm(), lambda r, f: accept_referral(r, current_user),
                gettext("의뢰를 접수했습니다. 학교에 알렸습니다."))


@bp.post("/inbox/<uid>/decline")
@p.roles_required(p.AGENCY_COORDINATOR)
def inbox_decline(uid: str):
    """Decline a sent referral with a coded reason and a comment."""
    from .referrals import decline_referral
    return _act(uid, "decline", DeclineForm(),
                lambda r, f: decline_referral(r, current_user, f.reason_code.data, f.comment.data or ""),
                gettext("의뢰를 거절했습니다. 학교에 사유를 알렸습니다."))


@bp.post("/inbox/<uid>/records")
@p.roles_required(p.AGENCY_COORDINATOR)
def inbox_record(uid: str):
    """Record one service delivered (the first record of an accepted referral starts the service)."""
    from .referrals import add_service_record
    return _act(uid, "record", ServiceRecordForm(),
                lambda r, f: add_service_record(r, current_user, f.occurred_on.data, f.kind.data, f.note.data),
                gettext("서비스 기록을 저장했습니다."))


@bp.post("/inbox/<uid>/outcome")
@p.roles_required(p.AGENCY_COORDINATOR)
def inbox_outcome(uid: str):
    """Close the service: completed, or ended without completion (failed), with an outcome note."""
    from .referrals import complete_referral, fail_referral
    outcome = request.form.get("outcome")
    if outcome not in ("completed", "failed"):
        _own_referral(uid)
        abort(400)
    service = complete_referral if outcome == "completed" else fail_referral
    return _act(uid, "outcome", OutcomeForm(), lambda r, f: service(r, current_user, f.outcome_note.data),
                gettext("서비스를 완료로 종결했습니다.") if outcome == "completed" else gettext("서비스를 미완료로 종결했습니다."))
