"""A guardian's login on their vetting page: the office's coordinator approves it for handling
personal data (취급승인), records the guardian's yearly 개인정보 training, or withdraws the approval.
A login a coordinator creates starts unapproved: the guardian sees nothing until this is done."""
from __future__ import annotations

from flask import flash, g, redirect, url_for
from flask_login import current_user

from ..auth.handling import clearance_state
from ..auth.handling_forms import FORMS, handling_forms
from ..auth.handling_views import DONE, run_action
from ..cases.loaders import deny_not_found
from . import bp
from .views import coordinators, load_guardian_or_404, render_detail


def handling_panel(guardian) -> dict | None:
    """What the login section shows: the account's clearance and the forms (None without a login)."""
    if guardian.user is None:
        return None
    return {"user": guardian.user, "state": clearance_state(guardian.user), "own": False,
            "forms": handling_forms(g.get("guardian_handling_forms")),
            "urls": {action: url_for(f"guardians.handling_{action}", uid=guardian.uid) for action in FORMS}}


@bp.context_processor
def _handling_panel() -> dict:
    # the vetting page (rendered by views.render_detail) asks for the panel by name
    return {"handling_panel": handling_panel}


def _act(uid: str, action: str):
    guardian = load_guardian_or_404(uid)
    if guardian.user is None:
        deny_not_found("user_account", uid)
    ok, form = run_action(guardian.user, action, current_user, guardian=guardian)
    if ok:
        flash(DONE[action], "success")
        return redirect(url_for("guardians.detail", uid=guardian.uid, _anchor="sec-login"))
    g.guardian_handling_forms = {action: form}
    return render_detail(guardian, 400)


@bp.post("/<uid>/handling/approve")
@coordinators
def handling_approve(uid: str):
    """취급승인 of the guardian's login (a coordinator of the guardian's office)."""
    return _act(uid, "approve")


@bp.post("/<uid>/handling/withdraw")
@coordinators
def handling_withdraw(uid: str):
    """Withdraw the guardian login's approval, with a reason; its sessions end."""
    return _act(uid, "withdraw")


@bp.post("/<uid>/handling/training")
@coordinators
def handling_training(uid: str):
    """Record the guardian's latest 개인정보 training date."""
    return _act(uid, "training")
