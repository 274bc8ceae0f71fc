"""The agency directory: search, agency pages, coordinators' upkeep, CSV import/export, case suggestions."""
from __future__ import annotations

from flask import Response, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _, lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import String, cast, exists, or_, select
from sqlalchemy.orm import selectinload
from werkzeug.routing import BuildError

from .. import permissions as p
from ..audit.services import record
from ..csv_import import two_step_import
from ..auth.models import Gu, Organisation
from ..cases.loaders import UID_MAX, deny_not_found, load_case_or_404
from ..cases.models import DOMAINS
from ..domain import DomainError, attach_to_form
from ..extensions import db
from ..form_actions import save_or_show
from ..navigation import add_nav
from ..transactions import read_first
from . import bp
from . import services as svc
from .csv_io import COLUMN_LABELS, KOREAN_HEADERS, import_directory, parse_directory
from .csv_io import export_csv as build_csv
from .forms import AgencyEditForm, AgencyForm, ButtonForm, DirectoryFilterForm, ImportUploadForm, ServiceForm
from .models import AGENCY_KIND_LABELS, AGENCY_KINDS, CAPACITY_STATUSES, AgencyService, ServiceArea
from .suggestions import suggest_agencies

readers = p.roles_required(p.SCHOOL_STAFF, p.SCHOOL_LEAD, p.DISTRICT_COORDINATOR, p.AGENCY_COORDINATOR)
coordinators = p.roles_required(p.DISTRICT_COORDINATOR)
#: who may keep an entry: the district office's coordinators, and the agency's own (``_managed`` decides which)
keepers = p.roles_required(p.DISTRICT_COORDINATOR, p.AGENCY_COORDINATOR)
add_nav("agencies.directory", _l("유관기관"), p.SCHOOL_STAFF, p.SCHOOL_LEAD, p.DISTRICT_COORDINATOR)


@bp.app_template_filter("agency_kind")
def agency_kind_label(kind: str | None) -> str:
    """An agency kind (stored as its Korean name) in the reader's language; an unknown kind as it is."""
    return AGENCY_KIND_LABELS.get(kind, kind or "")


def _load(model, uid, **where):
    if uid and len(str(uid)) <= UID_MAX:
        return db.session.execute(select(model).where(model.uid == str(uid)).filter_by(**where)).scalar_one_or_none()
    return None


def load_agency_or_404(uid) -> Organisation:
    """Any agency of the directory (it is public to every reader); missing is an audited 404."""
    agency = _load(Organisation, uid, kind="agency")
    if agency is None:
        deny_not_found(Organisation.__tablename__, uid)
    return agency


def _managed(agency: Organisation) -> Organisation:
    """403 (audited by the handler) unless the current user keeps this agency's entry."""
    if not svc.can_manage_agency(current_user, agency):
        abort(403)
    return agency


def _gu_choices():
    return [(g.id, g.name_ko) for g in db.session.execute(select(Gu).order_by(Gu.name_ko)).scalars()]


def _office_gu_choices(office_code: str):
    return [(None, _("선택해 주세요"))] + [(g.id, g.name_ko) for g in db.session.execute(
        select(Gu).where(Gu.office_code == office_code).order_by(Gu.name_ko)).scalars()]


