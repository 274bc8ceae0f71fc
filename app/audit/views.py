"""The auditor's pages: event search, the monthly access review and exports (auditor only)."""
from __future__ import annotations

import datetime as dt
import math
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace

from flask import Response, flash, redirect, render_template, request, send_file, url_for
from flask_babel import format_datetime, gettext, lazy_gettext as _l
from flask_login import current_user

from .. import permissions as p
from ..domain import DomainError, attach_to_form
from ..extensions import db
from ..navigation import add_nav
from . import bp
from . import access_review as ar
from . import review as rv
from . import review_totals
from .forms import AuditSearchForm, ExportForm, MarkReviewForm, ReviewMonthForm, SubjectLookupForm
from .labels import OUTCOME_LABELS
from .presenting import present
from .services import record

SEARCH_PAGE_SIZE = 50
REVIEW_PAGE_SIZE = 50
#: the mark form shares the review page with the month picker: keep their field ids apart
MARK_PREFIX = "mark"

auditor_only = p.roles_required(p.AUDITOR)

add_nav("audit.search", _l("접속기록 조회"), p.AUDITOR)
add_nav("audit.review", _l("접속기록 점검"), p.AUDITOR)
add_nav("audit.export", _l("접속기록 내보내기"), p.AUDITOR)
add_nav("audit.overrides", _l("동의 예외 의뢰"), p.AUDITOR)


@bp.app_template_filter("kdatetime_seconds")
def kdatetime_seconds(value):
    """An audit timestamp (naive UTC) in KST, to the second."""
    return format_datetime(value, "yyyy. M. d. HH:mm:ss") if value else ""


@bp.app_template_global("audit_previous_month")
def audit_previous_month() -> dict:
    """Last month's review status for the auditor's home page."""
    first = rv.previous_month(rv.current_month())
    review = ar.review_for(first)
    return {"key": first.strftime("%Y-%m"), "label": rv.month_label(first), "review": review,
            "reviewer": ar.reviewer_login(review)}


def _labels() -> dict:
    return {"role_names": {role: gettext(label) for role, (label, _kinds) in p.ROLES.items()},
            "outcome_labels": {code: gettext(label) for code, label in OUTCOME_LABELS.items()}}


def _int_arg(name: str) -> int | None:
    value = request.args.get(name, "")
    return int(value) if value.isascii() and value.isdigit() and len(value) <= 18 else None


def run_search(form: AuditSearchForm) -> tuple[rv.EventPage, bool]:
    """The page of events the (validated) form asks for, audited; the rows readable (presenting.py)."""
    criteria = rv.SearchCriteria(start=form.start.data, end=form.end.data, actor=form.actor.data,
                                 action=form.action.data or None, subject=form.subject.data,
                                 outcome=form.outcome.data or None)
    before, after = _int_arg("before"), _int_arg("after")
    try:
        page = rv.search_events(criteria, before=before, after=after, limit=SEARCH_PAGE_SIZE)
    except DomainError as error:
        attach_to_form(form, error)
        return rv.EventPage(), False
    cursor = {k: v for k, v in (("before", before), ("after", after)) if v is not None}
    record("audit_searched", object_type="audit_event",
           details={**criteria.as_details(), **cursor, "rows": len(page.rows)})
    db.session.commit()
    page.rows = present(page.rows, current_user)
    return page, True


def render_search(form: AuditSearchForm, page: rv.EventPage, ran: bool, lookup=None, candidates=None,
                  status: int | None = None):
    filters = {name: request.args[name] for name in form._fields if request.args.get(name)}
    if not filters and form.subject.data:  # a subject found by name (POST): its pages by reference
        filters = {"subject": form.subject.data}
    return render_template("audit/search.html", form=form, page=page, ran=ran, filters=filters,
                           lookup=lookup or SubjectLookupForm(formdata=None), candidates=candidates,
                           paged="before" in request.args or "after" in request.args,
                           **_labels()), (status or (400 if form.errors else 200))


