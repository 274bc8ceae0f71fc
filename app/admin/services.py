"""Account administration: create an account, change its role or organisation, deactivate,
reactivate, unlock, reset its password.

Every function takes the acting admin, checks the rules, flushes, and keeps the grant change
(before, after and the reason, encrypted) with its audit event in the caller's transaction;
callers commit.  Passwords exist only in the hash column and, once, in the response that shows
a generated one: never in an audit event, a grant change, a log line or the session.
"""
from __future__ import annotations

from flask_babel import gettext
import secrets

from sqlalchemy import func, select

from ..audit.services import record
from ..auth.grants import grant_state, record_grant
from ..auth.models import ORG_KINDS, LoginThrottle, Organisation, User
from ..auth.services import check_password_policy, create_user, deactivate_user, login_key, set_password
from ..auth.session import end_all_sessions
from ..db import utcnow
from ..domain import DomainError, NotPermitted
from ..extensions import db
from ..permissions import ADMIN, GUARDIAN, ROLES, has_role, role_fits_organisation, role_label

REASON_MAX = 1000
#: no 0/O, 1/l/I: a password read out over the phone or copied by hand
PASSWORD_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnpqrstuvwxyz23456789"
#: roles an admin gives here; guardian accounts belong to a roster entry kept by the district office
ASSIGNABLE_ROLES = tuple(role for role in ROLES if role != GUARDIAN)


def require_admin(actor) -> None:
    """Only system administrators manage accounts and organisations."""
    if not has_role(actor, ADMIN):
        raise NotPermitted(gettext("시스템 관리자만 계정과 기관을 관리할 수 있습니다."))


def clean_reason(reason: str | None, required: bool = True) -> str | None:
    """The reason kept (encrypted) with a grant change."""
    reason = (reason or "").strip()
    if required and not reason:
        raise DomainError(gettext("사유를 입력해 주세요. 권한 변경 이력에 남습니다."), "reason")
    if len(reason) > REASON_MAX:
        raise DomainError(gettext("사유는 %(n)d자 이내로 입력해 주세요.", n=REASON_MAX), "reason")
    return reason or None


def organisation_by_code(code: str | None) -> Organisation | None:
    """The active organisation with this code (None for a blank code)."""
    code = (code or "").strip()
    if not code:
        return None
    # codes are kept upper-case; an exact match wins should an old mixed-case code exist
    organisation = db.session.execute(
        select(Organisation).where(Organisation.code.in_({code, code.upper()}))
        .order_by((Organisation.code == code).desc())).scalars().first()
    if organisation is None:
        raise DomainError(gettext("기관 코드를 찾을 수 없습니다: %(code)s. 기관 목록에서 코드를 확인해 주세요.", code=code),
                          "organisation")
    if not organisation.active:
        raise DomainError(gettext("비활성화된 기관에는 사용자를 둘 수 없습니다."), "organisation")
    return organisation


def check_role(role: str, organisation: Organisation | None) -> None:
    """A role an admin may give, in an organisation of a kind that role belongs to."""
    if role not in ROLES:
        raise DomainError(gettext("역할을 목록에서 골라 주세요."), "role")
    if role == GUARDIAN:
        raise DomainError(gettext("교육후견인 계정은 교육지원청 담당자가 후견인 명단에서 만듭니다."), "role")
    if not role_fits_organisation(role, organisation):
        kinds = "·".join(gettext(ORG_KINDS[kind]) for kind in ROLES[role][1])
        raise DomainError(gettext("%(role)s 계정의 소속은 %(kinds)s이어야 합니다.", role=role_label(role), kinds=kinds),
                          "organisation")


def generate_password(login: str, display_name: str) -> str:
    """A random temporary password (four groups of four) that passes the password policy."""
    while True:
        password = "-".join("".join(secrets.choice(PASSWORD_ALPHABET) for _ in range(4)) for _ in range(4))
        try:
            check_password_policy(password, login, display_name)
        except DomainError:  # astronomically rare (a login inside it): draw again
            continue
        return password


def create_account(actor, *, login: str, display_name: str, role: str, organisation_code: str | None,
                   password: str | None = None) -> tuple[User, str | None]:
    """Create an account whose password is temporary; returns it and the generated password
    (None when the admin typed one), to be shown once."""
    require_admin(actor)
    display_name = (display_name or "").strip()
    if not display_name or len(display_name) > 100:
        raise DomainError(gettext("이름을 100자 이내로 입력해 주세요."), "display_name")
    organisation = organisation_by_code(organisation_code)
    check_role(role, organisation)
    generated = None
    if not password:
        generated = password = generate_password(login or "", display_name)
    user = create_user(login=login or "", display_name=display_name, role=role, organisation=organisation,
                       password=password, actor=actor, temporary=True)
    return user, generated


