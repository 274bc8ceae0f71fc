"""The actions on the admin's user page, one POST route each: role or organisation change,
deactivate, reactivate, unlock, password reset, handling approval and training, 2FA reset.
A refused action shows the user page again with the message next to its field (400)."""
from __future__ import annotations

from flask_babel import gettext
from typing import Callable

from flask import flash, redirect, render_template, url_for
from flask_login import current_user

from ..auth.handling_views import DONE, run_action
from ..auth.totp import reset_totp as totp_reset
from ..form_actions import save_or_show
from ..permissions import role_label
from . import bp
from . import services as s
from .views import USER_FORMS, admin_only, no_store, render_user, user_or_404


def _act(uid: str, name: str, change: Callable, message: Callable | str):
    """Run ``change(user, form)`` for the submitted form ``name``; on success flash ``message``
    and go back to the user page, else show the page with the form's errors."""
    user = user_or_404(uid)
    form = USER_FORMS[name](prefix=name)
    if form.validate_on_submit():
        ok, result = save_or_show(form, lambda: change(user, form))
        if ok:
            flash(message(result) if callable(message) else message, "success")
            return redirect(url_for(".user", uid=uid))
    return render_user(user_or_404(uid), {name: form}, 400)


@bp.post("/users/<uid>/grant")
@admin_only
def change_grant(uid: str):
    """Change the role and/or organisation with a reason; the user's sessions end."""
    def change(user, form):
        s.change_grant(user, current_user, role=form.role.data, organisation_code=form.organisation.data,
                       reason=form.reason.data)
        return user
    return _act(uid, "grant", change, lambda user: (
        gettext("역할·소속을 바꿨습니다 (%(grant)s). 이 사용자의 모든 로그인이 끝났습니다.",
                grant=f"{role_label(user.role)}{' · ' + user.organisation.name if user.organisation else ''}")))


@bp.post("/users/<uid>/deactivate")
@admin_only
def deactivate(uid: str):
    """Deactivate the account with a reason; its sessions end."""
    return _act(uid, "deactivate", lambda user, form: s.deactivate_account(user, current_user, form.reason.data),
                gettext("계정을 비활성화했습니다. 이 사용자는 더 이상 로그인할 수 없습니다."))


@bp.post("/users/<uid>/reactivate")
@admin_only
def reactivate(uid: str):
    """Let a deactivated account sign in again, with a reason."""
    return _act(uid, "reactivate", lambda user, form: s.reactivate_user(user, current_user, form.reason.data),
                gettext("계정을 다시 사용할 수 있게 했습니다."))


@bp.post("/users/<uid>/unlock")
@admin_only
def unlock(uid: str):
    """Lift a lockout after too many wrong passwords."""
    return _act(uid, "unlock", lambda user, form: s.unlock_user(user, current_user, form.reason.data),
                gettext("로그인 잠금을 풀었습니다."))


@bp.post("/users/<uid>/password")
@admin_only
def reset_password(uid: str):
    """A new temporary password, shown once; every session of the user ends."""
    user = user_or_404(uid)
    form = USER_FORMS["reset"](prefix="reset")
    if form.validate_on_submit():
        ok, password = save_or_show(form, lambda: s.reset_password(user, current_user, form.reason.data))
        if ok:
            return no_store(render_template("admin/password_once.html", user=user, password=password, created=False))
    return render_user(user_or_404(uid), {"reset": form}, 400)


# -- handling approval and training (app.auth.handling), the second factor (app.auth.totp) ----

def _handling_action(uid: str, action: str):
    """Run the shared approval form ``action`` (its rules are app.auth.handling's)."""
    user = user_or_404(uid)
    ok, form = run_action(user, action, current_user)
    if ok:
        flash(DONE[action], "success")
        return redirect(url_for(".user", uid=uid))
    return render_user(user_or_404(uid), status=400, handling={action: form})


@bp.post("/users/<uid>/approval")
@admin_only
def approve(uid: str):
    """Mark the account approved for handling personal data (취급승인)."""
    return _handling_action(uid, "approve")


@bp.post("/users/<uid>/approval/withdraw")
@admin_only
def withdraw(uid: str):
    """Withdraw the handling approval, with a reason; the account's sessions end."""
    return _handling_action(uid, "withdraw")


@bp.post("/users/<uid>/training")
@admin_only
def training(uid: str):
    """Record the date of the yearly personal-data training."""
    return _handling_action(uid, "training")


@bp.post("/users/<uid>/totp-reset")
@admin_only
def reset_totp(uid: str):
    """2단계 인증 초기화 with a reason: the user enrols again at the next sign-in."""
    return _act(uid, "totp", lambda user, form: totp_reset(user, current_user, form.reason.data),
                gettext("2단계 인증을 초기화했습니다. 이 사용자는 다음 로그인 때 다시 등록합니다."))