@bp.route("/")
@auditor_only
def search():
    """Search events by date range, actor, action, data subject and outcome, newest first."""
    form = AuditSearchForm(request.args)
    page, ran = rv.EventPage(), False
    if form.validate():
        page, ran = run_search(form)
    return render_search(form, page, ran)


@dataclass
class ListPage:
    """A slice of an in-memory list, shaped for the ``pagination`` macro."""

    items: list
    page: int
    pages: int

    @property
    def has_prev(self) -> bool:
        return self.page > 1

    @property
    def has_next(self) -> bool:
        return self.page < self.pages

    @property
    def prev_num(self) -> int:
        return self.page - 1

    @property
    def next_num(self) -> int:
        return self.page + 1

    def iter_pages(self, left_edge=1, left_current=2, right_current=3, right_edge=1):
        """Page numbers with None for gaps, as Flask-SQLAlchemy's pagination yields them."""
        shown = [n for n in range(1, self.pages + 1)
                 if n <= left_edge or n > self.pages - right_edge
                 or self.page - left_current <= n < self.page + right_current]
        for previous, n in zip([0, *shown], shown):
            if n - previous > 1:
                yield None
            yield n


def _slice(items: list, per_page: int) -> ListPage:
    pages = max(1, math.ceil(len(items) / per_page))
    number = min(max(_int_arg("page") or 1, 1), pages)
    return ListPage(items[(number - 1) * per_page:number * per_page], number, pages)


def _default_month():
    return rv.previous_month(rv.current_month())


def _render_review(first, month_form: ReviewMonthForm, mark_form: MarkReviewForm, status: int = 200):
    """Summarise the month, record that the auditor viewed it, and render the page."""
    key = first.strftime("%Y-%m")
    rows = review_totals.month_rows(first)
    rule = ar.volume_rule(rows)
    attention_only = bool(month_form.attention.data)
    shown = [r for r in rows if r.needs_attention] if attention_only else rows
    review = ar.review_for(key)
    record("access_review_viewed", object_type="audit_review", object_id=key,
           details={"month": key, "users": len(rows)})
    db.session.commit()
    current = rv.current_month()
    return render_template(
        "audit/review.html", month=key, month_label=rv.month_label(first), rows_total=len(rows),
        page=_slice(shown, REVIEW_PAGE_SIZE), rule=rule, review=review,
        reviewer=ar.reviewer_login(review), month_form=month_form, mark_form=mark_form,
        can_mark=review is None and first < current, month_open=first >= current,
        attention_only=attention_only, prev_month=rv.previous_month(first).strftime("%Y-%m"),
        next_month=rv.next_month(first).strftime("%Y-%m") if first < current else None,
        factor=ar.VOLUME_FACTOR, floor=ar.VOLUME_FLOOR, **_labels()), status


@bp.route("/review")
@auditor_only
def review():
    """The monthly access review (접속기록 점검) of a KST month, last month by default."""
    month_form = ReviewMonthForm(request.args)
    first, status = _default_month(), 200
    if month_form.validate() and month_form.month.data:
        try:
            first = rv.parse_month(month_form.month.data)
        except DomainError as error:
            attach_to_form(month_form, error)
    if month_form.errors:
        status = 400
    mark_form = MarkReviewForm(formdata=None, month=first.strftime("%Y-%m"), prefix=MARK_PREFIX)
    return _render_review(first, month_form, mark_form, status)


@bp.route("/review/mark", methods=["POST"])
@auditor_only
def mark_review():
    """Mark a finished month reviewed with the auditor's comment (audited with it)."""
    form = MarkReviewForm(prefix=MARK_PREFIX)
    if form.validate_on_submit():
        try:
            ar.mark_month_reviewed(form.month.data, form.comment.data, current_user)
        except DomainError as error:
            db.session.rollback()
            attach_to_form(form, error)
        else:
            db.session.commit()
            flash(gettext("%(month)s 접속기록을 점검 완료로 표시했습니다.", month=rv.month_label(rv.parse_month(form.month.data))),
                  "success")
            return redirect(url_for(".review", month=form.month.data))
    try:
        first = rv.parse_month(form.month.data)
    except DomainError:
        first = _default_month()
    month_form = ReviewMonthForm(formdata=None, month=first.strftime("%Y-%m"))
    return _render_review(first, month_form, form, 400)


