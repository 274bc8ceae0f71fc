"""Two-factor sign-in with TOTP (RFC 6238): enrolment, code checks, one-time recovery codes,
turning it off (optional roles only) and the admin's reset.

The secret lives only in ``user.totp_secret`` (encrypted with the key ring) and recovery codes
only as password hashes: no audit event, log line or flash message ever carries either.
Services flush; callers commit.
"""
from __future__ import annotations

import hmac
import secrets
import time

import pyotp
import segno
from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import delete, func, select, update
from werkzeug.security import check_password_hash

from ..audit.services import record
from ..db import utcnow
from ..domain import DomainError, NotPermitted
from ..extensions import db
from ..permissions import ADMIN
from .grants import grant_state, record_grant
from .models import RecoveryCode, User
from .services import hash_password
from .session import end_all_sessions

#: seconds per code (what every authenticator app uses)
INTERVAL = 30
DIGITS = 6
#: steps either side of now that still count: a phone clock 30 s off, or a code typed as it changes
WINDOW = 1
RECOVERY_CODE_COUNT = 10
#: 32 letters and digits without 0/O and 1/I: 10 of them are 50 random bits, easy to read aloud
RECOVERY_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
RECOVERY_LENGTH = 10


def is_required(user: User) -> bool:
    """Whether this user's role must sign in with a second factor (config TOTP_REQUIRED_ROLES)."""
    return user.role in current_app.config.get("TOTP_REQUIRED_ROLES", ())


def is_enabled(user: User) -> bool:
    """Whether sign-in asks this user for a code."""
    return user.totp_enabled_at is not None


def current_step() -> int:
    """The TOTP time step now (freezegun moves it with the clock)."""
    return int(time.time()) // INTERVAL


def code_for_step(secret: str, step: int) -> str:
    """The code an authenticator app shows for ``step`` (tests use it too)."""
    return pyotp.TOTP(secret, digits=DIGITS, interval=INTERVAL).generate_otp(step)


def _clean(code: str | None) -> str:
    # people type codes with spaces or dashes, as the app and the code sheet show them
    return "".join(ch for ch in (code or "") if ch not in " -\t").upper()


def _matching_step(user: User, code: str | None) -> int | None:
    """The newest step within the window whose code is ``code``, if it is newer than the last used."""
    code = _clean(code)
    secret = user.totp_secret
    if not secret or len(code) != DIGITS or not code.isdigit():
        return None
    now = current_step()
    for step in range(now + WINDOW, now - WINDOW - 1, -1):
        if user.totp_last_step is not None and step <= user.totp_last_step:
            break  # that code (or an older one) was used already: a replay
        if hmac.compare_digest(code_for_step(secret, step), code):
            return step
    return None


# -- enrolment ---------------------------------------------------------------------------
def start_enrolment(user: User) -> None:
    """A new secret, kept encrypted but not yet in force (confirm_enrolment turns it on)."""
    if is_enabled(user):
        raise DomainError(_("이미 2단계 인증을 쓰고 있습니다."))
    user.totp_secret = pyotp.random_base32()
    user.totp_last_step = None
    record("totp_enrolment_started", obj=user, actor=user)


def provisioning_uri(user: User) -> str:
    """The otpauth:// address an authenticator app reads from the QR code."""
    return pyotp.TOTP(user.totp_secret, digits=DIGITS, interval=INTERVAL).provisioning_uri(
        name=user.login, issuer_name=current_app.config.get("TOTP_ISSUER", "이음"))


def qr_svg(uri: str) -> str:
    """The QR code as inline <svg> markup (plain attributes, no style or script: fits the CSP)."""
    return segno.make(uri, error="m").svg_inline(scale=5, dark="#000", light="#fff",
                                                 title=_("2단계 인증 등록 QR 코드"), svgclass="ieum-qr")


def grouped_secret(secret: str) -> str:
    """The secret in groups of four, for typing it into an app by hand."""
    return " ".join(secret[i:i + 4] for i in range(0, len(secret), 4))


def confirm_enrolment(user: User, code: str) -> list[str]:
    """Turn the second factor on once the app shows a right code; returns the 10 recovery
    codes, to be shown once and never again.  Every session signed in without the code ends
    (the caller keeps its own by storing the new session version)."""
    if is_enabled(user):
        raise DomainError(_("이미 2단계 인증을 쓰고 있습니다."))
    if not user.totp_secret:
        raise DomainError(_("등록을 처음부터 다시 시작해 주세요."))
    step = _matching_step(user, code)
    if step is None:
        raise DomainError(_("인증 코드가 맞지 않습니다. 앱에 지금 표시된 6자리 숫자를 입력해 주세요. "
                          "계속 맞지 않으면 휴대전화의 시간이 자동 설정인지 확인해 주세요."), "code")
    user.totp_enabled_at, user.totp_last_step = utcnow(), step
    codes = _new_recovery_codes(user)
    end_all_sessions(user)
    record("totp_enabled", obj=user, actor=user, details={"recovery_codes": len(codes)})
    return codes


