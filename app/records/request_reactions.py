"""열람·정정 requests on other pages: the lead's home (open requests by deadline, overdue marked,
until answered) and the case page (the student's requests, a link to record one)."""
from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import joinedload

from .. import signals
from ..db import today_kst
from ..extensions import db
from ..lifecycle import PageSection
from ..permissions import SCHOOL_LEAD, can_handle_subject_requests
from .request_models import SubjectRequest

#: requests listed on the home at once (the list page has them all)
HOME_LIMIT = 10


@signals.home_sections.connect
def home_sections(user, **_kwargs):
    """The school lead's open requests, nearest deadline first; nothing when there are none."""
    if getattr(user, "role", None) != SCHOOL_LEAD or not user.organisation_id:
        return None
    where = (SubjectRequest.school_id == user.organisation_id, SubjectRequest.status == "open")
    requests = list(db.session.scalars(select(SubjectRequest).where(*where).options(joinedload(SubjectRequest.student))
                                       .order_by(SubjectRequest.due_on, SubjectRequest.id).limit(HOME_LIMIT)))
    if not requests:
        return None
    today = today_kst()
    total = db.session.scalar(select(func.count()).select_from(SubjectRequest).where(*where))
    overdue = db.session.scalar(select(func.count()).select_from(SubjectRequest)
                                .where(*where, SubjectRequest.due_on < today))
    return PageSection("records/request_home.html", 5, {"requests": requests, "today": today, "total": total,
                                                        "overdue": overdue, "rows_shown": len(requests)})


@signals.case_page_sections.connect
def case_page_sections(case, user=None, **_kwargs):
    """The case page's block for the lead of the case's school: the student's requests."""
    if not can_handle_subject_requests(user, case.student):
        return None
    requests = list(db.session.scalars(select(SubjectRequest).where(SubjectRequest.student_id == case.student_id)
                                       .order_by(SubjectRequest.requested_on.desc(), SubjectRequest.id.desc())
                                       .limit(5)))
    return PageSection("records/request_case_section.html", 40, {"requests": requests, "today": today_kst(),
                                                                  "student_uid": case.student.uid})
