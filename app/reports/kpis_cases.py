"""Case figures of the statistics pages (school, district, city): cases by status, risk level and
need domain, the monthly trend, referrals, guardian matches, overdue plan actions, consents and
satisfaction; and the case statistics (times to selection and to first support, closure rate,
mean satisfaction).

Each cube is one aggregate query (plus one for the row set), whatever the number of cases.
Period figures bucket a record by the KST month of its own date; snapshot figures are as of
today (KST).

Students removed by retention (kpis_rows): their records still count in every period figure
here (cases by status, risk level and domain, the trend, referrals, guardian matches,
satisfaction, the closure rate and satisfaction means), not in the times to selection and first
support (exact days), nor in the overdue plan actions and consents (as of today, when a removed
student has no case)."""
from __future__ import annotations

import dataclasses

from flask_babel import lazy_gettext as _l, lazy_pgettext
from sqlalchemy import case, func, literal, null, select, union_all

from ..agencies.models import REFERRAL_STATUSES, Referral
from ..cases.consent import consent_active_on
from ..cases.models import (DOMAINS, OPEN_STATUSES, RISK_LEVELS, STATUSES, CaseSelection, Consent,
                            PlanAction, SupportCase)
from ..cases.satisfaction import SATISFACTION_PARTIES
from ..db import today_kst
from ..extensions import db
from ..guardians.models import ASSIGNMENT_STATUSES, Assignment
from .filters import ReportFilters
from .kpis_common import (Rows, case_records, case_row_key, cases_query, counted, make_cube, nearest_rank, rate,
                          referral_ever_accepted, scope_rows, statistic)
from .kpis_rows import assignment_rows, case_rows, need_rows, referral_rows, satisfaction_rows, selection_rows
from .kpis_sql import day_literal, days_between, in_period_date, kst_date, month_keys, month_label
from .tables import Cube, Scope, Statistic

#: a case has ended with support (종결, 사후 관리); a withdrawn request also has closed_on but is no closure
CLOSED_STATUSES = ("closed", "follow_up")
OVERDUE = {"overdue": _l("기한 지남"), "on_time": _l("기한 내"), "none": _l("기한 없음")}
CONSENT_STATES = {"both": _l("학생·보호자 동의"), "some": _l("일부 동의"), "none": _l("동의 없음")}
PARTIES_STATE = {0: "none", 1: "some"}
SCORE_COLUMNS = {score: _l("%(n)d점", n=score) for score in range(1, 6)}
TREND = {"requested": lazy_pgettext("trend", "요청"), "selected": lazy_pgettext("trend", "선정"),
         "closed": lazy_pgettext("trend", "종결")}


def case_cubes(scope: Scope, f: ReportFilters) -> list[Cube]:
    """Every case cube of ``scope`` for ``f``: 9 queries (the row set and one per figure; status,
    risk level and the trend's requests share one)."""
    rows = scope_rows(scope)
    requested = _requested(scope, f)
    return [*_status_and_risk(requested, f, rows), _domains(scope, f, rows), requests_trend(scope, f, requested),
            _referrals(scope, f, rows), _matches(scope, f, rows), _overdue_actions(scope, f, rows),
            _consents(scope, f, rows), _satisfaction(scope, f, rows)]


def _requested(scope: Scope, f: ReportFilters) -> list:
    """(row, status, risk level, month, count) of the cases requested in the period, removed
    students' included (their status when removed)."""
    return counted(case_rows(scope, f), "row", "status", "risk", "month")


def _status_and_risk(found: list, f: ReportFilters, rows: Rows) -> list[Cube]:
    by_status = make_cube("cases_by_status", _l("상태별 사례"), rows, STATUSES,
                          ((r, s, m, n) for r, s, _k, m, n in found), f, note=_l("기간 내 요청된 사례의 현재 상태"),
                          chart=rows.main_chart)
    by_risk = make_cube("cases_by_risk", _l("위기 수준별 사례"), rows, {k: v[0] for k, v in RISK_LEVELS.items()},
                        ((r, k, m, n) for r, _s, k, m, n in found), f, note=_l("기간 내 요청된 사례의 위기 수준"))
    return [by_status, by_risk]


