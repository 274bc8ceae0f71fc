"""Login, logout and the language switcher."""
from urllib.parse import urlsplit

from flask import current_app, flash, redirect, render_template, request, session, url_for
from flask_login import current_user, login_user, logout_user

from ..audit.services import record
from ..extensions import db, limiter
from . import bp
from .forms import EmptyForm, LoginForm
from .services import LoginRefused, authenticate


def _safe_next(target: str | None) -> str | None:
    """Only local paths, so the login form cannot be used as an open redirect."""
    if not target:
        return None
    parts = urlsplit(target)
    return target if not parts.scheme and not parts.netloc and target.startswith("/") and not target.startswith("//") else None


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(lambda: current_app.config["LOGIN_RATE_LIMIT"], methods=["POST"])
def login():
    """Show the login form and sign the user in."""
    if current_user.is_authenticated:
        return redirect(url_for("home.index"))
    form = LoginForm(next=request.args.get("next", ""))
    if form.validate_on_submit():
        try:
            user = authenticate(form.login.data, form.password.data)
        except LoginRefused as refused:
            db.session.commit()  # keep the failure count and its audit event
            form.form_errors.append(refused.message)
        else:
            db.session.commit()
            session.clear()
            login_user(user)
            session.permanent = True
            return redirect(_safe_next(form.next.data) or url_for("home.index"))
    return render_template("auth/login.html", form=form), (200 if not form.errors else 400)


@bp.route("/logout", methods=["POST"])
def logout():
    """End the session."""
    if current_user.is_authenticated:
        record("logout", object_type="user", object_id=current_user.uid)
        db.session.commit()
        logout_user()
    lang = session.get("lang")
    session.clear()
    if lang:
        session["lang"] = lang
    flash("로그아웃되었습니다.", "info")
    return redirect(url_for("auth.login"))


@bp.route("/lang/<code>", methods=["POST"])
def set_language(code: str):
    """Switch the interface language (ko, en)."""
    if EmptyForm().validate_on_submit() and code in current_app.config["LANGUAGES"]:
        session["lang"] = code
    return redirect(_safe_next(request.form.get("back")) or url_for("home.index"))
