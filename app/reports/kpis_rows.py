"""The records of a period for the statistics figures: the live ones and those of students removed
by retention, as one UNION ALL per kind of row (cases, needs, selections, referrals, guardian
assignments, satisfaction responses, conference records), so each figure changes in one place.

Removed students (issue 16): ``flask retention run`` deletes a student's cases but first leaves one
de-identified ``retention_case_fact`` per case (app/records/retention_facts.py: school, status and
risk level at removal, the months requested and closed, need domains and outcomes, and per
selection, referral, assignment, survey response and conference record the month the figures
date it by, its categories and day counts: no key, no text, no exact day).  The ``*_rows``
functions here add those facts to the live records, so a past period's figures stay as they were
after a run: cases by status, risk level and domain; the trend's 요청, 선정 and 종결 (and so the
summary's selection share); the closure rate; referrals by outcome and by agency kind, the
referral acceptance and completion rates and days to answer; guardian matches and early
closures; satisfaction responses and means; conferences held (a conference removed whole with
its only case), conference decisions and action items.

What stays live-only, by design:
- figures needing exact days of the case: the times request → selection and selection → first
  support (the facts keep months; a day count per case could be kept, but these medians are
  "of the cases requested in the period" and mix three records' days);
- the guardian match duration (``programme_statistics``): it runs "up to today" for a match still
  running, which a removed match no longer is;
- the "as of today" figures (open cases' plan actions, consents, the guardian roster and record
  checks), because a removed student is no current case;
- a removed referral or action item keeps the state it had on the day of removal (a referral
  still awaiting an answer stays 회신 대기 or 기한 지남 as it was then; it is no longer waiting);
- action items of other cases at a conference removed whole (a conference goes whole only when
  no other case's record is left on it: such items are rare and are not kept).
"""
from __future__ import annotations

from sqlalchemy import Integer, and_, case, cast, exists, select, true, union_all
from sqlalchemy.orm import aliased

from ..agencies.models import Referral
from ..auth.models import Organisation
from ..cases.models import CaseNeed, CaseSelection, SupportCase
from ..cases.satisfaction import CaseSatisfaction
from ..db import today_kst
from ..extensions import db
from ..guardians.models import Assignment
from .filters import ReportFilters
from .kpis_common import School, case_records, case_row_key, cases_query, referral_ever_accepted, scope_conditions
from .kpis_sql import (day_literal, days_between, in_period_date, in_period_datetime, json_elements, json_item_text,
                       json_value_text, kst_date, month_of_date, month_of_kst, plus_months)

#: the agency a referral went to (aliased: the case's school is an Organisation too)
Agency = aliased(Organisation, name="agency")
#: an assignment closed before this many months after acceptance closed early
EARLY_MONTHS = 6
from .tables import Scope


def removed_cases():
    """The ``retention_case_fact`` table, from the metadata rather than imported: app/records
    sits above every feature and nothing imports it (its package docstring); the Table is the
    model's own (same column types), loaded with every model by app.models."""
    return db.Model.metadata.tables["retention_case_fact"]


def _need_domains(fact, name: str):
    """(FROM item, domain) of a removed case's needs ([[domain, outcome], …] in JSON)."""
    needs = json_elements(fact.c.needs, name)
    return needs, json_item_text(needs.c.value, 0)


def removed_query(scope: Scope, f: ReportFilters, *columns):
    """select(columns) over the removed cases in scope matching the filters (FROM
    retention_case_fact JOIN school): the same conditions as ``cases_query``, on the facts."""
    fact = removed_cases()
    conditions = scope_conditions(scope, fact.c.school_id)
    if f.school_level:
        conditions.append(School.school_level == f.school_level)
    if f.risk_level:
        conditions.append(fact.c.risk_level == f.risk_level)
    if f.domain:
        needs, domain = _need_domains(fact, "filter_needs")
        conditions.append(exists(select(1).select_from(needs).where(domain == f.domain)))
    return (select(*columns).select_from(fact).join(School, School.id == fact.c.school_id).where(*conditions))


def _removed_row_key(scope: Scope):
    """As ``case_row_key``, on the facts: the school's office and 자치구 of today (as for a live
    case), not the ones the fact kept, so a figure is the same before and after a run."""
    fact = removed_cases()
    if scope.level == "city":
        return School.gu_id if scope.group == "gu" else School.office_code
    return fact.c.school_id


#: the day of a case a period figure counts it by, and the month the removed case kept of it
_CASE_DAYS = {"requested": (SupportCase.requested_on, "requested_month"),
              "closed": (SupportCase.closed_on, "closed_month")}


