"""The cases of a period for the case-count figures: the live cases and those of students removed
by retention, as one UNION ALL per kind of row (cases, needs), so each figure changes in one place.

Removed students (issue 16): ``flask retention run`` deletes a student's cases but first leaves one
de-identified ``retention_case_fact`` per case (school, status and risk level at removal, the
months requested and closed, need domains and outcomes, counts of referrals, assignments and
scores: no key, no text, no exact day).  ``case_rows`` and ``need_rows`` add those facts to the
live cases with UNION ALL, so a past period's case counts stay as they were after a run.  What the
facts cannot give stays live-only, by design: a figure dated by another record's own day (a
selection meeting, a referral sent, an assignment proposed or closed, a survey) or needing exact
days (times to selection and support, match and answer times), since the facts hold months of the
request and closure only; and the "as of today" figures (open cases, plan actions, consents),
because a removed student is no current case.
"""
from __future__ import annotations

from sqlalchemy import exists, select, true, union_all

from ..cases.models import CaseNeed, SupportCase
from ..extensions import db
from .filters import ReportFilters
from .kpis_common import School, case_row_key, cases_query, scope_conditions
from .kpis_sql import in_period_date, json_elements, json_item_text, month_of_date
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