@bp.route("/export", methods=["GET", "POST"])
@auditor_only
def export():
    """Export events of a date range as SQLite, CSV or XLSX, with a required reason."""
    last = _default_month()
    form = ExportForm(start=last, end=rv.next_month(last) - dt.timedelta(days=1))  # POST data wins
    if form.validate_on_submit():
        # plain values, read now: after the commit below the user object is expired, and
        # reading actor.login from it would open a new transaction for the whole export
        actor = SimpleNamespace(id=current_user.id, login=current_user.login, role=current_user.role,
                                organisation_id=current_user.organisation_id)
        # end the request's transaction first (on SQLite a POST holds the write lock): the
        # export reads on its own connection, and its audit event is a short write of its own
        db.session.commit()
        if form.fmt.data in ("csv", "xlsx"):
            return _stream_export(form, actor)
        from .export import write_export  # only this view needs the export machinery
        workdir = Path(tempfile.mkdtemp(prefix="ieum-export-"))
        try:
            result = write_export(form.fmt.data, form.start.data, form.end.data,
                                  workdir / f"audit-export.{form.fmt.data}", form.reason.data.strip(),
                                  actor=actor)
            db.session.commit()  # audited before the first byte is sent
            # an open handle keeps the data readable after the directory is removed below
            handle = open(result.path, "rb")
        except DomainError as error:
            db.session.rollback()
            attach_to_form(form, error)
        else:
            return send_file(handle, mimetype=result.mimetype, as_attachment=True,
                             download_name=result.filename)
        finally:
            shutil.rmtree(workdir, ignore_errors=True)
    return render_template("audit/export.html", form=form), (400 if form.errors else 200)


def _stream_export(form: ExportForm, actor):
    """CSV and XLSX stream from their first byte: audited and committed first, then sent in chunks."""
    from .export_stream import stream_export
    try:
        filename, _rows, chunks = stream_export(form.fmt.data, form.start.data, form.end.data, form.reason.data,
                                                actor)
    except DomainError as error:
        db.session.rollback()
        attach_to_form(form, error)
        return render_template("audit/export.html", form=form), 400
    try:
        db.session.commit()  # the audit event, before the first byte
    except BaseException:
        chunks.close()  # ends the export's read transaction
        raise
    return Response(chunks, mimetype=chunks.mimetype,
                    headers={"Content-Disposition": f"attachment; filename={filename}",
                             "Cache-Control": "no-store", "X-Content-Type-Options": "nosniff"})


#: actions a user may take without the usual consent, with a written reason (emergency overrides)
OVERRIDE_ACTIONS = ("referral_sent",)


@bp.get("/overrides")
@auditor_only
def overrides():
    """Referrals sent without covering consent, with the reason's category (never its text), newest first."""
    from .models import AuditEvent
    query = (db.select(AuditEvent).where(AuditEvent.action.in_(OVERRIDE_ACTIONS), AuditEvent.reason.is_not(None))
             .order_by(AuditEvent.occurred_at.desc(), AuditEvent.id.desc()))
    page = db.paginate(query, per_page=SEARCH_PAGE_SIZE, error_out=False, count=True)
    record("audit_overrides_viewed", object_type="audit_event", details={"page": page.page, "shown": len(page.items)})
    html = render_template("audit/overrides.html", page=page, **_labels())
    db.session.commit()
    return html


from . import grants_views  # noqa: E402,F401  (권한 변경 이력: its routes and menu entry)
from . import subject_views  # noqa: E402,F401  (정보주체 찾기)
