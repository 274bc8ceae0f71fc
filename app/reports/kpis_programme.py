"""Programme figures of the district and city statistics pages: the guardian programme (roster,
record checks, early closures), agencies (referrals by agency kind) and conferences (held,
decisions, action items); and the programme statistics (match duration, referral acceptance
and completion rates, days to answer a referral).

A school has no programme page: every function refuses the school level.  Guardian figures
count the office's roster and ignore the case filters; the others count through their case and
apply them.

Students removed by retention (kpis_rows) still count in early closures, referrals by agency
kind, conferences held, decisions and action items, and the referral rates and answer days; not
in the match duration (it runs up to today) nor the roster figures (as of today)."""
from __future__ import annotations

import datetime as dt

from flask_babel import lazy_gettext as _l, lazy_pgettext
from sqlalchemy import and_, case, exists, func, literal, null, or_, select, union_all

from ..agencies.models import AGENCY_KIND_LABELS, AGENCY_KINDS
from ..cases.models import PlanAction
from ..conferences.models import (CONFERENCE_KINDS, CONFERENCE_STATUSES, DECISIONS, ActionItem, Conference,
                                  ConferenceCase)
from ..db import today_kst
from ..extensions import db
from ..guardians.models import CHECK_KINDS, CLOSE_REASONS, GUARDIAN_STATUSES, Assignment, Guardian, RecordCheck
from .filters import ReportFilters
from .kpis_common import (case_records, category_rows, counted, filter_conditions, guardian_rows, join_cases,
                          make_cube, nearest_rank, office_rows, rate, scope_rows, statistic)
from .kpis_rows import (assignment_rows, referral_rows, removed_action_items, removed_conferences, removed_decisions)
from .kpis_sql import day_literal, days_between, in_period_datetime, kst_date, month_of_kst, utc_bounds
from .tables import Cube, Scope, Statistic

CHECK_STATES = {"valid": _l("유효"), "soon": _l("30일 내 만료"), "lapsed": _l("만료·없음")}
#: days ahead in which a record check counts as about to lapse
EXPIRY_WINDOW = 30
#: referrals by their state today, one column each so that a row's total is the referrals sent
REFERRAL_STATES = {"waiting": _l("회신 대기"), "overdue": _l("회신 기한 지남"), "accepted": _l("접수·서비스 중"),
                   "completed": lazy_pgettext("referral state", "완료"), "failed": _l("종결(미완료)"),
                   "declined": lazy_pgettext("referral state", "거절"), "cancelled": lazy_pgettext("referral state", "취소")}
OTHER_KIND = "기타"
ITEM_STATES = {"done_on_time": _l("기한 내 완료"), "done_late": _l("기한 후 완료"), "overdue": _l("기한 지남"),
               "open": _l("진행 중"), "ended": _l("취소·종료")}


def _require_office(scope: Scope) -> None:
    if scope.level not in ("district", "city"):
        raise ValueError("the programme figures are for district offices and the city, not a school")


def programme_cubes(scope: Scope, f: ReportFilters) -> list[Cube]:
    """Every programme cube of a district or the city: 7 figures, 10 queries at most (row sets
    of schools/offices/자치구 and one query per figure)."""
    _require_office(scope)
    rows = scope_rows(scope)
    conference_rows = office_rows() if scope.level == "city" else category_rows(_l("회의 종류"), CONFERENCE_KINDS)
    return [*guardian_cubes(scope), early_closures(scope, f, rows), referrals_by_agency_kind(scope, f),
            conferences_held(scope, f, conference_rows), conference_decisions(scope, f, conference_rows),
            action_items_on_time(scope, f, conference_rows)]


# --- guardians ----------------------------------------------------------------------------------

def _guardian_key(scope: Scope):
    return Guardian.office_code if scope.level == "city" and scope.group != "gu" else Guardian.gu_id


def _guardian_conditions(scope: Scope) -> list:
    return [Guardian.office_code == scope.office_code] if scope.level == "district" else []


