"""E-mail alert screens: 알림 받는 방법 (every signed-in user's address, digest hour and mode per
alert kind), the address-verification link, and the administrator's 메일 발송 현황 (the outbox's
state: counts, due and waiting rows, failures; never a recipient's address or any content).
The rules live in mail_outbox.py; these views check the form, call it and commit."""
from __future__ import annotations

import datetime as dt

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext, lazy_gettext as _l
from flask_login import current_user, login_required
from sqlalchemy import func, select

from ..audit.services import record
from ..db import utcnow
from ..domain import DomainError
from ..extensions import db, limiter
from ..form_actions import save_or_show
from ..navigation import add_nav
from ..permissions import ADMIN, can_view_outbox
from ..transactions import begin_write
from . import bp
from .mail_forms import AddressForm, RemoveAddressForm, choices_form
from .mail_models import OUTBOX_STATES, MailSettings, OutboxMessage
from .mail_outbox import (confirm_address, is_locked, mail_configured, masked, remove_address,
                          request_address, save_choices, settings_for)
from .services import KINDS

add_nav("notifications.outbox", _l("메일 발송 현황"), ADMIN)

OUTBOX_PAGE_SIZE = 30
#: the latest failures shown above the list
FAILURES_SHOWN = 10
#: a row due longer ago than this means no worker is delivering (flask notifications send)
STALE_AFTER = dt.timedelta(minutes=15)
#: verification messages a user may ask for (each goes to an address they typed)
ADDRESS_RATE_LIMIT = "5 per hour"
STATE_LABELS = {"pending": _l("보낼 예정"), "sent": _l("보냄"), "failed": _l("실패")}
TLS_LABELS = {"starttls": "STARTTLS", "ssl": "SSL/TLS", "none": _l("암호화 안 함")}
PURPOSE_LABELS = {"alert": _l("알림"), "verify": _l("메일 주소 확인")}


# -- 알림 받는 방법 -------------------------------------------------------------------------------

def _digest_hour() -> int:
    settings = settings_for(current_user.id)
    return settings.digest_hour if settings is not None else 8


def _render_settings(address_form=None, choices=None, status: int = 200):
    settings = settings_for(current_user.id)
    configured = mail_configured()
    address_form = address_form if address_form is not None else AddressForm(formdata=None)
    choices = choices if choices is not None else choices_form(current_user, _digest_hour(), formdata=None)
    html = render_template(
        "notifications/settings.html", configured=configured, settings=settings,
        address=masked(settings.address) if settings and settings.verified_at else "",
        pending=masked(settings.pending) if settings else "", address_form=address_form,
        remove_form=RemoveAddressForm(formdata=None), choices=choices, kinds=KINDS,
        locked=[kind for kind in KINDS if is_locked(current_user, kind)])
    return html, status


@bp.route("/settings", methods=["GET", "POST"])
@login_required
def settings():
    """알림 받는 방법: the address, the digest hour and how each kind of alert arrives; a POST
    saves the hour and the modes (locked kinds have no field and stay immediate)."""
    if request.method == "GET":
        return _render_settings()
    form = choices_form(current_user, _digest_hour())
    if form.validate_on_submit():
        ok, changed = save_or_show(form, lambda: save_choices(current_user, form.modes(), form.digest_hour.data))
        if ok:
            flash(gettext("알림 받는 방법을 저장했습니다.") if changed else gettext("바뀐 내용이 없습니다."), "success")
            return redirect(url_for(".settings"))
    return _render_settings(choices=form, status=400)


@bp.post("/settings/address")
@limiter.limit(ADDRESS_RATE_LIMIT, key_func=lambda: f"mail-address:{getattr(current_user, 'id', None)}")
@login_required
def set_address():
    """Enter or change the address: a link goes to it, and it is used once the link is opened;
    an address that fails the check changes nothing."""
    form = AddressForm()
    if form.validate_on_submit():
        ok, _ = save_or_show(form, lambda: request_address(current_user, form.address.data))
        if ok:
            flash(gettext("%(address)s 주소로 확인 메일을 보냅니다. 48시간 안에 메일의 링크를 열어 주세요.",
                          address=masked(form.address.data)), "success")
            return redirect(url_for(".settings"))
    return _render_settings(address_form=form, status=400)


