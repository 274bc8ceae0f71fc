"""Case screens: lists — the school's (or district's) cases, filtered, most urgent first."""
from __future__ import annotations

from flask import current_app, render_template, request
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import select

from ... import permissions as p
from ...audit.services import record
from ...db import today_kst
from ...extensions import db
from ...navigation import add_nav
from .. import bp
from ..forms.request import CaseFilterForm
from ..models import SupportCase
from ..queries import CaseFilters, consent_missing_condition, filtered_cases, overdue_condition

#: statuses in which missing consent holds the case up (support needs both consents, 법 11③)
CONSENT_MATTERS = ("selected", "planning", "in_support", "monitoring")

readers = p.roles_required(*p.SCHOOL_ROLES, p.DISTRICT_COORDINATOR)

add_nav("cases.index", _l("지원 사례"), p.SCHOOL_STAFF, p.SCHOOL_LEAD, p.DISTRICT_COORDINATOR)


def _flagged(case_ids: list[int], condition) -> set[int]:
    """The ids among one page's cases that meet ``condition`` (one query per flag, never per row)."""
    if not case_ids:
        return set()
    return set(db.session.execute(select(SupportCase.id).where(SupportCase.id.in_(case_ids), condition)).scalars())


@bp.route("/")
@readers
def index():
    """The cases the user may see, with filters, search by name or NEIS number, and pages."""
    form = CaseFilterForm(request.args)
    page, overdue, no_consent = None, set(), set()
    if form.validate():
        filters = CaseFilters(status=form.status.data or "", domain=form.domain.data or "", risk=form.risk.data or "",
                              overdue=bool(form.overdue.data), consent_missing=bool(form.consent_missing.data),
                              q=(form.q.data or "").strip())
        page = db.paginate(filtered_cases(current_user, filters), per_page=current_app.config["PAGE_SIZE"],
                           error_out=False)
        day, ids = today_kst(), [c.id for c in page.items]
        overdue = _flagged(ids, overdue_condition(day))
        no_consent = _flagged([c.id for c in page.items if c.status in CONSENT_MATTERS], consent_missing_condition(day))
        # a list shows names: record the view, with the filters but never the search text
        record("case_list_viewed", object_type="support_case",
               details={"status": filters.status, "domain": filters.domain, "risk": filters.risk,
                        "overdue": filters.overdue, "consent_missing": filters.consent_missing,
                        "searched": bool(filters.q), "page": page.page, "shown": len(page.items)})
    html = render_template("cases/list.html", form=form, page=page, filters=form.active(), overdue=overdue,
                           no_consent=no_consent, district=current_user.role == p.DISTRICT_COORDINATOR,
                           can_request=current_user.role in p.SCHOOL_ROLES)
    # commit after rendering: a commit expires the page's rows, and reloading them would cost a query each
    db.session.commit()
    return html, (400 if form.errors else 200)
