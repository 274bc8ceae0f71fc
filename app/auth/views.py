"""Login, logout and the language switcher."""
from urllib.parse import urlsplit

from flask import current_app, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext, refresh
from flask_login import current_user

from ..audit.services import record
from ..extensions import db
from . import bp
from .forms import EmptyForm, LoginForm
from .services import LoginRefused, authenticate
from .session import end_all_sessions, end_session, start_session
from .totp import is_enabled
from .totp_login import begin_second_step
from .totp_views import sign_in_limit  # also registers the two-factor routes


def _safe_next(target: str | None) -> str | None:
    """Only local paths, so the login form cannot be used as an open redirect."""
    if not target or "\\" in target or any(ord(c) < 32 for c in target):
        return None
    parts = urlsplit(target)
    return target if not parts.scheme and not parts.netloc and target.startswith("/") and not target.startswith("//") else None


@bp.route("/login", methods=["GET", "POST"])
@sign_in_limit
def login():
    """Show the login form and sign the user in."""
    if current_user.is_authenticated:
        return redirect(url_for("home.index"))
    form = LoginForm(next=_safe_next(request.args.get("next")) or "")
    if form.validate_on_submit():
        try:
            user = authenticate(form.login.data, form.password.data)
        except LoginRefused as refused:
            db.session.commit()  # keep the failure count and its audit event
            form.form_errors.append(refused.message)
        else:
            db.session.commit()
            target = _safe_next(form.next.data)
            if is_enabled(user):  # no session yet: the code step (totp_views.login_code) starts it
                begin_second_step(user, target)
                return redirect(url_for("auth.login_code"))
            start_session(user)
            return redirect(target or url_for("home.index"))
    status = 400 if request.method == "POST" else 200
    return render_template("auth/login.html", form=form), status


@bp.route("/logout", methods=["POST"])
def logout():
    """End the session (the chosen language stays)."""
    if current_user.is_authenticated:
        # the session version moves on: a copy of this cookie taken before logout opens nothing
        end_all_sessions(current_user)
        record("logout", object_type="user", object_id=current_user.uid)
        db.session.commit()
    end_session()
    flash(gettext("로그아웃되었습니다."), "info")
    return redirect(url_for("auth.login"))


@bp.route("/lang/<code>", methods=["POST"])
def set_language(code: str):
    """Switch the interface language (ko, en) and go back to the same page."""
    if EmptyForm().validate_on_submit() and code in current_app.config["LANGUAGES"]:
        session["lang"] = code
        refresh()  # anything still rendered in this request uses the new language
    return redirect(_safe_next(request.form.get("back")) or url_for("home.index"))


from . import handling_views  # noqa: E402,F401  (the clearance notice and the admin's approval screens)
