"""Who gets an alert by e-mail, when, and the user's address; the outbox rows (callers commit).

``enqueue_alert`` runs inside ``notify``: the outbox row is written in the transaction that
creates the alert, so an alert is mailed if and only if it exists.  Nothing is queued while no
mail server is configured (the admin's outbox page says so): the alert stays on the home page.
"""
from __future__ import annotations

import datetime as dt
import hashlib

from flask import current_app, url_for
from flask_babel import lazy_gettext as _l
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy import select

from ..audit.services import record
from ..auth.models import User
from ..db import utcnow
from ..domain import DomainError
from ..extensions import db
from ..permissions import DISTRICT_COORDINATOR, SCHOOL_LEAD
from .mail_models import MAIL_MODES, MailPreference, MailSettings, OutboxMessage

#: alert kinds that ask for an answer by a date go out at once unless the user chose otherwise;
#: news waits for the daily digest
IMMEDIATE_BY_DEFAULT = frozenset({"concern", "concern_overdue", "referral", "referral_override", "referral_overdue",
                                  "assignment_proposed", "assignment_end_requested", "conference", "check_lapsed",
                                  "transfer", "transfer_overdue"})
#: concerns and overdue escalations reach school leads and coordinators at once, whatever they chose
ALWAYS_IMMEDIATE_KINDS = frozenset({"concern", "concern_overdue", "referral_overdue", "transfer_overdue"})
ALWAYS_IMMEDIATE_ROLES = frozenset({SCHOOL_LEAD, DISTRICT_COORDINATOR})
MODE_LABELS = {"immediate": _l("즉시"), "digest": _l("하루 한 번 모아서"), "none": _l("받지 않음")}
#: how long an address-verification link works
VERIFY_MAX_AGE = dt.timedelta(hours=48)
KST = dt.timedelta(hours=9)


def mail_configured() -> bool:
    """A mail server is configured (IEUM_MAIL_HOST and a sender)."""
    return bool(current_app.config.get("MAIL_HOST") and current_app.config.get("MAIL_SENDER"))


def is_locked(user: User, kind: str) -> bool:
    """The kind always goes out at once to this user (not switchable off)."""
    return kind in ALWAYS_IMMEDIATE_KINDS and user.role in ALWAYS_IMMEDIATE_ROLES


def default_mode(kind: str) -> str:
    return "immediate" if kind in IMMEDIATE_BY_DEFAULT else "digest"


def modes_for(user: User) -> dict[str, str]:
    """The user's chosen mode per kind (kinds without a row are absent)."""
    return dict(db.session.execute(select(MailPreference.kind, MailPreference.mode)
                                   .where(MailPreference.user_id == user.id)).all())


def mode_for(user: User, kind: str) -> str:
    if is_locked(user, kind):
        return "immediate"
    chosen = db.session.get(MailPreference, (user.id, kind))
    return chosen.mode if chosen else default_mode(kind)


def settings_for(user_id: int) -> MailSettings | None:
    return db.session.execute(select(MailSettings).where(MailSettings.user_id == user_id)).scalar_one_or_none()


def next_digest_at(hour: int, now: dt.datetime | None = None) -> dt.datetime:
    """The next ``hour`` o'clock in Seoul after ``now``, as naive UTC."""
    local = (now or utcnow()) + KST
    due = dt.datetime.combine(local.date(), dt.time(hour))
    if due <= local:
        due += dt.timedelta(days=1)
    return due - KST


def enqueue_alert(note, *, deadline: dt.date | None = None, sender_org_id: int | None = None) -> OutboxMessage | None:
    """Queue the e-mail for a new alert as the user chose (none without a verified address)."""
    if not mail_configured():
        return None
    settings = settings_for(note.user_id)
    if settings is None or settings.verified_at is None:
        return None
    user = db.session.get(User, note.user_id)
    if user is None or not user.active:
        return None
    mode = mode_for(user, note.kind)
    if mode == "none":
        return None
    now = utcnow()
    row = OutboxMessage(user_id=user.id, purpose="alert", kind=note.kind, notification=note,
                        sender_org_id=sender_org_id, deadline=deadline, link=note.link, digest=mode == "digest",
                        due_at=now if mode == "immediate" else next_digest_at(settings.digest_hour, now),
                        created_at=now)
    db.session.add(row)
    return row


# -- choices ----------------------------------------------------------------------------------

