"""Case screens: lists — the school's (or district's) cases, filtered, most urgent first."""
from __future__ import annotations

from flask import current_app, redirect, render_template, request, url_for
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import case as sql_case
from sqlalchemy import select
from werkzeug.datastructures import MultiDict

from ... import permissions as p
from ... import searches
from ...audit.services import record
from ...db import today_kst
from ...extensions import db
from ...navigation import add_nav
from .. import bp
from ..forms.request import CaseFilterForm
from ..models import SupportCase
from ..queries import CaseFilters, case_page, consent_missing_condition, overdue_condition

#: statuses in which missing consent holds the case up (support needs both consents, 법 11③)
CONSENT_MATTERS = ("selected", "planning", "in_support", "monitoring")

readers = p.roles_required(*p.SCHOOL_ROLES, p.DISTRICT_COORDINATOR)

add_nav("cases.index", _l("지원 사례"), p.SCHOOL_STAFF, p.SCHOOL_LEAD, p.DISTRICT_COORDINATOR)


def _flags(cases: list, day) -> tuple[set[int], set[int]]:
    """The ids among one page's cases with an overdue action, and those held up by missing
    consent: one query for both flags, never one per row."""
    if not cases:
        return set(), set()
    rows = db.session.execute(select(
        SupportCase.id, sql_case((overdue_condition(day), 1), else_=0), sql_case((consent_missing_condition(day), 1), else_=0))
        .where(SupportCase.id.in_([c.id for c in cases]))).all()
    matters = {c.id for c in cases if c.status in CONSENT_MATTERS}
    return {i for i, late, _ in rows if late}, {i for i, _, missing in rows if missing and i in matters}


def _page_args(form: CaseFilterForm, q: str, token: str = "") -> dict:
    """The filters as query-string arguments: status, domain … as they are; the search text only as
    a token kept in the session (``token`` when the list already has one)."""
    args = {k: v for k, v in form.active().items() if k != "q"}
    if q:
        args[searches.ARG] = token or searches.remember("cases", q)
    return args


@bp.route("/", methods=["GET", "POST"])
@readers
def index():
    """The cases the user may see, with filters, search by name or NEIS number, and pages."""
    if request.method == "POST":  # the filters were posted: send them back as a GET without the search text
        form = CaseFilterForm(request.form)
        if form.validate():
            return redirect(url_for("cases.index", **_page_args(form, (form.q.data or "").strip())))
        q = token = ""
    else:
        # the search text travels only as an opaque token; a stray ?q= is ignored, never searched
        token = request.args.get(searches.ARG) or ""
        q = searches.recall("cases", token)
        form = CaseFilterForm(MultiDict([(k, v) for k, v in request.args.items(multi=True) if k != "q"]))
        form.q.data = q
    page, overdue, no_consent = None, set(), set()
    if request.method == "GET" and form.validate():
        filters = CaseFilters(status=form.status.data or "", domain=form.domain.data or "", risk=form.risk.data or "",
                              overdue=bool(form.overdue.data), consent_missing=bool(form.consent_missing.data), q=q)
        page = case_page(current_user, filters, current_app.config["PAGE_SIZE"])
        overdue, no_consent = _flags(page.items, today_kst())
        # a list shows names: record the view, with the filters but never the search text
        record("case_list_viewed", object_type="support_case",
               details={"status": filters.status, "domain": filters.domain, "risk": filters.risk,
                        "overdue": filters.overdue, "consent_missing": filters.consent_missing,
                        "searched": bool(filters.q), "page": page.page, "shown": len(page.items)})
    html = render_template("cases/list.html", form=form, page=page, filters=_page_args(form, q, token), overdue=overdue,
                           no_consent=no_consent, district=current_user.role == p.DISTRICT_COORDINATOR,
                           can_request=current_user.role in p.SCHOOL_ROLES)
    # commit after rendering: a commit expires the page's rows, and reloading them would cost a query each
    db.session.commit()
    return html, (400 if form.errors else 200)