def change_grant(user: User, actor, *, role: str, organisation_code: str | None, reason: str | None) -> list[str]:
    """Change the role and/or organisation; every session of the user ends.  Returns the
    grant change kinds recorded (each with the whole before and after)."""
    require_admin(actor)
    if user.id == actor.id:
        raise DomainError(gettext("자기 계정의 역할·소속은 바꿀 수 없습니다. 다른 시스템 관리자에게 요청해 주세요."), "role")
    if user.role == GUARDIAN:
        raise DomainError(gettext("교육후견인 계정의 역할·소속은 바꿀 수 없습니다. 교육후견인은 교육지원청 후견인 명단에서 관리합니다."),
                          "role")
    reason = clean_reason(reason)
    organisation = organisation_by_code(organisation_code)
    check_role(role, organisation)
    kinds = [kind for kind, changed in (("role_changed", role != user.role),
                                        ("organisation_changed", organisation.id != user.organisation_id)) if changed]
    if not kinds:
        raise DomainError(gettext("바뀐 내용이 없습니다. 새 역할이나 소속을 골라 주세요."), "role")
    before = grant_state(user)
    user.role, user.organisation = role, organisation
    end_all_sessions(user)
    db.session.flush()  # the after state is read from the columns
    for kind in kinds:
        record_grant(user, kind, actor, before=before, reason=reason)
    return kinds


def deactivate_account(user: User, actor, reason: str | None) -> None:
    """Deactivate with a reason; the user's sessions end and sign-in is refused."""
    require_admin(actor)
    if user.id == actor.id:
        raise DomainError(gettext("자기 계정은 비활성화할 수 없습니다."), "reason")
    reason = clean_reason(reason)
    if not user.active:
        raise DomainError(gettext("이미 비활성화된 계정입니다."), "reason")
    deactivate_user(user, actor, reason)


def reactivate_user(user: User, actor, reason: str | None) -> None:
    """Let a deactivated account sign in again (its organisation must be active)."""
    require_admin(actor)
    reason = clean_reason(reason)
    if user.active:
        raise DomainError(gettext("이미 사용 중인 계정입니다."), "reason")
    if user.organisation is not None and not user.organisation.active:
        raise DomainError(gettext("소속 기관이 비활성화되어 있습니다. 기관을 다시 운영하거나 먼저 소속을 옮겨 주세요."), "reason")
    before = grant_state(user)
    user.active = True
    db.session.flush()
    record("user_reactivated", obj=user, actor=actor)
    record_grant(user, "reactivated", actor, before=before, reason=reason)


def lock_of(user: User) -> LoginThrottle | None:
    """The account's lockout row while it is locked, else None."""
    throttle = db.session.get(LoginThrottle, user.login_key or login_key(user.login))
    return throttle if throttle is not None and throttle.locked_until and throttle.locked_until > utcnow() else None


def locked_keys(keys) -> set[str]:
    """Which of these login keys are locked now (one query for a page of users)."""
    keys = list(keys)
    if not keys:
        return set()
    return set(db.session.execute(select(LoginThrottle.login).where(
        LoginThrottle.login.in_(keys), LoginThrottle.locked_until > utcnow())).scalars())


def unlock_user(user: User, actor, reason: str | None = None) -> None:
    """End a lockout (the failure count starts again from zero)."""
    require_admin(actor)
    reason = clean_reason(reason, required=False)
    throttle = lock_of(user)
    if throttle is None:
        raise DomainError(gettext("잠긴 계정이 아닙니다."), "reason")
    db.session.delete(throttle)
    db.session.flush()
    record_grant(user, "unlocked", actor, before=grant_state(user), reason=reason)


def reset_password(user: User, actor, reason: str | None) -> str:
    """Give the account a new random temporary password (returned to be shown once); every
    session of the user ends and a lockout on it is lifted."""
    require_admin(actor)
    if user.id == actor.id:
        raise DomainError(gettext("자기 비밀번호는 내 계정 화면에서 바꿔 주세요."), "reason")
    reason = clean_reason(reason)
    before = grant_state(user)
    password = generate_password(user.login, user.display_name or "")
    set_password(user, password, actor)
    user.password_temporary = True  # after set_password, which clears it
    end_all_sessions(user)
    throttle = db.session.get(LoginThrottle, user.login_key)
    if throttle is not None:  # the old password no longer works: guessing it is moot
        db.session.delete(throttle)
    db.session.flush()
    record_grant(user, "password_reset", actor, before=before, reason=reason)
    return password


def admin_figures() -> dict:
    """Counts for the admin home, each one SQL aggregate: active users by role, inactive,
    locked and still on a temporary password."""
    by_role = dict(db.session.execute(select(User.role, func.count()).where(User.active.is_(True))
                                      .group_by(User.role)).all())
    inactive = db.session.execute(select(func.count()).select_from(User).where(User.active.is_(False))).scalar()
    locked = db.session.execute(select(func.count()).select_from(User).join(
        LoginThrottle, LoginThrottle.login == User.login_key).where(LoginThrottle.locked_until > utcnow())).scalar()
    temporary = db.session.execute(select(func.count()).select_from(User).where(
        User.active.is_(True), User.password_temporary.is_(True))).scalar()
    return {"by_role": [(role, by_role.get(role, 0)) for role in ROLES], "active": sum(by_role.values()),
            "inactive": inactive or 0, "locked": locked or 0, "temporary": temporary or 0}