@bp.get("/")
@readers
def directory():
    """Search the directory by name, kind, domain, 자치구 and capacity; agencies with their matching services."""
    form = DirectoryFilterForm(request.args)
    form.gu.choices = [("", _("전체")), *_gu_choices()]  # "": no filter (None would be sent as "None")
    valid = form.validate()
    f = {k: (getattr(form, k).data if valid else None) or None for k in ("q", "kind", "domain", "gu", "capacity")}
    conditions = []
    if f["domain"] in DOMAINS:
        conditions.append(cast(AgencyService.domains, String).like(f'%"{f["domain"]}"%'))
    if f["capacity"] in CAPACITY_STATUSES:
        conditions.append(AgencyService.capacity_status == f["capacity"])
    if f["gu"]:
        conditions.append(exists().where(ServiceArea.service_id == AgencyService.id, ServiceArea.gu_id == f["gu"]))
    query = select(Organisation).where(Organisation.kind == "agency", Organisation.active)
    if f["kind"] in AGENCY_KINDS:
        query = query.where(Organisation.agency_kind == f["kind"])
    if f["q"]:
        like = f"%{f['q'].strip()}%"
        query = query.where(or_(Organisation.name.ilike(like), exists().where(
            AgencyService.organisation_id == Organisation.id, AgencyService.name.ilike(like))))
    if conditions:
        query = query.where(exists().where(AgencyService.organisation_id == Organisation.id, *conditions))
    page = db.paginate(query.order_by(Organisation.name, Organisation.id), per_page=current_app.config["PAGE_SIZE"],
                       error_out=False)
    services: dict[int, list] = {}
    if page.items:
        rows = db.session.execute(select(AgencyService).where(
            AgencyService.organisation_id.in_([a.id for a in page.items]), *conditions)
            .options(selectinload(AgencyService.areas).selectinload(ServiceArea.gu))
            .order_by(AgencyService.name)).scalars()
        for s in rows:
            services.setdefault(s.organisation_id, []).append(s)
    args = {k: v for k, v in f.items() if v}
    return render_template("agencies/directory.html", form=form, page=page, services=services, args=args,
                           capacity=CAPACITY_STATUSES, domains=DOMAINS,
                           manager=p.has_role(current_user, p.DISTRICT_COORDINATOR),
                           can_see_overdue=p.has_role(current_user, p.DISTRICT_COORDINATOR, *p.SCHOOL_ROLES),
                           own_agency=current_user.organisation
                           if p.has_role(current_user, p.AGENCY_COORDINATOR) else None)


@bp.route("/new", methods=["GET", "POST"])
@coordinators
def new_agency():
    """Register an agency in a 자치구 of the coordinator's office."""
    form = AgencyForm()
    form.gu_id.choices = _office_gu_choices(current_user.organisation.office_code)
    if form.validate_on_submit():
        try:
            agency = svc.register_agency(current_user, form.name.data, form.agency_kind.data, form.gu_id.data)
        except DomainError as error:
            db.session.rollback()
            attach_to_form(form, error)
        else:
            db.session.commit()
            flash(_("기관을 등록했습니다. 서비스를 추가해 주세요."), "success")
            return redirect(url_for("agencies.new_service", uid=agency.uid))
    return render_template("agencies/service_form.html", form=form, agency=None, service=None,
                           agency_form=True), (400 if request.method == "POST" else 200)


@bp.route("/<uid>/edit", methods=["GET", "POST"])
@keepers
def edit_agency(uid: str):
    """Edit an agency's name, kind and 자치구 (its own coordinator, or its district office, which
    also decides whether it operates)."""
    agency = _managed(load_agency_or_404(uid))
    form = AgencyEditForm(obj=agency) if request.method == "GET" else AgencyEditForm()
    form.gu_id.choices = _office_gu_choices(agency.office_code)
    district = p.has_role(current_user, p.DISTRICT_COORDINATOR)
    if not district:
        del form.active
    if form.validate_on_submit():
        fields = {"name": form.name.data, "agency_kind": form.agency_kind.data, "gu_id": form.gu_id.data}
        if district:
            fields["active"] = form.active.data
        ok, changed = save_or_show(form, lambda: svc.update_agency(current_user, agency, fields))
        if ok:
            flash(_("기관 정보를 저장했습니다.") if changed else _("바뀐 내용이 없습니다."), "success")
            return redirect(url_for("agencies.detail", uid=agency.uid))
    return render_template("agencies/service_form.html", form=form, agency=agency, service=None,
                           agency_form=True), (400 if request.method == "POST" else 200)


@bp.get("/<uid>")
@readers
def detail(uid: str):
    """One agency with its services, areas, capacity and when each entry was last confirmed."""
    agency = load_agency_or_404(uid)
    services = db.session.execute(select(AgencyService).where(AgencyService.organisation_id == agency.id)
                                  .options(selectinload(AgencyService.areas).selectinload(ServiceArea.gu))
                                  .order_by(AgencyService.name)).scalars().all()
    return render_template("agencies/agency.html", agency=agency, services=services, capacity=CAPACITY_STATUSES,
                           domains=DOMAINS, manager=svc.can_manage_agency(current_user, agency), button=ButtonForm())