def guardian_cubes(scope: Scope) -> list[Cube]:
    """Guardians by status and active guardians by record-check validity, as of today (3 queries)."""
    _require_office(scope)
    rows = guardian_rows(scope)
    key, where = _guardian_key(scope), _guardian_conditions(scope)
    by_status = counted(select(key.label("row"), Guardian.status.label("status"), null().label("month")).where(*where),
                        "row", "status", "month")
    today = today_kst()
    latest = [select(func.max(RecordCheck.valid_until)).where(
        RecordCheck.guardian_id == Guardian.id, RecordCheck.kind == kind, RecordCheck.result == "clear"
    ).scalar_subquery().label(f"until_{i}") for i, kind in enumerate(CHECK_KINDS)]
    barred = exists().where(RecordCheck.guardian_id == Guardian.id, RecordCheck.result == "not_clear").label("barred")
    checks = select(key.label("row"), barred, *latest).where(Guardian.status == "active", *where).subquery("checks")
    until = [checks.c[f"until_{i}"] for i in range(len(CHECK_KINDS))]
    soon = day_literal(today + dt.timedelta(days=EXPIRY_WINDOW))
    bucket = case((or_(checks.c.barred, *(u.is_(None) for u in until), *(u < day_literal(today) for u in until)),
                   "lapsed"), (or_(*(u <= soon for u in until)), "soon"), else_="valid")
    by_check = counted(select(checks.c.row, bucket.label("bucket"), null().label("month")), "row", "bucket", "month")
    note = _l("오늘 기준. 학교급·영역·위기 수준 필터는 적용되지 않습니다.")
    return [make_cube("guardians_by_status", _l("상태별 교육후견인"), rows, GUARDIAN_STATUSES, by_status, None, unit="명",
                      note=note, chart=rows.main_chart),
            make_cube("checks_expiring", _l("범죄경력 조회 유효기간"), rows, CHECK_STATES, by_check, None, unit="명",
                      note=_l("활동 중인 교육후견인의 두 가지 조회 중 먼저 끝나는 유효기간, 결격이 있으면 만료·없음. "
                              "오늘 기준. 학교급·영역·위기 수준 필터는 적용되지 않습니다."))]


def early_closures(scope: Scope, f: ReportFilters, rows=None) -> Cube:
    """Assignments closed in the period less than six months after the guardian accepted."""
    _require_office(scope)
    rows = rows or scope_rows(scope)
    closed = assignment_rows(scope, f, by="closed").subquery("closed")
    inner = select(closed.c.row, closed.c.reason, closed.c.month).where(closed.c.early == 1)
    return make_cube("early_closures", _l("6개월 안에 끝난 연계"), rows, CLOSE_REASONS, counted(inner, "row", "reason", "month"),
                     f, note=_l("기간 내 종료된 연계 중 수락 후 6개월이 되기 전에 끝난 연계의 종료 사유 (사례의 학교 기준)"))


# --- agencies -----------------------------------------------------------------------------------

def referrals_by_agency_kind(scope: Scope, f: ReportFilters) -> Cube:
    """Referrals sent in the period by the agency's kind and their state today (one query)."""
    _require_office(scope)
    inner = referral_rows(scope, f)
    kinds = {**{kind: AGENCY_KIND_LABELS.get(kind, kind) for kind in AGENCY_KINDS}, OTHER_KIND: _l("기타")}
    found = [(kind if kind in AGENCY_KINDS else OTHER_KIND, s, m, n)
             for kind, s, m, n in counted(inner, "kind", "state", "month")]
    return make_cube("referrals_by_agency_kind", _l("기관 종류별 의뢰"), category_rows(_l("기관 종류"), kinds), REFERRAL_STATES,
                     found, f, note=_l("기간 내 보낸 의뢰의 오늘 상태 (행 합계 = 보낸 의뢰). 접수율·완료율은 통계 카드에 있습니다"))


# --- conferences --------------------------------------------------------------------------------

def _conference_key(scope: Scope):
    return Conference.office_code if scope.level == "city" else Conference.kind


def _conference_conditions(scope: Scope, f: ReportFilters) -> list:
    where = [in_period_datetime(Conference.starts_at, f, scope)]
    if scope.level == "district":
        where.append(Conference.office_code == scope.office_code)
    return where


def conferences_held(scope: Scope, f: ReportFilters, rows=None) -> Cube:
    _require_office(scope)
    rows = rows or (office_rows() if scope.level == "city" else category_rows(_l("회의 종류"), CONFERENCE_KINDS))
    inner = select(_conference_key(scope).label("row"), Conference.status.label("status"),
                   month_of_kst(Conference.starts_at).label("month")).where(*_conference_conditions(scope, f))
    # conferences removed whole with a student's records (kpis_rows) still count
    inner = union_all(inner, removed_conferences(scope, f))
    return make_cube("conferences_held", _l("사례회의 개최 현황"), rows, CONFERENCE_STATUSES,
                     counted(inner, "row", "status", "month"),
                     f, unit="회", note=_l("기간 내 시작 예정이었던 회의의 현재 상태 (주관 교육지원청 기준). "
                                  "학교급·영역·위기 수준 필터는 적용되지 않습니다."))


def _conference_cases(query, case_id_column, scope: Scope, f: ReportFilters):
    """``query`` (from a table with a conference_id) joined to its conference in scope and period,
    and to its case for the filters."""
    return (join_cases(query, case_id_column)
            .where(*_conference_conditions(scope, f), *filter_conditions(f)))


