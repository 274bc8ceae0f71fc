"""Read-side queries for case lists and home pages, always built on the scope query."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import joinedload, selectinload
from flask_sqlalchemy.pagination import Pagination

from ..db import blind_index_matches, today_kst
from ..extensions import db
from ..permissions import DISTRICT_COORDINATOR, case_scope, cases_visible_to
from ..students.models import Student
from ..pagination import page_arg
from .models import CONSENT_PARTIES, DOMAINS, OPEN_STATUSES, RISK_LEVELS, STATUSES, CaseNeed, Consent, PlanAction, SupportCase


@dataclass
class CaseFilters:
    status: str = ""
    domain: str = ""
    risk: str = ""
    overdue: bool = False
    consent_missing: bool = False
    q: str = ""


def consent_in_force(day: dt.date):
    """SQL condition on Consent: given, not withdrawn and not expired on ``day`` (Consent.active_on)."""
    return and_(Consent.given_on <= day, or_(Consent.withdrawn_on.is_(None), Consent.withdrawn_on > day),
                or_(Consent.expires_on.is_(None), Consent.expires_on >= day))


def overdue_condition(day: dt.date):
    """An open plan action past its due date (EXISTS, read through ix plan_action (case_id, status, due_on))."""
    return (select(PlanAction.id).where(PlanAction.case_id == SupportCase.id, PlanAction.status == "open",
                                        PlanAction.due_on < day).correlate(SupportCase).exists())


def consent_missing_condition(day: dt.date):
    """The student or the parent has no consent in force: one NOT EXISTS per party, each read
    through ix consent (case_id, party) instead of counting every consent of every case."""
    return or_(*(~select(Consent.id).where(Consent.case_id == SupportCase.id, Consent.party == party,
                                           consent_in_force(day)).correlate(SupportCase).exists()
                 for party in CONSENT_PARTIES))


def filter_conditions(user, filters: CaseFilters, day: dt.date | None = None) -> list:
    """The scope and the filters as SQL conditions on SupportCase alone (no join: the name
    search is a subquery on the student's blind indexes)."""
    day = day or today_kst()
    conditions = [case_scope(user)]
    if filters.status in STATUSES:
        conditions.append(SupportCase.status == filters.status)
    elif filters.status == "open":
        conditions.append(SupportCase.status.in_(OPEN_STATUSES))
    if filters.domain in DOMAINS:
        conditions.append(select(CaseNeed.id).where(CaseNeed.case_id == SupportCase.id, CaseNeed.domain == filters.domain)
                          .correlate(SupportCase).exists())
    if filters.risk in RISK_LEVELS:
        conditions.append(SupportCase.risk_level == filters.risk)
    if filters.overdue:
        conditions.append(overdue_condition(day))
    if filters.consent_missing:
        conditions.append(consent_missing_condition(day))
    q = (filters.q or "").strip()
    if q:
        # exact match on the blind index of the name or the NEIS number: no decryption in SQL
        conditions.append(SupportCase.student_id.in_(select(Student.id).where(
            or_(blind_index_matches(Student.name_bidx, q), blind_index_matches(Student.neis_number_bidx, q)))))
    return conditions


#: the list order, most urgent first (ix support_case (school_id, urgency, requested_on, id) follows it)
LIST_ORDER = (SupportCase.urgency, SupportCase.requested_on.desc(), SupportCase.id.desc())


def filtered_case_ids(user, filters: CaseFilters):
    """The ids of the user's cases narrowed by ``filters``, most urgent first (a narrow Select:
    the page's ids are found without sorting whole rows, then loaded by CasePage)."""
    return select(SupportCase.id).where(*filter_conditions(user, filters)).order_by(*LIST_ORDER)


#: the count looks this many pages past the current one; beyond, the list says "N건 이상"
COUNT_AHEAD_PAGES = 10


class CasePage(Pagination):
    """One page of a case list: the page's ids from the narrow ordered query, then those cases
    with student, school and needs, and a count of ids: exact (``exact=True``), or bounded — it
    stops COUNT_AHEAD_PAGES past the current page, so a filter that probes other tables (overdue,
    consent missing, domain) never evaluates every case of the office just to be counted."""

    bounded = False

    def _query_items(self) -> list:
        ids = list(db.session.execute(self._query_args["ids"].limit(self.per_page).offset(self._query_offset)).scalars())
        if not ids:
            return []
        found = {c.id: c for c in db.session.execute(
            select(SupportCase).where(SupportCase.id.in_(ids))
            .options(joinedload(SupportCase.student), joinedload(SupportCase.school),
                     selectinload(SupportCase.needs))).unique().scalars()}
        return [found[i] for i in ids if i in found]

    def _query_count(self) -> int:
        if self._query_args.get("exact"):
            ids = self._query_args["ids"].order_by(None)
            return db.session.execute(select(func.count()).select_from(ids.subquery())).scalar_one()
        bound = self._query_offset + self.per_page * (COUNT_AHEAD_PAGES + 1)
        ids = self._query_args["ids"].order_by(None).limit(bound + 1)
        counted = db.session.execute(select(func.count()).select_from(ids.subquery())).scalar_one()
        self.bounded = counted > bound
        return min(counted, bound)


def case_page(user, filters: CaseFilters, per_page: int, page: int | None = None) -> CasePage:
    """The requested page (``?page=``) of the user's filtered case list.  Without a filter that
    probes other tables the count is exact (an index-only count); with one it is bounded."""
    exact = not (filters.overdue or filters.consent_missing or filters.domain in DOMAINS)
    return CasePage(page=page_arg() if page is None else page, per_page=per_page, error_out=False,
                    ids=filtered_case_ids(user, filters), exact=exact)


def my_open_cases(user, limit: int = 10) -> list[SupportCase]:
    """Open cases the user owns."""
    query = (cases_visible_to(user).where(SupportCase.owner_id == user.id, SupportCase.status.in_(OPEN_STATUSES))
             .options(joinedload(SupportCase.student)).order_by(SupportCase.urgency, SupportCase.id.desc()).limit(limit))
    return list(db.session.execute(query).unique().scalars())


def overdue_actions(user, limit: int = 10, with_school: bool = False) -> list[tuple[PlanAction, SupportCase]]:
    """Open plan actions past their due date in the user's cases (theirs first), oldest first;
    ``with_school``: each case's school loaded with it (a district's panel names the school)."""
    day = today_kst()
    # ids on narrow rows first, the user's own then everyone's, each in due order: ordering by
    # "mine first" made the database sort a district's ~1,600 overdue actions joined to their
    # students (20 ms at Seoul scale); then only the chosen rows are loaded
    overdue = (select(PlanAction.id).where(case_scope(user), SupportCase.status.in_(OPEN_STATUSES), PlanAction.due_on < day)
               .order_by(PlanAction.due_on, PlanAction.id).limit(limit))
    # the user's own: the few rows of their owner_id ("|| ''" keeps the planner off the status
    # index, whose walk in due order would pass every open overdue action of the city first)
    own = db.session.execute(overdue.join(SupportCase, PlanAction.case_id == SupportCase.id).where(
        PlanAction.owner_id == user.id, PlanAction.status + "" == "open")).scalars().all()
    # everyone's: a district holds ~1/11 of the city's open overdue actions, so walking them in
    # due order (ix_plan_action_status_due) finds its oldest ten after ~100 rows, where probing
    # each of its ~9,000 cases cost 4.5 ms at Seoul scale.  "+ 0" keeps the join off the case_id
    # index, so the plan does not depend on the statistics (after ANALYZE SQLite went back to
    # the probes).  A school has few cases: probing them stays the better plan there.
    case_id = PlanAction.case_id + 0 if user.role == DISTRICT_COORDINATOR else PlanAction.case_id
    others = db.session.execute(overdue.join(SupportCase, case_id == SupportCase.id)
                                .where(PlanAction.status == "open")).scalars().all()
    ids = list(dict.fromkeys([*own, *others]))[:limit]
    rows = db.session.execute(
        select(PlanAction, SupportCase).join(SupportCase, PlanAction.case_id == SupportCase.id)
        .where(PlanAction.id.in_(ids)).options(joinedload(SupportCase.student),
                                               *([joinedload(SupportCase.school)] if with_school else []))).unique().all()
    position = {action_id: i for i, action_id in enumerate(ids)}
    return sorted(rows, key=lambda row: position[row[0].id])


def waiting_cases(user, limit: int = 10) -> list[SupportCase]:
    """Cases waiting for selection, or in planning and support without both consents."""
    day = today_kst()
    order = (SupportCase.urgency, SupportCase.id)
    # the page's ids on narrow rows, then only those cases with their students (sorting a
    # district's candidates joined to their students cost more than the consent checks)
    ids = (select(SupportCase.id).where(
        case_scope(user),
        or_(SupportCase.status.in_(("requested", "screening")),
            and_(SupportCase.status.in_(("selected", "planning", "in_support", "monitoring")),
                 consent_missing_condition(day))))
        .order_by(*order).limit(limit))
    query = (select(SupportCase).where(SupportCase.id.in_(ids.scalar_subquery()))
             .options(joinedload(SupportCase.student)).order_by(*order))
    return list(db.session.execute(query).unique().scalars())


def escalated_cases(user, limit: int = 20) -> list[SupportCase]:
    """Cases of the coordinator's district waiting for the centre's reply (법 10④)."""
    query = (cases_visible_to(user).where(SupportCase.escalation_open.is_(True))
             .options(joinedload(SupportCase.student), joinedload(SupportCase.school))
             .order_by(SupportCase.urgency, SupportCase.id).limit(limit))
    return list(db.session.execute(query).unique().scalars())
