"""Reads of the agency coordinator's inbox and home: referrals sent to their agency, with only
what the agency may see of each (its projection), in a constant number of queries per page."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import case as sql_case, false, func, select
from sqlalchemy.orm import joinedload

from .. import permissions as p
from ..cases.models import SupportCase
from ..db import today_kst
from ..extensions import db
from .models import Referral
from .referral_queries import HIDDEN_REASONS, agency_projections, is_overdue

#: the statuses in which the agency still has something to do
RECORDABLE = ("accepted", "in_service")
#: how many referrals each home panel lists (the counts say how many there are in all)
HOME_LIMIT = 10


@dataclass
class InboxRow:
    """One referral as the agency may see it: its shared items only, and whether it is overdue."""

    referral: Referral
    shared: dict
    overdue: bool
    #: why nothing is shown any more (referral_queries.HIDDEN_REASONS), or None
    hidden: str | None = None

    @property
    def student_name(self) -> str | None:
        return self.shared.get("student_name")

    @property
    def withdrawn(self) -> bool:
        """The shared items are gone (consent withdrawn, referral cancelled or case ended): status and dates stay."""
        return self.hidden is not None

    @property
    def hidden_message(self) -> str:
        return HIDDEN_REASONS.get(self.hidden, "")


def inbox_rows(referrals, day: dt.date | None = None) -> list[InboxRow]:
    """The rows for a page of referrals (shared items as the service releases them; consent is
    decided for the whole page in one query)."""
    day = day or today_kst()
    referrals = list(referrals)
    return [InboxRow(r, seen.shared, bool(is_overdue(r, day)), seen.hidden)
            for r, seen in zip(referrals, agency_projections(referrals, day))]


def inbox_row(referral: Referral, day: dt.date | None = None) -> InboxRow:
    """The row for one referral (the same projection the conference page uses)."""
    return inbox_rows([referral], day)[0]


def agency_scope(user):
    """SQL condition on Referral: sent to the user's own agency (never drafts)."""
    if not p.has_role(user, p.AGENCY_COORDINATOR):
        return false()
    return p.referral_scope(user) & (Referral.status != "draft")


def agency_referrals(user):
    """The scope query of the inbox, with the case and school each row shows."""
    return (select(Referral).where(agency_scope(user))
            .options(joinedload(Referral.case).joinedload(SupportCase.school)))


def _listed(user, condition, order: tuple, limit: int) -> list[Referral]:
    """The first ``limit`` referrals of the user's agency meeting ``condition`` in ``order``: the
    ids are chosen on the referral table alone, then only those rows are read with their case
    and school (not every referral of a busy agency joined before it is sorted)."""
    first = select(Referral.id).where(agency_scope(user), condition).order_by(*order).limit(limit)
    return list(db.session.execute(
        select(Referral).where(Referral.id.in_(first))  # ids of the user's agency only (scoped above)
        .options(joinedload(Referral.case).joinedload(SupportCase.school)).order_by(*order)).unique().scalars())


def agency_panels(user, limit: int = HOME_LIMIT) -> dict:
    """Home page lists: referrals waiting for an answer (overdue first, then by deadline) and
    those accepted or in service (newest first), ``limit`` of each, and how many there are in all
    (counted in SQL, never by loading them)."""
    today = today_kst()
    scope = agency_scope(user)
    waiting_total, active_total = db.session.execute(
        select(func.count().filter(Referral.status == "sent"), func.count().filter(Referral.status.in_(RECORDABLE)))
        .select_from(Referral).where(scope, Referral.status.in_(("sent", *RECORDABLE)))).one()
    late = sql_case((Referral.respond_by < today, 0), else_=1)
    waiting = _listed(user, Referral.status == "sent", (late, func.coalesce(Referral.respond_by, today),
                                                        Referral.sent_at.desc(), Referral.id.desc()), limit)
    active = _listed(user, Referral.status.in_(RECORDABLE), (Referral.sent_at.desc(), Referral.id.desc()), limit)
    rows = inbox_rows(waiting + active, today)
    return {"waiting": rows[:len(waiting)], "in_service": rows[len(waiting):], "today": today,
            "waiting_total": int(waiting_total or 0), "in_service_total": int(active_total or 0)}
