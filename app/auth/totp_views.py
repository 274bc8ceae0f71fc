"""Two-factor sign-in screens: the code step after the password, enrolment (QR code and a text
fallback), new recovery codes, turning 2FA off, and the rule that roles needing 2FA enrol
before anything else opens."""
from __future__ import annotations

from flask import abort, current_app, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext
from flask_login import current_user, login_required
from markupsafe import Markup

from ..extensions import db, limiter
from ..form_actions import save_or_show
from ..transactions import begin_write
from . import bp
from .forms import EmptyForm, SignInCodeForm, TotpCodeForm
from .services import LoginRefused
from .session import start_session
from .totp import (confirm_enrolment, disable_totp, grouped_secret, is_enabled, is_required, provisioning_uri,
                   qr_svg, recovery_codes_left, regenerate_recovery_codes, start_enrolment)
from .totp_login import check_second_step, forget_pending, pending_user

#: one per-IP budget for password and code posts together (LOGIN_RATE_LIMIT), so the second
#: step gives an attacker no extra guesses
sign_in_limit = limiter.shared_limit(lambda: current_app.config["LOGIN_RATE_LIMIT"], scope="sign-in",
                                     methods=["POST"])

#: what a user whose role needs 2FA may open before enrolling (the password change comes first)
OPEN_UNTIL_ENROLLED = {"auth.totp_enrol", "auth.totp_restart", "auth.account", "auth.change_password",
                       "auth.sign_out_everywhere", "auth.logout", "auth.login", "auth.login_code",
                       "auth.set_language", "static"}


@bp.before_app_request
def require_enrolment():
    """Send a user whose role needs 2FA and who has none yet to enrolment (after any temporary
    password has been changed: that check runs first, in account.py)."""
    if (current_user.is_authenticated and not current_user.password_temporary
            and is_required(current_user) and not is_enabled(current_user)
            and request.endpoint not in OPEN_UNTIL_ENROLLED):
        return redirect(url_for("auth.totp_enrol"))  # the page itself says why
    return None


@bp.app_context_processor
def totp_helpers():
    """``totp_overview(user)`` for the account page's 2FA section (computed only when used)."""
    def totp_overview(user) -> dict:
        enabled = is_enabled(user)
        return {"enabled": enabled, "required": is_required(user), "enabled_at": user.totp_enabled_at,
                "codes_left": recovery_codes_left(user) if enabled else 0}
    return {"totp_overview": totp_overview}


@bp.route("/login/code", methods=["GET", "POST"])
@sign_in_limit
def login_code():
    """The second sign-in step: a code from the app or a recovery code starts the session."""
    if current_user.is_authenticated:
        return redirect(url_for("home.index"))
    user, target = pending_user()
    if user is None:
        forget_pending()
        flash(gettext("5분이 지나 로그인을 처음부터 다시 해야 합니다.") if target == "expired"
              else gettext("아이디와 비밀번호부터 입력해 주세요."), "info")
        return redirect(url_for("auth.login"))
    form = SignInCodeForm()
    if form.validate_on_submit():
        try:
            used = check_second_step(user, form.code.data)
        except LoginRefused as refused:
            db.session.commit()  # keep the failure count and its audit event
            form.form_errors.append(refused.message)
        else:
            db.session.commit()
            start_session(user)  # a fresh session: the pending marker goes with the old one
            if used == "recovery_code":
                flash(gettext("복구 코드로 로그인했습니다. 남은 복구 코드는 %(n)d개입니다. 휴대전화를 잃어버렸다면 시스템 "
                              "관리자에게 2단계 인증 초기화를 요청해 주세요.", n=recovery_codes_left(user)), "warning")
            # ``target`` was checked by the login form before it went into the (signed) session
            return redirect(target or url_for("home.index"))
    status = 400 if request.method == "POST" else 200
    return render_template("auth/totp_code.html", form=form), status


@bp.route("/account/2fa/enrol", methods=["GET", "POST"])
@login_required
def totp_enrol():
    """Enrol an authenticator app: QR code and typed key, then one code from the app."""
    if is_enabled(current_user):
        flash(gettext("이미 2단계 인증을 쓰고 있습니다."), "info")
        return redirect(url_for("auth.account", _anchor="two-factor"))
    if current_user.totp_secret is None:  # the first visit makes the key the QR code carries
        begin_write()  # a GET that writes: take the write lock now, not as a failing upgrade
        if current_user.totp_secret is None:  # still, now that we hold the lock
            start_enrolment(current_user)
        db.session.commit()
    form = TotpCodeForm()
    if form.validate_on_submit():
        ok, codes = save_or_show(form, lambda: confirm_enrolment(current_user, form.code.data))
        if ok:
            _stay_signed_in()
            return render_template("auth/totp_recovery_codes.html", codes=codes, enrolled=True)
    uri = provisioning_uri(current_user)
    status = 400 if request.method == "POST" else 200
    return render_template("auth/totp_enrol.html", form=form, qr=Markup(qr_svg(uri)), uri=uri,
                           secret=grouped_secret(current_user.totp_secret), required=is_required(current_user),
                           restart=EmptyForm(formdata=None)), status


@bp.post("/account/2fa/enrol/restart")
@login_required
def totp_restart():
    """A new key and QR code (the old one was never confirmed)."""
    if EmptyForm().validate_on_submit() and not is_enabled(current_user):
        start_enrolment(current_user)
        db.session.commit()
        flash(gettext("새 QR 코드를 만들었습니다. 앱에 먼저 등록한 항목은 지워 주세요."), "info")
    return redirect(url_for("auth.totp_enrol"))


@bp.route("/account/2fa/recovery-codes", methods=["GET", "POST"])
@login_required
def totp_recovery_codes():
    """Ten new recovery codes, shown once; the old ones stop working.  Needs a current code."""
    if not is_enabled(current_user):
        return redirect(url_for("auth.totp_enrol"))
    form = TotpCodeForm()
    if form.validate_on_submit():
        ok, codes = save_or_show(form, lambda: regenerate_recovery_codes(current_user, form.code.data))
        if ok:
            return render_template("auth/totp_recovery_codes.html", codes=codes, enrolled=False)
    status = 400 if request.method == "POST" else 200
    return render_template("auth/totp_confirm.html", form=form, action="recovery"), status


@bp.route("/account/2fa/disable", methods=["GET", "POST"])
@login_required
def totp_disable():
    """Turn one's own 2FA off (only roles that do not need it); needs a current code."""
    if is_required(current_user):
        abort(403)
    if not is_enabled(current_user):
        return redirect(url_for("auth.account", _anchor="two-factor"))
    form = TotpCodeForm()
    if form.validate_on_submit():
        ok, _ = save_or_show(form, lambda: disable_totp(current_user, form.code.data))
        if ok:
            flash(gettext("2단계 인증을 껐습니다. 이제 비밀번호만으로 로그인합니다."), "success")
            return redirect(url_for("auth.account", _anchor="two-factor"))
    status = 400 if request.method == "POST" else 200
    return render_template("auth/totp_confirm.html", form=form, action="disable"), status


def _stay_signed_in() -> None:
    """Enrolment ended every session signed in without the code; this browser carries on."""
    session["sv"] = current_user.session_version