def case_rows(scope: Scope, f: ReportFilters, by: str = "requested"):
    """The cases in scope matching the filters whose request (``by="requested"``) or closure
    (``"closed"``) falls in the period: the live cases UNION ALL the removed ones, with columns
    row (the cube's row key), case_key (a live case's id, a removed case's negated fact id),
    status, risk and month ('YYYY-MM' of that day).  Every case-count figure of a period reads its
    cases here, so the removed cases count the same in each.  Periods are whole months, so a
    removed case's month is in the period exactly when its day was."""
    live_day, fact_month = _CASE_DAYS[by]
    fact = removed_cases()
    live = cases_query(scope, f, case_row_key(scope).label("row"), SupportCase.id.label("case_key"),
                       SupportCase.status.label("status"), SupportCase.risk_level.label("risk"),
                       month_of_date(live_day).label("month")).where(in_period_date(live_day, f, scope))
    month = fact.c[fact_month]
    removed = removed_query(scope, f, _removed_row_key(scope).label("row"), (-fact.c.id).label("case_key"),
                            fact.c.status.label("status"), fact.c.risk_level.label("risk"),
                            month_of_date(month).label("month")).where(month.between(f.start, f.end))
    return union_all(live, removed)


def need_rows(scope: Scope, f: ReportFilters):
    """One row per need of the cases requested in the period, live and removed (UNION ALL):
    row, case_key (as in ``case_rows``), domain, month of the request."""
    fact = removed_cases()
    live = (cases_query(scope, f, case_row_key(scope).label("row"), SupportCase.id.label("case_key"),
                        CaseNeed.domain.label("domain"), month_of_date(SupportCase.requested_on).label("month"))
            .join(CaseNeed, CaseNeed.case_id == SupportCase.id)
            .where(in_period_date(SupportCase.requested_on, f, scope)))
    needs, domain = _need_domains(fact, "needs")
    removed = (removed_query(scope, f, _removed_row_key(scope).label("row"), (-fact.c.id).label("case_key"),
                             domain.label("domain"), month_of_date(fact.c.requested_month).label("month"))
               .join(needs, true())
               .where(fact.c.requested_month.between(f.start, f.end)))
    return union_all(live, removed)



# --- records of a case, dated by their own day -----------------------------------------------------

def _items(column: str, name: str):
    """(FROM item, item(i)) of the removed cases' JSON array ``column`` (arrays of fields)."""
    items = json_elements(removed_cases().c[column], name)
    return items, lambda i: json_item_text(items.c.value, i)


def _in_months(month, f: ReportFilters):
    """A kept 'YYYY-MM' in the period (periods are whole months: text order is month order)."""
    return month.between(f.start.strftime("%Y-%m"), f.end.strftime("%Y-%m"))


def _removed_items(scope: Scope, f: ReportFilters, items, month, *columns):
    """select(row, columns…, month) over the items of the removed cases in scope whose month is in the period."""
    return (removed_query(scope, f, _removed_row_key(scope).label("row"), *columns, month.label("month"))
            .join(items, true()).where(_in_months(month, f)))


def selection_rows(scope: Scope, f: ReportFilters):
    """One row (row, month) per selection meeting in the period that selected a case, live and removed."""
    live = case_records(CaseSelection, scope, f, case_row_key(scope).label("row"),
                        month_of_date(CaseSelection.meeting_on).label("month")
                        ).where(CaseSelection.selected, in_period_date(CaseSelection.meeting_on, f, scope))
    items = json_elements(removed_cases().c.selections, "selections")
    return union_all(live, _removed_items(scope, f, items, json_value_text(items.c.value)))


def referral_state(today):
    """A referral's state today, as referrals_by_agency_kind shows it (its row total = the referrals sent)."""
    return case((and_(Referral.status == "sent", Referral.respond_by < today), "overdue"),
                (Referral.status == "sent", "waiting"),
                (Referral.status.in_(("accepted", "in_service")), "accepted"), else_=Referral.status)