def conference_decisions(scope: Scope, f: ReportFilters, rows=None) -> Cube:
    _require_office(scope)
    rows = rows or (office_rows() if scope.level == "city" else category_rows(_l("회의 종류"), CONFERENCE_KINDS))
    query = (select(_conference_key(scope).label("row"), ConferenceCase.decision.label("decision"),
                    month_of_kst(Conference.starts_at).label("month"))
             .select_from(ConferenceCase).join(Conference, Conference.id == ConferenceCase.conference_id))
    inner = _conference_cases(query, ConferenceCase.case_id, scope, f).where(
        Conference.status == "held", ConferenceCase.decision.isnot(None))
    inner = union_all(inner, removed_decisions(scope, f))
    return make_cube("conference_decisions", _l("사례회의 결정"), rows, DECISIONS, counted(inner, "row", "decision", "month"),
                     f, note=_l("기간 내 열린 회의에서 사례마다 기록된 결정"))


def action_items_on_time(scope: Scope, f: ReportFilters, rows=None) -> Cube:
    """Action items of the period's conferences by how they ended.  An item records no completion
    day: its plan action does (completed_on); an item without one falls back to the KST day of its
    last change.  An open item whose plan action the school finished counts as its plan action."""
    _require_office(scope)
    rows = rows or (office_rows() if scope.level == "city" else category_rows(_l("회의 종류"), CONFERENCE_KINDS))
    today = day_literal(today_kst())
    status = case((and_(ActionItem.status == "open", PlanAction.status.isnot(None), PlanAction.status != "open"),
                   PlanAction.status), else_=ActionItem.status)
    done_on = func.coalesce(PlanAction.completed_on, kst_date(ActionItem.updated_at))
    query = (select(_conference_key(scope).label("row"), status.label("status"), ActionItem.due_on.label("due_on"),
                    done_on.label("done_on"), month_of_kst(Conference.starts_at).label("month"))
             .select_from(ActionItem).join(Conference, Conference.id == ActionItem.conference_id)
             .outerjoin(PlanAction, PlanAction.id == ActionItem.plan_action_id))
    items = _conference_cases(query, ActionItem.case_id, scope, f).subquery("items")
    c = items.c
    state = case((and_(c.status == "done", or_(c.due_on.is_(None), c.done_on <= c.due_on)), "done_on_time"),
                 (c.status == "done", "done_late"),
                 (and_(c.status == "open", c.due_on < today), "overdue"),
                 (c.status == "open", "open"), else_="ended")
    inner = union_all(select(c.row, state.label("state"), c.month), removed_action_items(scope, f))
    return make_cube("action_items_on_time", _l("실행 과제 이행"), rows, ITEM_STATES, counted(inner, "row", "state", "month"),
                     f, note=_l("기간 내 회의의 실행 과제: 완료일은 연결된 지원 계획의 완료일 (없으면 마지막 변경일), 오늘 기준"))


# --- statistics ---------------------------------------------------------------------------------

def programme_statistics(scope: Scope, f: ReportFilters) -> list[Statistic]:
    """Match duration and the agencies' answer time (medians), acceptance and completion rates (2 queries)."""
    _require_office(scope)
    today = day_literal(today_kst())
    start, stop = utc_bounds(f)
    duration = days_between(kst_date(Assignment.accepted_at), func.coalesce(kst_date(Assignment.closed_at), today))
    # matches that ran during the period; one still running counts up to today
    matches = case_records(Assignment, scope, f, literal("match").label("kind"), duration.label("value")).where(
        Assignment.accepted_at.isnot(None), Assignment.accepted_at < stop,
        or_(Assignment.closed_at.is_(None), Assignment.closed_at >= start))
    # the referrals sent in the period, removed students' included (their answer days were kept)
    sent = referral_rows(scope, f).cte("sent")
    answers = select(literal("answer").label("kind"), sent.c.answer.label("value")).where(sent.c.answer.isnot(None))
    medians = nearest_rank(union_all(matches, answers).subquery("durations"))
    answered, took, completed = db.session.execute(select(
        func.count(sent.c.answer), func.coalesce(func.sum(sent.c.took), 0),
        func.coalesce(func.sum(case((sent.c.status == "completed", 1), else_=0)), 0))).one()
    match_n, match_median, _ = medians.get("match", (0, None, None))
    answer_n, answer_median, _ = medians.get("answer", (0, None, None))
    return [statistic("match_days_median", _l("교육후견인 연계 기간 (중앙값, 진행 중이면 오늘까지)"), match_median, match_n),
            rate("referral_acceptance_rate", _l("의뢰 접수율 (회신한 의뢰 중 접수)"), took, answered),
            rate("referral_completion_rate", _l("의뢰 완료율 (접수한 의뢰 중 완료)"), completed, took),
            statistic("referral_answer_days_median", _l("의뢰 회신까지 (중앙값)"), answer_median, answer_n)]