# -- codes at sign-in --------------------------------------------------------------------
def verify_totp(user: User, code: str) -> bool:
    """A code of this or the neighbouring step, never one at or before the last step used."""
    step = _matching_step(user, code)
    if step is None:
        return False
    user.totp_last_step = step
    return True


def _new_recovery_codes(user: User) -> list[str]:
    """Replace every recovery code of ``user`` with 10 new ones; returns them in plain text."""
    db.session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    codes = ["".join(secrets.choice(RECOVERY_ALPHABET) for _ in range(RECOVERY_LENGTH))
             for _ in range(RECOVERY_CODE_COUNT)]
    now = utcnow()
    db.session.add_all([RecoveryCode(user_id=user.id, code_hash=hash_password(code), created_at=now)
                        for code in codes])
    db.session.flush()
    return [f"{code[:5]}-{code[5:]}" for code in codes]


def recovery_codes_left(user: User) -> int:
    """How many recovery codes the user has not used yet."""
    return db.session.execute(select(func.count(RecoveryCode.id)).where(
        RecoveryCode.user_id == user.id, RecoveryCode.used_at.is_(None))).scalar_one()


def use_recovery_code(user: User, code: str) -> bool:
    """Accept one unused recovery code and mark it used, so it never works again."""
    wanted = _clean(code)
    if len(wanted) != RECOVERY_LENGTH or any(ch not in RECOVERY_ALPHABET for ch in wanted):
        return False
    unused = db.session.execute(select(RecoveryCode).where(
        RecoveryCode.user_id == user.id, RecoveryCode.used_at.is_(None))).scalars()
    for stored in unused:
        if check_password_hash(stored.code_hash, wanted):
            # only the request that flips used_at from empty wins: a parallel use of the same code fails
            marked = db.session.execute(update(RecoveryCode).where(
                RecoveryCode.id == stored.id, RecoveryCode.used_at.is_(None)).values(used_at=utcnow()))
            if marked.rowcount != 1:
                return False
            record("recovery_code_used", obj=user, actor=user, details={"left": recovery_codes_left(user)})
            return True
    return False


def regenerate_recovery_codes(user: User, code: str) -> list[str]:
    """Ten new recovery codes (the old ones stop working); needs a current code from the app."""
    if not is_enabled(user):
        raise DomainError(_("2단계 인증을 먼저 등록해 주세요."))
    if not verify_totp(user, code):
        raise DomainError(_("인증 코드가 맞지 않습니다. 앱에 지금 표시된 6자리 숫자를 입력해 주세요."), "code")
    codes = _new_recovery_codes(user)
    record("totp_recovery_codes_renewed", obj=user, actor=user, details={"recovery_codes": len(codes)})
    return codes


# -- turning it off ----------------------------------------------------------------------
def _clear(user: User) -> None:
    user.totp_secret = None
    user.totp_enabled_at = user.totp_last_step = None
    db.session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))


def disable_totp(user: User, code: str) -> None:
    """The user turns their own second factor off (roles that need it cannot); needs a current code."""
    if is_required(user):
        raise NotPermitted(_("이 역할은 2단계 인증을 끌 수 없습니다."))
    if not is_enabled(user):
        raise DomainError(_("2단계 인증을 쓰고 있지 않습니다."))
    if not verify_totp(user, code):
        raise DomainError(_("인증 코드가 맞지 않습니다. 앱에 지금 표시된 6자리 숫자를 입력해 주세요."), "code")
    _clear(user)
    record("totp_disabled", obj=user, actor=user)


def reset_totp(user: User, actor: User | None, reason: str) -> None:
    """An admin clears a user's second factor (a lost phone): every session of the user ends,
    the grant change is kept with the reason, and the user enrols again at the next sign-in.
    ``actor`` None is the command line."""
    if actor is not None and actor.role != ADMIN:
        raise NotPermitted(_("시스템 관리자만 2단계 인증을 초기화할 수 있습니다."))
    if not (reason or "").strip():
        raise DomainError(_("초기화 사유를 입력해 주세요."), "reason")
    if not is_enabled(user) and not user.totp_secret:
        raise DomainError(_("2단계 인증을 등록하지 않은 계정입니다."))
    before = grant_state(user)
    _clear(user)
    end_all_sessions(user)
    record("totp_reset", obj=user, actor=actor)
    record_grant(user, "totp_reset", actor, before=before, reason=reason)