@bp.post("/settings/address/remove")
@login_required
def remove_mail_address():
    """메일 받지 않기: the address (and one waiting for its link) is deleted."""
    form = RemoveAddressForm()
    if not form.validate_on_submit():
        return _render_settings(status=400)
    remove_address(current_user)
    db.session.commit()
    flash(gettext("메일 주소를 지웠습니다. 알림은 이음에서만 볼 수 있습니다."), "success")
    return redirect(url_for(".settings"))


@bp.get("/settings/verify/<token>")
@login_required
def verify_address(token: str):
    """The link sent to a new address: opened by the signed-in owner, the address is verified."""
    begin_write()  # a GET that writes: take the write lock now, not as a failing upgrade
    try:
        confirm_address(current_user, token[:1000])
    except DomainError as error:
        db.session.commit()  # a refused link (someone else's, or for an old address) stays audited
        flash(str(error.message), "error")
        return redirect(url_for(".settings"))
    db.session.commit()
    flash(gettext("메일 주소를 확인했습니다. 이제 알림 메일을 받습니다."), "success")
    return redirect(url_for(".settings"))


# -- 메일 발송 현황 (administrators) ---------------------------------------------------------------

def outbox_figures(now: dt.datetime) -> dict:
    """Counts only: rows by state, pending rows due now and waiting (digest hour, retry), the
    oldest due row, users with a verified address."""
    by_state = dict(db.session.execute(select(OutboxMessage.status, func.count())
                                       .group_by(OutboxMessage.status)).all())
    pending = OutboxMessage.status == "pending"

    def count(*conditions) -> int:
        return db.session.execute(select(func.count()).select_from(OutboxMessage).where(pending, *conditions)
                                  ).scalar_one()
    oldest_due = db.session.execute(select(func.min(OutboxMessage.due_at)).where(
        pending, OutboxMessage.due_at <= now)).scalar_one()
    return {
        "states": {state: by_state.get(state, 0) for state in OUTBOX_STATES},
        "due_now": count(OutboxMessage.due_at <= now),
        "waiting_digest": count(OutboxMessage.due_at > now, OutboxMessage.attempts == 0),
        "waiting_retry": count(OutboxMessage.due_at > now, OutboxMessage.attempts > 0),
        "leased": count(OutboxMessage.lease_until > now),
        "oldest_due": oldest_due,
        "stale": oldest_due is not None and oldest_due < now - STALE_AFTER,
        "verified_users": db.session.execute(select(func.count()).select_from(MailSettings).where(
            MailSettings.verified_at.is_not(None))).scalar_one(),
    }


def server_settings() -> dict | None:
    """What the page shows of the mail settings (never the password or the sign-in name)."""
    if not mail_configured():
        return None
    config = current_app.config
    tls = (config.get("MAIL_TLS") or "starttls").lower()
    return {"host": config["MAIL_HOST"], "port": config.get("MAIL_PORT") or 587, "tls": TLS_LABELS.get(tls, tls),
            "sender": config["MAIL_SENDER"], "signs_in": bool(config.get("MAIL_USER")),
            "base_url": config.get("IEUM_BASE_URL")}


@bp.get("/outbox")
@login_required
def outbox():
    """메일 발송 현황: whether a server is configured, the outbox's counts, the latest failures
    and every row in pages (kind, state, times, attempts, error code; no recipient, no text)."""
    if not can_view_outbox(current_user):
        abort(403)
    status = request.args.get("status") if request.args.get("status") in OUTBOX_STATES else ""
    query = select(OutboxMessage).order_by(OutboxMessage.id.desc())
    if status:
        query = query.where(OutboxMessage.status == status)
    page = db.paginate(query, per_page=OUTBOX_PAGE_SIZE, error_out=False, count=True)
    failures = db.session.execute(select(OutboxMessage).where(OutboxMessage.status == "failed")
                                  .order_by(OutboxMessage.id.desc()).limit(FAILURES_SHOWN)).scalars().all()
    now = utcnow()
    html = render_template("notifications/outbox.html", server=server_settings(), figures=outbox_figures(now),
                           failures=failures, page=page, status=status, states=STATE_LABELS,
                           kinds={**KINDS, "verify": PURPOSE_LABELS["verify"]}, purposes=PURPOSE_LABELS)
    record("mail_outbox_viewed", object_type="mail_outbox",
           details={"status": status or None, "page": page.page, "shown": len(page.items)})
    db.session.commit()
    return html
