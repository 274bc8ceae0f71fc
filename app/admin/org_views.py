"""Admin screens for organisations: list with filters and search, register and edit schools and
agencies, deactivate (refused while active accounts remain) and reactivate."""
from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from flask_babel import gettext, lazy_gettext as _l
from sqlalchemy import func, or_, select
from sqlalchemy.orm import joinedload

from ..auth.models import Gu, Organisation, User
from ..extensions import db
from ..form_actions import save_or_show
from ..words import particle
from . import bp
from . import organisations as o
from .forms import (ORG_KIND_CHOICES, SCHOOL_LEVEL_LABELS, AgencyForm, ButtonForm, OrganisationFilterForm,
                    SchoolForm)
from .views import PAGE_SIZE, admin_only

FORMS = {"school": SchoolForm, "agency": AgencyForm}
KIND_WORDS = {"school": _l("학교"), "agency": _l("유관기관")}


def gu_choices() -> list[tuple[str, str]]:
    """The 25 자치구 with the district office each belongs to."""
    rows = db.session.execute(select(Gu).options(joinedload(Gu.office)).order_by(Gu.name_ko)).scalars()
    return [(str(gu.id), f"{gu.name_ko} ({gu.office.name_ko})") for gu in rows]


def organisation_or_404(uid: str) -> Organisation:
    organisation = db.session.execute(select(Organisation).filter_by(uid=uid)).scalar_one_or_none()
    if organisation is None:
        abort(404)
    return organisation


@bp.get("/organisations")
@admin_only
def organisations():
    """기관: every organisation with filters (kind, 자치구, status) and name/code search."""
    form = OrganisationFilterForm(request.args)
    form.gu.choices = [("", gettext("전체")), *gu_choices()]
    page, counts = None, {}
    if form.validate():
        query = (select(Organisation).options(joinedload(Organisation.gu), joinedload(Organisation.office))
                 .order_by(Organisation.kind, Organisation.name, Organisation.id))
        text = (form.q.data or "").strip()
        if text:
            query = query.where(or_(Organisation.name.contains(text, autoescape=True),
                                    Organisation.code.in_({text, text.upper()})))
        if form.kind.data:
            query = query.where(Organisation.kind == form.kind.data)
        if form.gu.data:
            query = query.where(Organisation.gu_id == int(form.gu.data))
        if form.status.data in ("active", "inactive"):
            query = query.where(Organisation.active.is_(form.status.data == "active"))
        page = db.paginate(query, per_page=PAGE_SIZE, error_out=False, count=True)
        ids = [org.id for org in page.items]
        # active accounts per organisation on this page, in one query
        counts = dict(db.session.execute(select(User.organisation_id, func.count()).where(
            User.organisation_id.in_(ids), User.active.is_(True)).group_by(User.organisation_id)).all()) if ids else {}
    args = {k: v for k, v in request.args.items() if k in form._fields and v}
    return render_template("admin/organisations.html", form=form, page=page, counts=counts, args=args,
                           kinds=dict(ORG_KIND_CHOICES[1:]),
                           levels=SCHOOL_LEVEL_LABELS), (200 if page is not None else 400)


def _fields(form) -> dict:
    return {name: field.data for name, field in form._fields.items() if name not in ("csrf_token", "submission")}


@bp.route("/organisations/new/<kind>", methods=["GET", "POST"])
@admin_only
def new_organisation(kind: str):
    """Register a school (NEIS code, level, 자치구) or an agency (kind, 자치구)."""
    if kind not in FORMS:
        abort(404)
    form = FORMS[kind]()
    form.gu_id.choices = [("", gettext("선택해 주세요")), *gu_choices()]
    if form.validate_on_submit():
        ok, organisation = save_or_show(form, lambda: o.create_organisation(current_user, kind, _fields(form)))
        if ok:
            flash(gettext("%(kind)s%(eul)s 등록했습니다 (코드 %(code)s).", kind=KIND_WORDS[kind],
                          eul=particle(str(KIND_WORDS[kind]), "을/를"),
                          code=organisation.code), "success")
            return redirect(url_for(".organisation", uid=organisation.uid))
    return render_template("admin/organisation_form.html", form=form, kind=kind, organisation=None,
                           kind_word=KIND_WORDS[kind]), (400 if form.errors or form.form_errors else 200)


def _render(organisation: Organisation, form=None, button=None, status: int = 200):
    if form is None and organisation.kind in FORMS:
        form = FORMS[organisation.kind](formdata=None, obj=organisation)
        form.gu_id.data = str(organisation.gu_id or "")
    if form is not None:
        form.gu_id.choices = [("", gettext("선택해 주세요")), *gu_choices()]
    return render_template("admin/organisation.html", organisation=organisation, form=form,
                           button=button or ButtonForm(formdata=None), users=o.active_user_count(organisation),
                           kind_word=KIND_WORDS.get(organisation.kind, organisation.kind_label),
                           levels=SCHOOL_LEVEL_LABELS), status


@bp.get("/organisations/<uid>")
@admin_only
def organisation(uid: str):
    """One organisation: its facts, the edit form and the deactivate/reactivate button."""
    return _render(organisation_or_404(uid))


@bp.post("/organisations/<uid>")
@admin_only
def edit_organisation(uid: str):
    """Save a school's or agency's code, name, level/kind and 자치구 (the office follows the 자치구)."""
    organisation = organisation_or_404(uid)
    if organisation.kind not in FORMS:
        abort(404)
    form = FORMS[organisation.kind]()
    form.gu_id.choices = [("", gettext("선택해 주세요")), *gu_choices()]
    if form.validate_on_submit():
        ok, changed = save_or_show(form, lambda: o.update_organisation(current_user, organisation, _fields(form)))
        if ok:
            flash(gettext("기관 정보를 저장했습니다.") if changed else gettext("바뀐 내용이 없습니다."), "success" if changed else "info")
            return redirect(url_for(".organisation", uid=uid))
    return _render(organisation_or_404(uid), form, status=400)


def _switch(uid: str, change, message: str):
    organisation = organisation_or_404(uid)
    button = ButtonForm()
    if button.validate_on_submit():
        ok, _ = save_or_show(button, lambda: change(current_user, organisation))
        if ok:
            flash(message, "success")
            return redirect(url_for(".organisation", uid=uid))
    return _render(organisation_or_404(uid), button=button, status=400)


@bp.post("/organisations/<uid>/deactivate")
@admin_only
def deactivate_organisation(uid: str):
    """Take the organisation out of use (refused, naming how many, while accounts are active)."""
    return _switch(uid, o.deactivate_organisation, gettext("기관을 비활성화했습니다."))


@bp.post("/organisations/<uid>/reactivate")
@admin_only
def reactivate_organisation(uid: str):
    """Put a deactivated organisation back in use."""
    return _switch(uid, o.reactivate_organisation, gettext("기관을 다시 운영 상태로 바꿨습니다."))
