"""Handling approval (취급승인, 학생맞춤통합지원법 제17조) and the yearly 개인정보 training
(시행령 제15조): an account opens personal data only while it is approved and its training is
current.  Services flush, callers commit; every change is a grant change (app/auth/grants.py).

Who decides: an admin approves any account; a district coordinator approves, withdraws and
records training only for the guardian accounts of their own office (the guardians route passes
the Guardian row: auth sits below guardians and never imports it).  Nobody approves their own
account or records their own training; the command line (actor None) is the operator's way for
the very first admin (`flask users create --role admin` approves the first one) and for a sole
admin whose training lapsed.

Admins and auditors are gated like everyone else: they see staff names, grant history and the
audit trail.  The gate lets an account without clearance sign in and use its own account pages
(password, 2FA, language, logout) and the clearance notice; everything else redirects there.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from flask import current_app, redirect, request, url_for
from flask_babel import gettext, gettext as _, lazy_gettext as _l, lazy_pgettext
from flask_login import current_user
from sqlalchemy import select

from ..audit.services import record
from ..db import today_kst, utcnow
from ..domain import DomainError, NotPermitted
from ..extensions import db
from ..i18n import date_words
from ..permissions import ADMIN, DISTRICT_COORDINATOR, GUARDIAN, can_manage_guardian
from .grants import grant_state, record_grant
from .models import User
from .session import end_all_sessions

#: days before the training lapses on which the user and the admins are told
REMIND_DAYS = 30
#: the alert key of a user's training: recording a new date resolves the reminders about it
TRAINING_KEY = "user_training"
#: auth endpoints that still need clearance (the admin's approval screens show staff names)
CLEARED_ONLY = {"auth.handling_list", "auth.handling_user", "auth.handling_approve", "auth.handling_withdraw",
                "auth.handling_training"}
#: why an account has no clearance: code -> what the notice calls it
REASONS = {"not_approved": _l("개인정보 취급승인을 받지 않았습니다."),
           "no_training": _l("개인정보 보호 교육 이수 기록이 없습니다."),
           "training_lapsed": _l("개인정보 보호 교육의 유효기간이 지났습니다.")}


def valid_days() -> int:
    """How long one training counts (HANDLING_TRAINING_VALID_DAYS, 365)."""
    return int(current_app.config.get("HANDLING_TRAINING_VALID_DAYS") or 365)


def training_valid_until(training_on: dt.date | None) -> dt.date | None:
    """The last day a training taken on ``training_on`` still counts."""
    return training_on + dt.timedelta(days=valid_days()) if training_on else None


@dataclass
class Clearance:
    """Whether an account may open personal data today, and the facts the notice shows."""

    code: str | None            # None: cleared; else a key of REASONS
    approved_at: dt.datetime | None
    approved_by_id: int | None
    training_on: dt.date | None
    valid_until: dt.date | None
    day: dt.date

    @property
    def cleared(self) -> bool:
        return self.code is None

    @property
    def message(self) -> str | None:
        """The Korean reason, with the date the training ended when it lapsed."""
        if self.code == "training_lapsed":
            return _("개인정보 보호 교육의 유효기간이 %(day)s에 끝났습니다.", day=date_words(self.valid_until))
        return str(REASONS[self.code]) if self.code in REASONS else None

    @property
    def approved_by(self) -> User | None:
        """Who approved the account (None: not approved, or the command-line operator)."""
        return db.session.get(User, self.approved_by_id) if self.approved_by_id else None

    @property
    def days_left(self) -> int | None:
        return (self.valid_until - self.day).days if self.valid_until else None

    @property
    def expiring(self) -> bool:
        """Cleared, but the training lapses within REMIND_DAYS."""
        return self.cleared and self.days_left is not None and self.days_left <= REMIND_DAYS


def clearance_state(user: User, day: dt.date | None = None) -> Clearance:
    """The account's clearance on ``day`` (today in Seoul by default)."""
    day = day or today_kst()
    until = training_valid_until(user.training_on)
    if user.handling_approved_at is None:
        code = "not_approved"
    elif user.training_on is None:
        code = "no_training"
    elif until < day:
        code = "training_lapsed"
    else:
        code = None
    return Clearance(code, user.handling_approved_at, user.handling_approved_by_id, user.training_on, until, day)


def clearance(user: User, day: dt.date | None = None) -> str | None:
    """None when ``user`` may open personal data on ``day``; otherwise why not, in Korean."""
    return clearance_state(user, day).message


def who_decides(user: User) -> str:
    """Whom the account asks for approval and for its training to be recorded."""
    return (lazy_pgettext("who records training", "소속 교육지원청 담당자") if user.role == GUARDIAN
            else lazy_pgettext("who records training", "시스템 관리자"))