def save_choices(user: User, modes: dict[str, str], digest_hour: int) -> int:
    """Store the user's mode per kind and digest hour; locked kinds stay immediate.  Audited
    with the choices (codes only).  Returns how many kinds changed."""
    if not 0 <= digest_hour <= 23:
        raise DomainError(_l("0시부터 23시 사이에서 골라 주세요."), "digest_hour")
    current = modes_for(user)
    changed = {}
    for kind, mode in modes.items():
        if mode not in MAIL_MODES or is_locked(user, kind):
            continue
        if current.get(kind, default_mode(kind)) != mode:
            changed[kind] = mode
            row = db.session.get(MailPreference, (user.id, kind))
            if row is None:
                db.session.add(MailPreference(user_id=user.id, kind=kind, mode=mode))
            else:
                row.mode = mode
    settings = settings_for(user.id) or _new_settings(user)
    hour_changed = settings.digest_hour != digest_hour
    settings.digest_hour = digest_hour
    if changed or hour_changed:
        record("mail_preferences_changed", obj=user, details={"modes": changed, "digest_hour": digest_hour})
    return len(changed) + int(hour_changed)


def _new_settings(user: User) -> MailSettings:
    settings = MailSettings(user_id=user.id, digest_hour=8)
    db.session.add(settings)
    return settings


# -- the address ------------------------------------------------------------------------------

def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt="ieum-mail-verify")


def _fingerprint(address: str) -> str:
    """Binds a link to the address it was sent to, without putting the address in the link."""
    return hashlib.sha256(address.strip().casefold().encode()).hexdigest()[:24]


def request_address(user: User, address: str) -> OutboxMessage:
    """A new address waits as ``pending`` until the link sent to it is opened; the verified one
    (if any) keeps receiving alerts meanwhile."""
    if not mail_configured():
        raise DomainError(_l("메일 서버가 설정되지 않아 지금은 메일 주소를 확인할 수 없습니다. 관리자에게 문의해 주세요."),
                          "address")
    address = address.strip()
    settings = settings_for(user.id) or _new_settings(user)
    settings.pending = address
    settings.pending_requested_at = utcnow()
    # a link still waiting for an earlier address must not go out to this one
    db.session.query(OutboxMessage).filter(
        OutboxMessage.user_id == user.id, OutboxMessage.purpose == "verify", OutboxMessage.status == "pending") \
        .update({"status": "failed", "last_error": "superseded"}, synchronize_session=False)
    token = _serializer().dumps({"u": user.uid, "f": _fingerprint(address)})
    row = OutboxMessage(user_id=user.id, purpose="verify", kind="verify", due_at=utcnow(),
                        link=url_for("notifications.verify_address", token=token))
    db.session.add(row)
    record("mail_address_requested", obj=user)
    return row


def confirm_address(user: User, token: str) -> None:
    """Opening the link sent to the pending address makes it the verified one."""
    try:
        data = _serializer().loads(token, max_age=int(VERIFY_MAX_AGE.total_seconds()))
    except SignatureExpired:
        raise DomainError(_l("확인 링크의 유효 시간(48시간)이 지났습니다. 메일 주소를 다시 입력해 주세요.")) from None
    except BadSignature:
        raise DomainError(_l("확인 링크가 올바르지 않습니다.")) from None
    settings = settings_for(user.id)
    if (isinstance(data, dict) and data.get("u") == user.uid and settings is not None and not settings.pending
            and settings.address and data.get("f") == _fingerprint(settings.address)):
        return  # the link opened again after it worked: the address is verified already
    if (not isinstance(data, dict) or data.get("u") != user.uid or settings is None or not settings.pending
            or data.get("f") != _fingerprint(settings.pending)):
        record("mail_address_verify_refused", obj=user, outcome="denied")
        raise DomainError(_l("이 링크는 지금 확인을 기다리는 메일 주소의 링크가 아닙니다. 로그인한 계정과 주소를 확인해 주세요."))
    settings.address = settings.pending
    settings.pending = None
    settings.pending_requested_at = None
    settings.verified_at = utcnow()
    record("mail_address_verified", obj=user)


def remove_address(user: User) -> None:
    """Stop e-mail altogether: the address is deleted (queued messages are dropped)."""
    settings = settings_for(user.id)
    if settings is None:
        return
    settings.address = None
    settings.pending = None
    settings.verified_at = None
    settings.pending_requested_at = None
    db.session.query(OutboxMessage).filter(OutboxMessage.user_id == user.id, OutboxMessage.status == "pending") \
        .update({"status": "failed", "last_error": "address_removed"}, synchronize_session=False)
    record("mail_address_removed", obj=user)


def masked(address: str | None) -> str:
    """h***@example.kr: enough for the user to recognise their address on a shared screen."""
    if not address or "@" not in address:
        return ""
    local, domain = address.rsplit("@", 1)
    return f"{local[:1]}***@{domain}"
