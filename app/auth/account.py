"""The account page every user has: who they are, their last sign-ins, password change, and
signing out everywhere else.  A temporary password (set by an admin or a coordinator) must be
changed before anything else can be opened."""
from __future__ import annotations

from flask import flash, redirect, render_template, request, session, url_for
from flask_babel import gettext
from flask_login import current_user, login_required
from sqlalchemy import select
from werkzeug.security import check_password_hash

from ..audit.models import AuditEvent
from ..audit.services import record
from ..domain import DomainError
from ..extensions import db
from ..form_actions import save_or_show
from ..permissions import role_label
from . import bp
from .forms import EmptyForm, PasswordChangeForm
from .services import set_password
from .session import end_all_sessions

#: what a user with a temporary password may still open
OPEN_WITH_TEMPORARY_PASSWORD = {"auth.account", "auth.change_password", "auth.logout", "auth.login",
                                "auth.set_language", "static"}


def recent_sign_ins(user, limit: int = 10) -> list[AuditEvent]:
    """The user's latest sign-ins and failed attempts on their login, from the audit trail."""
    return list(db.session.execute(
        select(AuditEvent).where(AuditEvent.actor_id == user.id, AuditEvent.action == "login")
        .order_by(AuditEvent.id.desc()).limit(limit)).scalars())


def _page(form=None, status: int = 200):
    html = render_template("auth/account.html", form=form or PasswordChangeForm(formdata=None),
                           sign_ins=recent_sign_ins(current_user), role=role_label(current_user.role),
                           button=EmptyForm(formdata=None))
    return html, status


@bp.get("/account")
@login_required
def account():
    """내 계정: name, organisation, role, last sign-ins, password, sign out everywhere."""
    return _page()


@bp.post("/account/password")
@login_required
def change_password():
    """Change one's own password (the current one is required); other sessions end, this one stays."""
    form = PasswordChangeForm()
    if form.validate():
        def change():
            if not check_password_hash(current_user.password_hash, form.current.data):
                record("password_change_refused", outcome="denied", object_type="user", object_id=current_user.uid)
                db.session.commit()  # the refusal is audited even though nothing changes
                raise DomainError(gettext("지금 비밀번호가 맞지 않습니다."), "current")
            if check_password_hash(current_user.password_hash, form.new.data):
                raise DomainError(gettext("지금과 다른 비밀번호를 정해 주세요."), "new")
            try:
                set_password(current_user, form.new.data, actor=current_user)
            except DomainError as error:
                error.field = "new"
                raise
        ok, _ = save_or_show(form, change)
        if ok:
            session["sv"] = current_user.session_version  # this browser stays signed in
            flash(gettext("비밀번호를 바꿨습니다. 다른 기기의 로그인은 모두 끝났습니다."), "success")
            return redirect(url_for("auth.account"))
    return _page(form, 400)


@bp.post("/account/sign-out-everywhere")
@login_required
def sign_out_everywhere():
    """다른 기기에서 모두 로그아웃: every other session ends; this one stays."""
    if EmptyForm().validate_on_submit():
        end_all_sessions(current_user)
        record("sessions_ended", object_type="user", object_id=current_user.uid)
        db.session.commit()
        session["sv"] = current_user.session_version
        flash(gettext("다른 기기의 로그인을 모두 끝냈습니다."), "success")
    return redirect(url_for("auth.account"))


def init_app(app) -> None:
    @app.before_request
    def require_password_change():
        if (current_user.is_authenticated and current_user.password_temporary
                and request.endpoint not in OPEN_WITH_TEMPORARY_PASSWORD):
            flash(gettext("임시 비밀번호로 로그인했습니다. 계속하려면 새 비밀번호로 바꿔 주세요."), "warning")
            return redirect(url_for("auth.account", _anchor="password"))
        return None