def may_approve(actor: User, user: User, guardian=None) -> bool:
    """Admins decide for any other account; a district coordinator only for the login of a guardian
    of their own office (``guardian``: the Guardian row whose ``user_id`` is ``user``).  The actor
    must be cleared themselves, and nobody decides for their own account."""
    if actor is None or user is None or actor.id == user.id or not actor.active or clearance(actor) is not None:
        return False
    if actor.role == ADMIN:
        return True
    return (actor.role == DISTRICT_COORDINATOR and user.role == GUARDIAN and guardian is not None
            and guardian.user_id == user.id and can_manage_guardian(actor, guardian))


def _check_actor(actor: User | None, user: User, guardian) -> None:
    # actor None is the command-line operator, who already holds the server
    if actor is not None and not may_approve(actor, user, guardian):
        raise NotPermitted(_("이 계정의 취급승인과 교육 기록을 관리할 권한이 없습니다."))


def approve_handling(user: User, actor: User | None, reason: str | None = None, *, guardian=None) -> None:
    """취급승인: the account may open personal data once its training is recorded."""
    _check_actor(actor, user, guardian)
    if not user.active:
        raise DomainError(_("비활성화된 계정은 승인할 수 없습니다."), "reason")
    if user.handling_approved_at is not None:
        raise DomainError(_("이미 취급승인된 계정입니다."), "reason")
    before = grant_state(user)
    user.handling_approved_at, user.handling_approved_by_id = utcnow(), getattr(actor, "id", None)
    db.session.flush()
    record_grant(user, "approval_given", actor, before=before, reason=reason)


def withdraw_handling(user: User, actor: User | None, reason: str, *, guardian=None) -> None:
    """취급승인 철회: the account keeps signing in but sees no personal data; its sessions end."""
    _check_actor(actor, user, guardian)
    if not (reason or "").strip():
        raise DomainError(_("철회 사유를 입력해 주세요."), "reason")
    if user.handling_approved_at is None:
        raise DomainError(_("취급승인되지 않은 계정입니다."), "reason")
    before = grant_state(user)
    user.handling_approved_at, user.handling_approved_by_id = None, None
    end_all_sessions(user)  # an open session must not keep showing what it may no longer open
    db.session.flush()
    record_grant(user, "approval_withdrawn", actor, before=before, reason=reason)


def record_training(user: User, actor: User | None, day: dt.date | None, *, reason: str | None = None,
                    guardian=None) -> None:
    """Record the date of the account's latest yearly 개인정보 training (not in the future)."""
    _check_actor(actor, user, guardian)
    today = today_kst()
    if day is None:
        raise DomainError(_("교육 이수일을 입력해 주세요."), "trained_on")
    if day > today:
        raise DomainError(gettext("교육 이수일은 오늘이나 그 전이어야 합니다."), "trained_on")
    if training_valid_until(day) < today:
        raise DomainError(gettext("%(day)s에 받은 교육은 유효기간(%(days)d일)이 이미 지났습니다. "
                                  "가장 최근 이수일을 입력해 주세요.", day=date_words(day), days=valid_days()), "trained_on")
    before = grant_state(user)
    user.training_on = day
    db.session.flush()
    record_grant(user, "training_recorded", actor, before=before, reason=reason)
    from ..notifications.services import object_key, resolve
    resolve(object_key(TRAINING_KEY, user.id), kinds=("training_expiring",))


def approve_if_first_admin(user: User) -> bool:
    """`flask users create --role admin`: the first admin is approved by the operator, since no
    admin exists to do it (the training date is still theirs to record)."""
    if user.role != ADMIN:
        return False
    other = db.session.execute(select(User.id).where(
        User.role == ADMIN, User.active.is_(True), User.handling_approved_at.is_not(None),
        User.id != user.id).limit(1)).first()
    if other:
        return False
    approve_handling(user, None, reason="첫 관리자 계정 (명령줄에서 생성)")
    return True


def init_app(app) -> None:
    """The gate: an account without clearance reaches only its own account pages and the notice."""
    @app.before_request
    def require_clearance():
        endpoint = request.endpoint
        if endpoint is None or endpoint == "static" or not current_user.is_authenticated:
            return None
        if endpoint.startswith("auth.") and endpoint not in CLEARED_ONLY:
            return None
        state = clearance_state(current_user)
        if state.cleared:
            return None
        record("clearance_blocked", actor=current_user, object_type="user", object_id=current_user.uid,
               outcome="denied", details={"reason": state.code, "endpoint": endpoint})
        db.session.commit()
        return redirect(url_for("auth.clearance"), 303)
