"""Handling approval screens: the clearance notice every account may open (/account/clearance),
and the admin's list and per-account page (/handling/…) to approve, withdraw and record training.
Guardian logins are decided on the guardian's own page (app/guardians/handling_views.py)."""
from __future__ import annotations

import datetime as dt

from flask import current_app, flash, redirect, render_template, request, url_for
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from sqlalchemy import and_, or_, select
from sqlalchemy.orm import selectinload

from .. import permissions as p
from ..audit.services import record
from ..db import today_kst
from ..extensions import db
from ..form_actions import save_or_show
from ..navigation import add_nav
from . import bp
from .grants import grant_history
from .handling import (REMIND_DAYS, approve_handling, clearance_state, record_training, valid_days, who_decides,
                       withdraw_handling)
from .handling_forms import FORMS, HandlingFilterForm, handling_forms
from .models import GrantChange, User

admins = p.roles_required(p.ADMIN)
add_nav("auth.handling_list", _l("취급승인·교육"), p.ADMIN)
#: the grant kinds the per-account page lists
HANDLING_KINDS = ("created", "approval_given", "approval_withdrawn", "training_recorded")
#: success message per action
DONE = {"approve": _l("취급승인했습니다."),
        "withdraw": _l("취급승인을 철회했습니다. 이 계정의 로그인은 모두 끝났습니다."),
        "training": _l("교육 이수일을 기록했습니다.")}


@bp.get("/account/clearance")
@login_required
def clearance():
    """The notice an account without clearance is sent to: what is missing, since when, whom to ask."""
    state = clearance_state(current_user)
    return render_template("auth/clearance.html", state=state, who=who_decides(current_user),
                           valid_days=valid_days(), remind_days=REMIND_DAYS)


def run_action(user: User, action: str, actor, guardian=None):
    """Validate the submitted form of ``action`` and run its service; returns (ok, form)."""
    form_class, prefix = FORMS[action]
    form = form_class(prefix=prefix)
    if not form.validate_on_submit():
        return False, form

    def change():
        if action == "approve":
            return approve_handling(user, actor, form.reason.data, guardian=guardian)
        if action == "withdraw":
            return withdraw_handling(user, actor, form.reason.data, guardian=guardian)
        return record_training(user, actor, form.trained_on.data, reason=form.reason.data, guardian=guardian)
    ok, _ = save_or_show(form, change)
    return ok, form


def _conditions(state: str, today: dt.date):
    """SQL condition on User for one filter of the admin's list."""
    lapsed = today - dt.timedelta(days=valid_days())           # trained before this: lapsed
    soon = lapsed + dt.timedelta(days=REMIND_DAYS)              # trained before this: lapses within 30 days
    not_approved = User.handling_approved_at.is_(None)
    no_training = or_(User.training_on.is_(None), User.training_on < lapsed)
    expiring = and_(User.training_on >= lapsed, User.training_on <= soon)
    return {"not_approved": not_approved, "training": and_(~not_approved, no_training), "expiring": expiring,
            "attention": or_(not_approved, User.training_on.is_(None), User.training_on <= soon)}.get(state)


@bp.get("/handling/")
@admins
def handling_list():
    """취급승인·교육 현황: active accounts waiting for approval, without current training, or lapsing soon."""
    form = HandlingFilterForm(request.args)
    state = form.state.data if form.validate() and form.state.data else "attention"
    today = today_kst()
    query = select(User).where(User.active.is_(True)).options(selectinload(User.organisation))
    condition = _conditions(state, today)
    if condition is not None:
        query = query.where(condition)
    page = db.paginate(query.order_by(User.login), per_page=current_app.config["PAGE_SIZE"], error_out=False)
    states = {user.id: clearance_state(user, today) for user in page.items}
    record("handling_list_viewed", object_type="user", details={"state": state, "page": page.page,
                                                                "shown": len(page.items)})
    html = render_template("auth/handling_list.html", form=form, page=page, state=state, states=states,
                           role_label=p.role_label)
    db.session.commit()
    return html


def _load_user_or_404(uid: str) -> User:
    from ..cases.loaders import UID_MAX, deny_not_found
    user = None
    if uid and len(uid) <= UID_MAX:
        user = db.session.execute(select(User).where(User.uid == uid)).scalar_one_or_none()
    if user is None:
        deny_not_found(User.__tablename__, uid)
    return user


def _user_page(user: User, given: dict | None = None, status: int = 200):
    history = list(db.session.execute(
        grant_history(user.id).where(GrantChange.kind.in_(HANDLING_KINDS))
        .options(selectinload(GrantChange.actor)).limit(20)).scalars())
    handling = {"user": user, "state": clearance_state(user), "forms": handling_forms(given),
                "urls": {a: url_for(f"auth.handling_{a}", uid=user.uid) for a in FORMS},
                "own": user.id == current_user.id}
    record("handling_viewed", obj=user)
    html = render_template("auth/handling_user.html", user=user, handling=handling, history=history,
                           role_label=p.role_label)
    db.session.commit()
    return html, status


@bp.get("/handling/<uid>")
@admins
def handling_user(uid: str):
    """One account's approval, training and their history, with the forms to change them."""
    return _user_page(_load_user_or_404(uid))


def _act(uid: str, action: str):
    user = _load_user_or_404(uid)
    ok, form = run_action(user, action, current_user)
    if ok:
        flash(str(DONE[action]), "success")
        return redirect(url_for("auth.handling_user", uid=user.uid))
    return _user_page(user, {action: form}, 400)


@bp.post("/handling/<uid>/approve")
@admins
def handling_approve(uid: str):
    """취급승인 (admin)."""
    return _act(uid, "approve")


@bp.post("/handling/<uid>/withdraw")
@admins
def handling_withdraw(uid: str):
    """취급승인 철회 (admin), with a reason; the account's sessions end."""
    return _act(uid, "withdraw")


@bp.post("/handling/<uid>/training")
@admins
def handling_training(uid: str):
    """Record the account's latest 개인정보 training date (admin)."""
    return _act(uid, "training")