def _domains(scope: Scope, f: ReportFilters, rows: Rows) -> Cube:
    # distinct cases: a case with two needs in one domain counts once in it (removed ones too)
    return make_cube("cases_by_domain", _l("지원 영역별 사례"), rows, DOMAINS,
                     counted(need_rows(scope, f), "row", "domain", "month", distinct="case_key"), f,
                     note=_l("기간 내 요청된 사례를 필요한 지원 영역마다 한 번씩 셉니다 (한 사례가 여러 영역에 들 수 있음)"))


def requests_trend(scope: Scope, f: ReportFilters, requested: list | None = None) -> Cube:
    """Requests, selections and closures by month for the whole scope: row i is the i-th month of
    the period, and only its own month slot holds counts.  One query for selections and closures;
    the requests come from ``_requested`` (run here when not given).  All three include removed
    students' cases (by the months they kept)."""
    requested = _requested(scope, f) if requested is None else requested
    chosen = selection_rows(scope, f).subquery("chosen")
    selected = select(literal("selected").label("kind"), chosen.c.month)
    ended = case_rows(scope, f, by="closed").subquery("ended")
    closed = select(literal("closed").label("kind"), ended.c.month).where(ended.c.status.in_(CLOSED_STATUSES))
    found = [(m, k, m, n) for m, k, n in counted(union_all(selected, closed), "month", "kind")]
    found += [(m, "requested", m, n) for _r, _s, _k, m, n in requested]
    months = month_keys(f)
    rows = Rows(_l("월"), months, [month_label(y, m) for y, m in f.months()], list(months))
    return make_cube("requests_trend", _l("월별 요청·선정·종결"), rows, TREND, found, f, chart="line",
                     note=_l("요청은 요청일, 선정은 선정 회의일, 종결은 종결일(요청 철회 제외)의 달에 셉니다"))


def _referrals(scope: Scope, f: ReportFilters, rows: Rows) -> Cube:
    inner = referral_rows(scope, f)
    columns = {k: v for k, v in REFERRAL_STATUSES.items() if k != "draft"}
    return make_cube("referrals_by_outcome", _l("결과별 기관 의뢰"), rows, columns, counted(inner, "row", "status", "month"),
                     f, note=_l("기간 내 보낸 의뢰의 현재 상태"))


def _matches(scope: Scope, f: ReportFilters, rows: Rows) -> Cube:
    return make_cube("guardian_matches", _l("교육후견인 연계"), rows, ASSIGNMENT_STATUSES,
                     counted(assignment_rows(scope, f), "row", "status", "month"), f,
                     note=_l("기간 내 제안된 교육후견인 연계의 현재 상태"))


def _overdue_actions(scope: Scope, f: ReportFilters, rows: Rows) -> Cube:
    today = day_literal(today_kst())
    bucket = case((PlanAction.due_on.is_(None), "none"), (PlanAction.due_on < today, "overdue"), else_="on_time")
    inner = case_records(PlanAction, scope, f, case_row_key(scope).label("row"), bucket.label("bucket"),
                         null().label("month")
                         ).where(PlanAction.status == "open", SupportCase.status.in_(OPEN_STATUSES))
    return make_cube("overdue_actions", _l("지원 계획 기한"), rows, OVERDUE, counted(inner, "row", "bucket", "month"), None,
                     note=_l("진행 중인 사례의 진행 중인 지원 계획, 오늘 기준"))


def _consents(scope: Scope, f: ReportFilters, rows: Rows) -> Cube:
    # how many parties (student, parent) have a consent in force today: one probe per case
    parties = (select(func.count(Consent.party.distinct()))
               .where(Consent.case_id == SupportCase.id, consent_active_on(today_kst())).scalar_subquery())
    inner = cases_query(scope, f, case_row_key(scope).label("row"), parties.label("parties"), null().label("month")
                        ).where(SupportCase.status.in_(OPEN_STATUSES))
    found = [(r, PARTIES_STATE.get(p, "both"), m, n) for r, p, m, n in counted(inner, "row", "parties", "month")]
    return make_cube("consents_missing", _l("동의 현황"), rows, CONSENT_STATES, found, None,
                     note=_l("진행 중인 사례의 오늘 유효한 동의 (목적과 관계없이 학생·보호자 각각)"))


