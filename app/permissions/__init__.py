"""Roles, scope queries and named permission checks: the one place authorisation lives.

Views load their object and call a check here before anything else; list queries start
from a scope query here, never from a filter applied afterwards.  Feature issues add their
scope queries (cases_visible_to, ...) and can_* checks to this package: the common rules and the
case, guardian and referral checks here, statistics in ``reports``, the records feature in ``records``.
"""
from __future__ import annotations

from functools import wraps

from flask import abort
from flask_babel import lazy_gettext
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


def role_label(role: str):
    """The role's label, translated when shown (a lazy message: navigation.ROLE_LABEL_MESSAGES marks them)."""
    return lazy_gettext(ROLES[role][0])


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


# -- students and cases ------------------------------------------------------------------
# Scope queries return SQL conditions, so list queries filter in the database and a foreign
# object is simply "not found": a school never learns that another school's case exists.

def school_ids_of_office(office_code):
    """SQL: the ids of the schools of one district office."""
    from sqlalchemy import select

    from ..auth.models import Organisation
    return select(Organisation.id).where(Organisation.kind == "school", Organisation.office_code == office_code)


def _district_school_ids(user):
    return school_ids_of_office(user.organisation.office_code)


def case_scope(user):
    """SQL condition on SupportCase for the cases ``user`` may see (false for everyone else)."""
    from sqlalchemy import false

    from ..cases.models import SupportCase
    if not (user and user.is_authenticated and user.organisation_id):
        return false()
    if user.role in SCHOOL_ROLES:
        return SupportCase.school_id == user.organisation_id
    if user.role == DISTRICT_COORDINATOR:
        return SupportCase.school_id.in_(_district_school_ids(user))
    return false()


def student_scope(user):
    """SQL condition on Student, by the same rule as cases."""
    from sqlalchemy import false

    from ..students.models import Student
    if not (user and user.is_authenticated and user.organisation_id):
        return false()
    if user.role in SCHOOL_ROLES:
        return Student.school_id == user.organisation_id
    if user.role == DISTRICT_COORDINATOR:
        return Student.school_id.in_(_district_school_ids(user))
    return false()


def cases_visible_to(user):
    """The scope query every case list starts from."""
    from sqlalchemy import select

    from ..cases.models import SupportCase
    return select(SupportCase).where(case_scope(user))


def can_view_case(user, case) -> bool:
    """School team of the case's school, or the coordinator of its district."""
    if not (user and user.is_authenticated) or case is None:
        return False
    if user.role in SCHOOL_ROLES:
        return user.organisation_id == case.school_id
    if user.role == DISTRICT_COORDINATOR:
        return user.organisation is not None and case.school.office_code == user.organisation.office_code
    return False


def can_view_student(user, student) -> bool:
    """Same rule as cases: a student is visible where their school is."""
    if not (user and user.is_authenticated) or student is None:
        return False
    if user.role in SCHOOL_ROLES:
        return user.organisation_id == student.school_id
    if user.role == DISTRICT_COORDINATOR:
        return user.organisation is not None and student.school.office_code == user.organisation.office_code
    return False


def can_edit_case(user, case) -> bool:
    """Only the case's own school team records and changes case content."""
    return has_role(user, *SCHOOL_ROLES) and user.organisation_id == case.school_id


def can_decide_case(user, case) -> bool:
    """Selection, closing and reopening are the school lead's (교감) decisions."""
    return has_role(user, SCHOOL_LEAD) and user.organisation_id == case.school_id


def can_reply_escalation(user, case) -> bool:
    """The district centre of the case's school answers its escalations."""
    return (has_role(user, DISTRICT_COORDINATOR) and user.organisation is not None
            and case.school.office_code == user.organisation.office_code)


# -- guardians ---------------------------------------------------------------------------
# Guardians belong to one district office; only that office's coordinators see its roster.
# Schools and agencies never see guardians' personal data.

def guardian_scope(user):
    """SQL condition on Guardian: a district coordinator's own office, false for everyone else."""
    from sqlalchemy import false

    from ..guardians.models import Guardian
    if not has_role(user, DISTRICT_COORDINATOR) or user.organisation is None or not user.organisation.office_code:
        return false()
    return Guardian.office_code == user.organisation.office_code


def can_manage_guardian(user, guardian) -> bool:
    """The coordinators of the guardian's own district office run the roster and vetting."""
    return (guardian is not None and has_role(user, DISTRICT_COORDINATOR) and user.organisation is not None
            and user.organisation.office_code == guardian.office_code)


def can_view_concern(user, concern) -> bool:
    """A guardian's concern report: the school team of the case's school or a coordinator of its
    office reads it in full (the guardian who wrote it sees only whether it was acknowledged)."""
    return concern is not None and has_role(user, *SCHOOL_ROLES, DISTRICT_COORDINATOR) and can_view_case(
        user, concern.case)


def guardian_for_user(user):
    """The Guardian row of a guardian-role user, or None."""
    if not has_role(user, GUARDIAN):
        return None
    from sqlalchemy import select

    from ..extensions import db
    from ..guardians.models import Guardian
    return db.session.execute(select(Guardian).where(Guardian.user_id == user.id)).scalar_one_or_none()


# -- referrals ---------------------------------------------------------------------------
# The school side sees its cases' referrals (the coordinator those of its district); an agency
# sees only referrals sent to it, never a draft.

def referral_scope(user):
    """SQL condition on Referral for the referrals ``user`` may see (false for everyone else)."""
    from sqlalchemy import false, select

    from ..agencies.models import Referral
    from ..cases.models import SupportCase
    if not (user and user.is_authenticated and user.organisation_id):
        return false()
    if user.role in SCHOOL_ROLES or user.role == DISTRICT_COORDINATOR:
        return Referral.case_id.in_(select(SupportCase.id).where(case_scope(user)))
    if user.role == AGENCY_COORDINATOR:
        return (Referral.agency_id == user.organisation_id) & Referral.sent_at.is_not(None)
    return false()


#: the name the issue uses for the same condition
referral_visible_to = referral_scope


def referrals_visible_to(user):
    """The scope query every referral list starts from."""
    from sqlalchemy import select

    from ..agencies.models import Referral
    return select(Referral).where(referral_scope(user))


def can_view_referral(user, referral) -> bool:
    """The case's school side, or the agency it was sent to (once sent)."""
    if not (user and user.is_authenticated) or referral is None:
        return False
    if user.role in SCHOOL_ROLES or user.role == DISTRICT_COORDINATOR:
        return can_view_case(user, referral.case)
    if user.role == AGENCY_COORDINATOR:
        return user.organisation_id == referral.agency_id and referral.sent_at is not None
    return False



# the rest of the checks, importable from here as before
from .records import (can_answer_transfer, can_cancel_transfer, can_handle_subject_requests,  # noqa: E402,F401
                      can_manage_retention, can_send_transfer, can_view_retention, can_view_transfer,
                      transfer_scope)
from .reports import REPORT_LEVELS, can_view_outbox, report_level_for, report_scope  # noqa: E402,F401