def _service_form(agency, service, run):
    """Validate, run the service, commit and go to the agency; else re-render with the errors."""
    form = ServiceForm()
    form.areas.choices = _gu_choices()
    if request.method == "GET":
        if service is not None:
            form.fill(service)
        else:
            form.areas.data = [agency.gu_id] if agency.gu_id else []
    elif form.validate_on_submit():
        ok, _saved = save_or_show(form, lambda: run(form.to_fields()))
        if ok:
            flash(_("저장했습니다."), "success")
            return redirect(url_for("agencies.detail", uid=agency.uid))
    return render_template("agencies/service_form.html", form=form, agency=agency, service=service,
                           agency_form=False), (400 if request.method == "POST" else 200)


@bp.route("/<uid>/services/new", methods=["GET", "POST"])
@keepers
def new_service(uid: str):
    """Add a service to an agency the user keeps (of the coordinator's office, or their own)."""
    agency = _managed(load_agency_or_404(uid))
    return _service_form(agency, None, lambda fields: svc.add_service(current_user, agency, fields))


def _load_service(uid) -> AgencyService:
    service = _load(AgencyService, uid)
    if service is None:
        deny_not_found(AgencyService.__tablename__, uid)
    _managed(service.organisation)
    return service


@bp.route("/services/<uid>/edit", methods=["GET", "POST"])
@keepers
def edit_service(uid: str):
    """Edit a service of an agency the user keeps."""
    service = _load_service(uid)
    return _service_form(service.organisation, service, lambda fields: svc.update_service(current_user, service, fields))


@bp.post("/services/<uid>/confirm")
@keepers
def confirm_service(uid: str):
    """Record that the agency confirmed the entry today."""
    service = _load_service(uid)
    if not ButtonForm().validate_on_submit():
        abort(400)
    svc.confirm_service(current_user, service)
    db.session.commit()
    flash(_("오늘 날짜로 확인했습니다."), "success")
    return redirect(url_for("agencies.detail", uid=service.organisation.uid))


@bp.route("/import", methods=["GET", "POST"])
@read_first  # the upload and preview only read; the confirmation takes the write lock just to save
@coordinators
def import_csv():
    """Upload a directory CSV, check every row in a preview, then save all rows or none."""
    def saved(count: int):
        flash(_("서비스 %(n)d건을 등록했습니다.", n=count), "success")
        return redirect(url_for(".directory"))
    return two_step_import("agencies/import.html", ImportUploadForm, lambda raw: parse_directory(current_user, raw),
                          lambda raw: import_directory(current_user, raw), saved,
                          gus=dict(_gu_choices()), capacity=CAPACITY_STATUSES,
                          column_labels=COLUMN_LABELS, korean_headers=KOREAN_HEADERS)


@bp.get("/export.csv")
@coordinators
def export_csv():
    """Download the office's directory (or, with scope=all, the whole directory) as CSV; audited."""
    scope_all = request.args.get("scope") == "all"
    text = build_csv(current_user, None if scope_all else current_user.organisation.office_code)
    db.session.commit()
    name = "agencies-all.csv" if scope_all else f"agencies-{current_user.organisation.office_code.lower()}.csv"
    return Response(text, mimetype="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f"attachment; filename*=UTF-8''{name}"})


@bp.get("/suggest/<uid>")
@p.roles_required(p.SCHOOL_STAFF, p.SCHOOL_LEAD, p.DISTRICT_COORDINATOR)
def suggest(uid: str):
    """Ranked agency services for a case the user can view, each with its explained score."""
    case = load_case_or_404(uid)
    suggestions = suggest_agencies(case)
    links = {s.agency.id: _referral_url(case, s.agency) for s in suggestions}
    record("agency_suggestions_viewed", obj=case, subject=case.student, details={"shown": len(suggestions)})
    html = render_template("agencies/suggestions.html", case=case, student=case.student, suggestions=suggestions,
                           links=links, capacity=CAPACITY_STATUSES)
    db.session.commit()
    return html


def _referral_url(case, agency):
    """The referral form for this case and agency, once the referral screens exist."""
    if "agencies.new_referral" not in current_app.view_functions:
        return None
    for key in ("uid", "case_uid"):  # the referral view names its case argument
        try:
            return url_for("agencies.new_referral", agency=agency.uid, **{key: case.uid})
        except BuildError:
            continue
    return None


# create_app imports only each feature's views module: the referral screens and the agency
# portal live in their own modules and register their routes from here
from . import portal_views, referral_views  # noqa: E402,F401