def _satisfaction(scope: Scope, f: ReportFilters, rows: Rows) -> Cube:
    return make_cube("satisfaction", _l("만족도 응답"), rows, SCORE_COLUMNS,
                     counted(satisfaction_rows(scope, f), "row", "score", "month"), f,
                     note=_l("기간 내 조사한 학생과 보호자의 만족도 응답 (1점 매우 불만족 – 5점 매우 만족)"))


# --- statistics ---------------------------------------------------------------------------------

def case_statistics(scope: Scope, f: ReportFilters) -> list[Statistic]:
    """The scope's case statistics for the cases requested in the period (3 queries).  The
    closure rate and the satisfaction means count removed students' cases too (kpis_rows); the
    times are live only (exact days)."""
    durations = _durations(scope, f)
    cohort = case_rows(scope, f).subquery("requested")
    closure = db.session.execute(select(
        func.count(), func.coalesce(func.sum(case((cohort.c.status.in_(CLOSED_STATUSES), 1), else_=0)), 0)
    ).select_from(cohort)).one()
    answers = satisfaction_rows(scope, f).subquery("answers")
    surveys = {party: (mean, n) for party, mean, n in db.session.execute(
        select(answers.c.party, func.avg(answers.c.score), func.count()).group_by(answers.c.party))}
    out = []
    for kind, label in (("request_to_selection", _l("요청부터 선정까지")), ("selection_to_support", _l("선정부터 첫 지원까지"))):
        n, median, p90 = durations.get(kind, (0, None, None))
        out += [statistic(f"days_{kind}_median", _l("%(what)s (중앙값)", what=label), median, n),
                statistic(f"days_{kind}_p90", _l("%(what)s (90번째 백분위)", what=label), p90, n)]
    # its n is the 상태별 사례 table's grand total: hidden with it (the rule in dashboards.py)
    out.append(dataclasses.replace(rate("closure_rate", _l("종결률 (기간 내 요청 중 종결)"), closure[1], closure[0]),
                                   total_of="cases_by_status"))
    for party, label in SATISFACTION_PARTIES.items():
        mean, n = surveys.get(party, (None, 0))
        out.append(statistic(f"satisfaction_{party}_mean", _l("%(party)s 만족도 (평균)", party=label),
                             None if mean is None else round(float(mean), 2), n, "점"))
    return out


def _durations(scope: Scope, f: ReportFilters) -> dict:
    """{kind: (n, median, p90)} of days request → selection meeting and selection → first support.
    Live cases only: a removed student's case kept months, not the days these need, so it no
    longer contributes (the n shown is the live cases')."""
    selected_on = (select(func.min(CaseSelection.meeting_on))
                   .where(CaseSelection.case_id == SupportCase.id, CaseSelection.selected).scalar_subquery())
    accepted_on = (select(func.min(kst_date(Assignment.accepted_at)))
                   .where(Assignment.case_id == SupportCase.id, Assignment.accepted_at.isnot(None)).scalar_subquery())
    referral_on = (select(func.min(kst_date(Referral.responded_at)))
                   .where(Referral.case_id == SupportCase.id, referral_ever_accepted()).scalar_subquery())
    # materialized: each correlated subquery runs once per case, not once per reference below
    cohort = (cases_query(scope, f, SupportCase.requested_on.label("requested"), selected_on.label("selected"),
                          accepted_on.label("accepted"), referral_on.label("referral"))
              .where(in_period_date(SupportCase.requested_on, f, scope)).cte("cohort").prefix_with("MATERIALIZED"))
    c = cohort.c
    first = case((c.accepted.is_(None), c.referral), (c.referral.is_(None), c.accepted),
                 (c.accepted < c.referral, c.accepted), else_=c.referral)
    to_support = days_between(c.selected, first)
    values = union_all(
        select(literal("request_to_selection").label("kind"), days_between(c.requested, c.selected).label("value"))
        .where(c.selected.isnot(None)),
        # support already under way at the meeting (an urgent referral first) counts as 0 days
        select(literal("selection_to_support").label("kind"),
               case((to_support < 0, 0), else_=to_support).label("value"))
        .where(c.selected.isnot(None), first.isnot(None)),
    ).subquery("durations")
    return nearest_rank(values)
