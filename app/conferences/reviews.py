"""Each case's current review date (case_review), derived from the conference decisions.

A case's current review is the next review date decided for it by its latest held conference
(by start, then id); a later held conference supersedes it, even one that set no date.  The
conference services call ``refresh_reviews`` in the transaction that records or amends a
conference; ``rebuild_reviews`` recomputes every case (migration 0012, the scale generator).
"""
from __future__ import annotations

from sqlalchemy import and_, delete, insert, or_, select, true
from sqlalchemy.orm import aliased

from ..auth.models import Organisation
from ..cases.models import SupportCase
from ..extensions import db
from .models import CaseReview, Conference, ConferenceCase

COLUMNS = ("case_id", "conference_case_id", "school_id", "office_code", "review_on")


def _current(case_filter):
    """SELECT of case_review rows: each case's review date from its latest held conference."""
    later, later_conf = aliased(ConferenceCase), aliased(Conference)
    superseded = (select(later.id).join(later_conf, later_conf.id == later.conference_id)
                  .where(later.case_id == ConferenceCase.case_id, later_conf.status == "held",
                         or_(later_conf.starts_at > Conference.starts_at,
                             and_(later_conf.starts_at == Conference.starts_at, later_conf.id > Conference.id)))
                  .exists())
    return (select(ConferenceCase.case_id, ConferenceCase.id, SupportCase.school_id, Organisation.office_code,
                   ConferenceCase.next_review_on)
            .join(Conference, Conference.id == ConferenceCase.conference_id)
            .join(SupportCase, SupportCase.id == ConferenceCase.case_id)
            .join(Organisation, Organisation.id == SupportCase.school_id)
            .where(Conference.status == "held", ConferenceCase.next_review_on.is_not(None), ~superseded, case_filter))


def refresh_reviews(case_ids) -> None:
    """Recompute the current review of these cases (after a conference was recorded or amended)."""
    ids = sorted(set(case_ids))
    if not ids:
        return
    db.session.flush()
    db.session.execute(delete(CaseReview).where(CaseReview.case_id.in_(ids)))
    db.session.execute(insert(CaseReview).from_select(COLUMNS, _current(ConferenceCase.case_id.in_(ids))))


def rebuild_reviews() -> int:
    """Recompute every case's current review; returns how many cases have one."""
    db.session.flush()
    db.session.execute(delete(CaseReview))
    db.session.execute(insert(CaseReview).from_select(COLUMNS, _current(true())))
    return db.session.query(CaseReview).count()
