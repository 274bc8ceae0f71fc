"""Who sees which statistics page and the e-mail outbox."""
from __future__ import annotations

from flask_babel import gettext

from . import ADMIN, AUDITOR, DISTRICT_COORDINATOR, SCHOOL_ROLES, has_role

# -- statistics ----------------------------------------------------------------------------
#: which roles see which statistics page: the school team its school (small counts allowed),
#: a coordinator its district, auditors and administrators the city (both de-identified)
REPORT_LEVELS = {"school": SCHOOL_ROLES, "district": (DISTRICT_COORDINATOR,), "city": (AUDITOR, ADMIN)}


def report_level_for(user) -> str | None:
    """The statistics page ``user`` opens from the menu (None: no statistics for this role)."""
    return next((level for level, roles in REPORT_LEVELS.items() if has_role(user, *roles)), None)


def report_scope(user, level: str, group: str | None = None):
    """The Scope (app/reports/tables.py) of ``level`` for ``user``, or None when not allowed: a
    school's page is its own school's, a district page its own office's; the city page groups
    by district office or by 자치구."""
    from ..reports.tables import Scope
    if level not in REPORT_LEVELS or not has_role(user, *REPORT_LEVELS[level]) or not user.organisation_id:
        return None
    org = user.organisation
    if level == "school":
        return Scope("school", "school", school_id=org.id, office_code=org.office_code, name=org.name)
    if level == "district":
        return Scope("district", "school", office_code=org.office_code, name=org.name)
    return Scope("city", "gu" if group == "gu" else "office", name=gettext("서울특별시교육청"))


# -- e-mail alerts -------------------------------------------------------------------------

def can_view_outbox(user) -> bool:
    """메일 발송 현황 (the outbox's state, never a recipient or content): system administrators."""
    return has_role(user, ADMIN)

