"""Statistics screens: one page per audience (school, district, city), its XLSX and CSV, and the
district's printable 성과보고서.  Views are thin: the scope comes from permissions.report_scope,
the figures from dashboards.build (always de-identified outside the school team), and every
view and download is audited with its filters."""
from __future__ import annotations

from flask import Response, abort, redirect, render_template, request, url_for
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required

from .. import permissions as p
from ..audit.services import record
from ..navigation import add_nav
from . import bp
from .dashboards import build
from .exports import export_name, report_csv, report_xlsx
from .filters import PERIOD_KINDS, FilterForm
from .summary import summary_lines
from .suppression import cell_text, statistic_text, unit_name

add_nav("reports.index", _l("통계"), p.SCHOOL_STAFF, p.SCHOOL_LEAD, p.DISTRICT_COORDINATOR, p.AUDITOR, p.ADMIN)

LEVEL_TITLES = {"school": _l("우리 학교 통계"), "district": _l("교육지원청 통계"), "city": _l("서울시 통계")}
GROUPS = {"office": _l("교육지원청별"), "gu": _l("자치구별")}
bp.add_app_template_filter(unit_name, "unit_name")
MIMETYPES = {"csv": "text/csv; charset=utf-8",
             "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}


def _dashboard(level: str):
    """(dashboard, filter form) for ``level``; 403 when the user may not see it."""
    scope = p.report_scope(current_user, level, request.args.get("group"))
    if scope is None:
        abort(403)
    form = FilterForm(request.args)
    form.validate()
    return build(scope, form.filters()), form


def _link_args(dashboard) -> dict:
    """The query string of this page's figures (downloads and shared links get the same)."""
    group = {"group": dashboard.scope.group} if dashboard.scope.level == "city" else {}
    return {**dashboard.filters.args(), **group}


def _audit(action: str, dashboard, **extra) -> None:
    scope = dashboard.scope
    record(action, object_type="report", object_id=scope.level,
           details={"group": scope.group, **dashboard.filters.audit_details(), **extra})


@bp.get("/")
@login_required
def index():
    """통계 in the menu: the page of the user's own audience."""
    level = p.report_level_for(current_user)
    if level is None:
        abort(403)
    return redirect(url_for(".page", level=level))


@bp.get("/<any(school, district, city):level>")
@login_required
def page(level: str):
    """A statistics page: charts first, every number one click away as a table."""
    dashboard, form = _dashboard(level)
    sections = dashboard.rendered_once("sections", lambda: render_template("reports/_sections.html", dashboard=dashboard))
    html = render_template("reports/dashboard.html", dashboard=dashboard, form=form, level=level, sections_html=sections,
                           title=LEVEL_TITLES[level], groups=GROUPS, periods=PERIOD_KINDS,
                           cell_text=cell_text, statistic_text=statistic_text, args=_link_args(dashboard))
    _audit("report_viewed", dashboard)
    return html, (400 if form.errors else 200)


@bp.get("/<any(school, district, city):level>/export.<any(csv, xlsx):fmt>")
@login_required
def export(level: str, fmt: str):
    """The page's tables as one file, through the shared export writer; audited."""
    dashboard, _form = _dashboard(level)
    body = (report_xlsx if fmt == "xlsx" else report_csv)(dashboard, LEVEL_TITLES[level])
    _audit("report_exported", dashboard, format=fmt)
    name = export_name(dashboard, fmt)
    return Response(body, mimetype=MIMETYPES[fmt],
                    headers={"Content-Disposition": f"attachment; filename*=UTF-8''{name}",
                             "Cache-Control": "no-store"})


@bp.get("/district/report")
@login_required
def district_report():
    """성과보고서: the district's semester or year on paper — a generated summary, the charts
    and their tables, laid out for printing."""
    dashboard, form = _dashboard("district")
    html = render_template("reports/report.html", dashboard=dashboard, form=form,
                           summary=summary_lines(dashboard), cell_text=cell_text, statistic_text=statistic_text)
    _audit("report_printed", dashboard)
    return html, (400 if form.errors else 200)
