"""Roles, scope queries and named permission checks: the one place authorisation lives.

Views load their object and call a check here before anything else; list queries start
from a scope query here, never from a filter applied afterwards.  Feature issues add their
scope queries (cases_visible_to, ...) and can_* checks to this module.
"""
from __future__ import annotations

from functools import wraps

from flask import abort
from flask_login import current_user, login_required

SCHOOL_STAFF = "school_staff"
SCHOOL_LEAD = "school_lead"
DISTRICT_COORDINATOR = "district_coordinator"
GUARDIAN = "guardian"
AGENCY_COORDINATOR = "agency_coordinator"
AUDITOR = "auditor"
ADMIN = "admin"

#: role -> (Korean label, organisation kinds the role may belong to; None = no organisation)
ROLES: dict[str, tuple[str, tuple[str | None, ...]]] = {
    SCHOOL_STAFF: ("학교 지원팀", ("school",)),
    SCHOOL_LEAD: ("학교 지원팀장(교감)", ("school",)),
    DISTRICT_COORDINATOR: ("교육지원청 담당자", ("district_office",)),
    GUARDIAN: ("교육후견인", (None,)),
    AGENCY_COORDINATOR: ("유관기관 담당자", ("agency",)),
    AUDITOR: ("감사·개인정보 담당", ("city_office", "district_office")),
    ADMIN: ("시스템 관리자", ("city_office",)),
}
SCHOOL_ROLES = (SCHOOL_STAFF, SCHOOL_LEAD)


def role_label(role: str) -> str:
    return ROLES[role][0]


def role_fits_organisation(role: str, organisation) -> bool:
    """A guardian belongs to no organisation; every other role to one of its kinds."""
    if role not in ROLES:
        return False
    kinds = ROLES[role][1]
    return (organisation is None) if kinds == (None,) else (organisation is not None and organisation.kind in kinds)


def has_role(user, *roles: str) -> bool:
    return bool(user and user.is_authenticated and user.role in roles)


def roles_required(*roles: str):
    """Decorator: logged in, and one of these roles; otherwise 403 (audited by the handler)."""
    def decorator(view):
        @wraps(view)
        @login_required
        def wrapped(*args, **kwargs):
            if current_user.role not in roles:
                abort(403)
            return view(*args, **kwargs)
        return wrapped
    return decorator
