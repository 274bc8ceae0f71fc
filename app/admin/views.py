"""Admin screens for users: list with filters, create, and the user page (admin only; every
other role gets an audited 403).  The user page's actions live in user_actions.py, the
organisation screens in org_views.py.  Admins never see case content: nothing here links to a
case or a student."""
from __future__ import annotations

from flask_babel import gettext, lazy_gettext as _l
from flask import abort, flash, make_response, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import or_, select
from sqlalchemy.orm import joinedload, selectinload

from .. import permissions as p
from ..audit.services import record
from ..auth.grants import grant_history
from ..auth.handling import clearance_state
from ..auth.handling_forms import handling_forms
from ..auth.models import GrantChange, LoginThrottle, Organisation, User
from ..auth.services import login_key
from ..db import utcnow
from ..extensions import db
from ..form_actions import save_or_show
from ..navigation import add_nav
from . import bp
from .forms import GrantForm, OptionalReasonForm, PasswordResetForm, ReasonForm, UserCreateForm, UserFilterForm
from .services import admin_figures, create_account, lock_of, locked_keys

PAGE_SIZE = 30
GRANT_PAGE_SIZE = 20
admin_only = p.roles_required(p.ADMIN)

add_nav("admin.users", _l("사용자"), p.ADMIN)
add_nav("admin.organisations", _l("기관"), p.ADMIN)

#: the forms of the user page: name (also the field prefix) -> form class
USER_FORMS = {"grant": GrantForm, "deactivate": ReasonForm, "reactivate": ReasonForm, "unlock": OptionalReasonForm,
              "reset": PasswordResetForm, "totp": ReasonForm}


@bp.app_template_global("admin_home_figures")
def admin_home_figures() -> dict:
    """Account counts for the admin home page (SQL aggregates)."""
    return admin_figures()


def no_store(html, status: int = 200):
    """A response no browser or proxy keeps (it may show a password once)."""
    response = make_response(html, status)
    response.headers["Cache-Control"] = "no-store"
    return response


def user_or_404(uid: str) -> User:
    user = db.session.execute(select(User).options(joinedload(User.organisation)).filter_by(uid=uid)).scalar_one_or_none()
    if user is None:
        abort(404)
    return user


def _user_query(form: UserFilterForm):
    """Users narrowed by the filters.  Names are encrypted, so they are not searched: the login
    (plain text) is, as part of its compared form."""
    query = select(User).options(joinedload(User.organisation)).order_by(User.login_key)
    if form.q.data and form.q.data.strip():
        query = query.where(User.login_key.contains(login_key(form.q.data), autoescape=True))
    if form.role.data:
        query = query.where(User.role == form.role.data)
    org = (form.org.data or "").strip()
    if org:
        query = query.where(User.organisation.has(or_(Organisation.code.in_({org, org.upper()}),
                                                      Organisation.name.contains(org, autoescape=True))))
    if form.status.data in ("active", "inactive"):
        query = query.where(User.active.is_(form.status.data == "active"))
    if form.locked.data:
        query = query.where(User.login_key.in_(select(LoginThrottle.login).where(LoginThrottle.locked_until > utcnow())))
    return query


@bp.get("/users")
@admin_only
def users():
    """사용자: accounts with filters (role, organisation, status, locked) and login search."""
    form = UserFilterForm(request.args)
    page, locked = None, set()
    if form.validate():
        page = db.paginate(_user_query(form), per_page=PAGE_SIZE, error_out=False, count=True)
        locked = locked_keys(u.login_key for u in page.items)
        # the list shows names: a view of personal data, recorded with its filters (codes only)
        record("admin_users_viewed", object_type="user",
               details={"role": form.role.data or None, "status": form.status.data or None,
                        "locked": bool(form.locked.data), "searched": bool(form.q.data or form.org.data),
                        "page": page.page, "rows": len(page.items)})
    args = {k: v for k, v in request.args.items() if k in form._fields and v}
    html = render_template("admin/users.html", form=form, page=page, locked=locked, args=args)
    db.session.commit()
    return html, (200 if page is not None else 400)


@bp.route("/users/new", methods=["GET", "POST"])
@admin_only
def new_user():
    """Create an account with a temporary password (a generated one is shown once)."""
    form = UserCreateForm(organisation=request.args.get("org", ""))
    if form.validate_on_submit():
        typed = form.password.data if form.password_mode.data == "typed" else None
        ok, result = save_or_show(form, lambda: create_account(
            current_user, login=form.login.data, display_name=form.display_name.data, role=form.role.data,
            organisation_code=form.organisation.data, password=typed))
        if ok:
            user, generated = result
            if generated:
                return no_store(render_template("admin/password_once.html", user=user, password=generated,
                                                created=True))
            flash(gettext("계정을 만들었습니다. 입력한 비밀번호는 임시 비밀번호라 첫 로그인 때 바꿔야 합니다."), "success")
            return redirect(url_for(".user", uid=user.uid))
    return no_store(render_template("admin/user_new.html", form=form), 400 if form.errors or form.form_errors else 200)


def _handling(user: User, given: dict | None = None) -> dict:
    """What the shared approval partial (auth/_handling.html) needs, its forms posting here."""
    return {"user": user, "state": clearance_state(user), "forms": handling_forms(given),
            "urls": {"approve": url_for(".approve", uid=user.uid), "withdraw": url_for(".withdraw", uid=user.uid),
                     "training": url_for(".training", uid=user.uid)},
            "own": user.id == current_user.id}


def render_user(user: User, forms: dict | None = None, status: int = 200, handling: dict | None = None):
    """The user page with its forms (a refused one carries its errors), the approval and
    training panel, and the grant history."""
    # imported here: at load time it would put the auditor's menu entry ahead of the others
    from ..audit.grants_views import describe_change, organisation_names
    given = forms or {}
    defaults = {"grant": {"role": user.role, "organisation": user.organisation.code if user.organisation else ""}}
    all_forms = {name: given.get(name) or cls(formdata=None, prefix=name, **defaults.get(name, {}))
                 for name, cls in USER_FORMS.items()}
    history = db.paginate(grant_history(user.id).options(selectinload(GrantChange.actor)),
                          per_page=GRANT_PAGE_SIZE, error_out=False, count=True)
    record("admin_user_viewed", obj=user, details={"grants_page": history.page})
    html = render_template("admin/user.html", user=user, forms=all_forms, lock=lock_of(user), history=history,
                           names=organisation_names(history.items), describe=describe_change,
                           handling=_handling(user, handling), is_self=user.id == current_user.id,
                           is_guardian=user.role == p.GUARDIAN,
                           totp_resettable=user.totp_enabled_at is not None or user.totp_secret_enc is not None)
    db.session.commit()
    return no_store(html, status)


@bp.get("/users/<uid>")
@admin_only
def user(uid: str):
    """One account: its facts, the actions on it and its grant history (viewing is audited)."""
    return render_user(user_or_404(uid))


from . import org_views, user_actions  # noqa: E402,F401  (their routes join this blueprint)