def referral_rows(scope: Scope, f: ReportFilters):
    """One row per referral sent in the period, live and removed: row, status, state (today's, or
    at removal), kind (the agency's), answer (KST days sent → answered, NULL unanswered), took (1:
    the agency took it on, ``referral_ever_accepted``), month (of sending)."""
    answer = days_between(kst_date(Referral.sent_at), kst_date(Referral.responded_at))
    live = (case_records(Referral, scope, f, case_row_key(scope).label("row"), Referral.status.label("status"),
                         referral_state(day_literal(today_kst())).label("state"), Agency.agency_kind.label("kind"),
                         case((Referral.responded_at.isnot(None), answer)).label("answer"),
                         case((referral_ever_accepted(), 1), else_=0).label("took"),
                         month_of_kst(Referral.sent_at).label("month"))
            .join(Agency, Agency.id == Referral.agency_id)
            .where(Referral.sent_at.isnot(None), in_period_datetime(Referral.sent_at, f, scope)))
    items, item = _items("referrals", "referrals")
    removed_answer = cast(item(4), Integer)
    removed = _removed_items(scope, f, items, item(0), item(1).label("status"), item(2).label("state"),
                             item(3).label("kind"), removed_answer.label("answer"),
                             case((and_(removed_answer.isnot(None), item(1) != "declined"), 1), else_=0).label("took"))
    return union_all(live, removed)


def assignment_rows(scope: Scope, f: ReportFilters, by: str = "proposed"):
    """One row per guardian assignment proposed (``by="proposed"``) or closed (``"closed"``) in the
    period, live and removed: row, status, reason (the close reason), early (1: closed less than
    EARLY_MONTHS after acceptance), month (of that day)."""
    day = Assignment.created_at if by == "proposed" else Assignment.closed_at
    early = case((and_(Assignment.accepted_at.isnot(None), Assignment.closed_at.isnot(None),
                       Assignment.closed_at < plus_months(Assignment.accepted_at, EARLY_MONTHS)), 1), else_=0)
    live = case_records(Assignment, scope, f, case_row_key(scope).label("row"), Assignment.status.label("status"),
                        Assignment.close_reason.label("reason"), early.label("early"), month_of_kst(day).label("month")
                        ).where(day.isnot(None), in_period_datetime(day, f, scope))
    items, item = _items("assignments", "assignments")
    removed = _removed_items(scope, f, items, item(0 if by == "proposed" else 2), item(1).label("status"),
                             item(3).label("reason"), cast(item(4), Integer).label("early"))
    return union_all(live, removed)


def satisfaction_rows(scope: Scope, f: ReportFilters):
    """One row per satisfaction response surveyed in the period, live and removed: row, party, score, month."""
    live = case_records(CaseSatisfaction, scope, f, case_row_key(scope).label("row"),
                        CaseSatisfaction.party.label("party"), CaseSatisfaction.score.label("score"),
                        month_of_date(CaseSatisfaction.surveyed_on).label("month")
                        ).where(in_period_date(CaseSatisfaction.surveyed_on, f, scope))
    items, item = _items("satisfaction", "satisfaction")
    return union_all(live, _removed_items(scope, f, items, item(0), item(1).label("party"),
                                          cast(item(2), Integer).label("score")))


# --- conferences: scoped and rowed by the conference's own office and kind, not the case's school ----

def _removed_conference_items(scope: Scope, f: ReportFilters, column: str, *fields: tuple[int, str],
                              filters: bool = True):
    """select(row, fields…, month) over the items of the removed cases' JSON ``column`` ([[month,
    office, kind, …], …]) of conferences in the period (and the scope's office): row is the office
    (city) or the conference kind (district), as ``kpis_programme._conference_key``.  With
    ``filters`` the case filters apply (school level, risk level, domain), as for a live case."""
    fact = removed_cases()
    items, item = _items(column, column)
    columns = [(item(1) if scope.level == "city" else item(2)).label("row"),
               *(item(i).label(name) for i, name in fields), item(0).label("month")]
    if filters:
        query = removed_query(Scope("city", "office"), f, *columns)
    else:
        query = select(*columns).select_from(fact)
    query = query.join(items, true()).where(_in_months(item(0), f))
    if scope.level == "district":
        query = query.where(item(1) == scope.office_code)
    return query


def removed_conferences(scope: Scope, f: ReportFilters):
    """(row, status, month) of the conferences removed whole with a student (no case filter, as live)."""
    return _removed_conference_items(scope, f, "conferences", (3, "status"), filters=False)


def removed_decisions(scope: Scope, f: ReportFilters):
    """(row, decision, month) of the removed cases' decisions at conferences held in the period."""
    _items_query = _removed_conference_items(scope, f, "decisions", (4, "decision"), (3, "status"))
    sub = _items_query.subquery("removed_decisions")
    return select(sub.c.row, sub.c.decision, sub.c.month).where(sub.c.status == "held")


def removed_action_items(scope: Scope, f: ReportFilters):
    """(row, state, month) of the removed cases' action items, in their state on the day of removal."""
    return _removed_conference_items(scope, f, "action_items", (3, "state"))
