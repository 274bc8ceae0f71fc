"""The records feature's checks: transfers (전학), retention dates and 열람·정정 requests."""
from __future__ import annotations

from . import DISTRICT_COORDINATOR, SCHOOL_LEAD, SCHOOL_ROLES, has_role, school_ids_of_office

# -- records: transfers (전학) ------------------------------------------------------------------
# A transfer is seen by the leads of the two schools it joins and the coordinators of their two
# offices; the school staff, guardians, agencies, auditors and administrators never see one.

def transfer_scope(user):
    """SQL condition on CaseTransfer for the transfers ``user`` may see (false for everyone else)."""
    from sqlalchemy import false, or_

    from ..records.transfer_models import CaseTransfer
    if not (user and user.is_authenticated and user.organisation_id):
        return false()
    if user.role == SCHOOL_LEAD:
        return or_(CaseTransfer.from_school_id == user.organisation_id, CaseTransfer.to_school_id == user.organisation_id)
    if user.role == DISTRICT_COORDINATOR and user.organisation is not None and user.organisation.office_code:
        schools = school_ids_of_office(user.organisation.office_code)
        return or_(CaseTransfer.from_school_id.in_(schools), CaseTransfer.to_school_id.in_(schools))
    return false()


def can_view_transfer(user, transfer) -> bool:
    """The lead of the sending or the receiving school, or a coordinator of either school's office."""
    if not (user and user.is_authenticated) or transfer is None:
        return False
    if user.role == SCHOOL_LEAD:
        return user.organisation_id in (transfer.from_school_id, transfer.to_school_id)
    if user.role == DISTRICT_COORDINATOR and user.organisation is not None:
        return user.organisation.office_code in (transfer.from_school.office_code, transfer.to_school.office_code)
    return False


def can_send_transfer(user, case) -> bool:
    """Sending a case to another school is the case's school lead's decision (교감)."""
    return has_role(user, SCHOOL_LEAD) and case is not None and user.organisation_id == case.school_id


def can_answer_transfer(user, transfer) -> bool:
    """The new school's lead accepts or returns it."""
    return has_role(user, SCHOOL_LEAD) and transfer is not None and user.organisation_id == transfer.to_school_id


def can_cancel_transfer(user, transfer) -> bool:
    """The old school's lead may take it back while the new school has not answered."""
    return has_role(user, SCHOOL_LEAD) and transfer is not None and user.organisation_id == transfer.from_school_id


# -- records: retention -------------------------------------------------------------------

def can_view_retention(user, student) -> bool:
    """A student's retention date and holds: the school team of the student's school."""
    return bool(user and user.is_authenticated and student is not None and user.role in SCHOOL_ROLES
                and user.organisation_id == student.school_id)


def can_manage_retention(user, student) -> bool:
    """Legal holds and the 학업 중단 date: the school lead (교감) of the student's school."""
    return bool(user and user.is_authenticated and student is not None and user.role == SCHOOL_LEAD
                and user.organisation_id == student.school_id)


# -- records: requests --------------------------------------------------------------------

def can_handle_subject_requests(user, student) -> bool:
    """열람·정정 requests about a student: the school lead (교감) of the student's school records,
    answers and exports them (the school is the controller; one accountable person)."""
    return bool(user and user.is_authenticated and student is not None and user.role == SCHOOL_LEAD
                and user.organisation_id == student.school_id)
