"""Statistics of past periods keep their figures after ``flask retention run`` (issue 16: "what
statistics need stays as de-identified counts"): the removed students' cases count through their
``retention_case_fact`` rows in every figure of a period the facts can give (status, risk level,
domain, the trend's requests, selections and closures and the summary's selection share, the
closure rate, referrals by outcome and by agency kind with the acceptance and completion rates
and answer days, guardian matches and early closures, satisfaction responses and means), in the
cubes, the published (de-identified) tables, the CSV export and the printed report; the
students' live rows are gone.  SQLite and PostgreSQL."""
from __future__ import annotations

import csv
import io

import pytest
from sqlalchemy import func, select

from app.cases.models import SupportCase
from app.extensions import db
from app.reports import dashboards
from app.reports.kpis_cases import case_cubes, case_statistics
from app.reports.kpis_programme import programme_cubes, programme_statistics
from app.reports.tables import Scope
from app.students.models import Student
from tests.records.retention_helpers import make_due

from .conftest import month, school_year, semester1
from .test_views import sign_in

#: the figures that count removed students' records (kpis_rows)
KEPT = ("cases_by_status", "cases_by_risk", "cases_by_domain", "requests_trend", "referrals_by_outcome",
        "guardian_matches", "satisfaction")
#: the district's and the city's programme figures that count them
KEPT_PROGRAMME = ("early_closures", "referrals_by_agency_kind", "conferences_held", "conference_decisions",
                  "action_items_on_time")
KEPT_STATISTICS = ("closure_rate", "satisfaction_student_mean", "satisfaction_parent_mean")
KEPT_PROGRAMME_STATISTICS = ("referral_acceptance_rate", "referral_completion_rate", "referral_answer_days_median")
TITLES = ("[상태별 사례]", "[위기 수준별 사례]", "[지원 영역별 사례]", "[월별 요청·선정·종결]", "[결과별 기관 의뢰]",
          "[교육후견인 연계]", "[만족도 응답]", "[6개월 안에 끝난 연계]", "[기관 종류별 의뢰]", "[사례회의 개최 현황]",
          "[사례회의 결정]", "[실행 과제 이행]")


def _run(app):
    result = app.test_cli_runner().invoke(args=["retention", "run"])
    assert result.exit_code == 0, result.output
    return result


def _scopes(district) -> list[Scope]:
    return [Scope("school", "school", school_id=district.A.id, name="가나초등학교"),
            Scope("school", "school", school_id=district.B.id, name="다라중학교"),
            district.scope, Scope("city", "office"), Scope("city", "gu")]


def _filters() -> list:
    return [semester1(), school_year(2025), month(2026, 4), month(2026, 6), semester1(domain="learning"),
            semester1(domain="health"), semester1(risk_level="general"), semester1(school_level="middle"),
            school_year(2026, domain="career", school_level="middle")]


def _published(page, keys) -> dict:
    out = {}
    for key in keys:
        panel = page.panel(key)
        if panel is not None:
            out[key] = ([[(c.value, c.hidden) for c in row] for row in panel.table.cells]
                        + [[(c.value, c.hidden) for c in panel.table.column_totals]])
    return out


def _stat(s) -> tuple:
    return (s.value, s.n, getattr(s, "part", None))


def _figures(district) -> dict:
    """Every kept figure of every scope and filter setting: cube counts, the closure rate, and the
    published (de-identified) tables of the page."""
    out = {}
    for scope in _scopes(district):
        for f in _filters():
            cubes = {c.key: c for c in case_cubes(scope, f)}
            stats = {s.key: s for s in case_statistics(scope, f)}
            keys, stat_keys = KEPT, KEPT_STATISTICS
            if scope.level != "school":
                cubes.update({c.key: c for c in programme_cubes(scope, f)})
                stats.update({s.key: s for s in programme_statistics(scope, f)})
                keys, stat_keys = KEPT + KEPT_PROGRAMME, KEPT_STATISTICS + KEPT_PROGRAMME_STATISTICS
            page = dashboards.build(scope, f)
            out[(scope, f)] = {
                **{key: cubes[key].counts for key in keys},  # by month: the neighbours' tables too
                **{key: _stat(stats[key]) for key in stat_keys},
                "published": _published(page, keys),
            }
    return out


def _blocks(text: str) -> dict:
    """The CSV export's tables of ``TITLES``: {title: rows}."""
    blocks, title = {}, None
    for row in csv.reader(io.StringIO(text)):
        if row and row[0].startswith("[") and row[0].endswith("]"):
            title = row[0]
            blocks[title] = []
        elif title is not None and row:
            blocks[title].append(row)
    return {t: blocks.get(t) for t in TITLES}


def _pages(client) -> dict:
    args = ("period=semester&year=2026&semester=1", "period=year&year=2025", "period=month&month=2026-04")
    out = {}
    for a in args:
        out[("district", a)] = _blocks(client.get(f"/reports/district/export.csv?{a}").data.decode("utf-8-sig"))
        report = client.get(f"/reports/district/report?{a}").get_data(as_text=True)
        # the summary's figures: requests, selections (and their share), closures; referrals, matches
        out[("report", a)] = [report.split(word, 1)[1].split("\n", 1)[0] for word in ("지원 요청", "유관기관 의뢰")]
    return out


@pytest.fixture
def removed(district, data, build):
    """The students of a1 (a domain twice, a referral waiting), a3 (closed, selected, with two
    survey responses, an overdue referral and an early closure), b2 (withdrawn, not selected) and
    a0 (a past school year, a long match): made due, the others stay.  a1 gets a completed
    referral answered in 2 days (an agency of no listed kind) and a selection and a survey of
    its own, and a district conference of its own (removed whole with it: decision and an
    overdue action item), so that every kept figure has removed records to keep."""
    other = build.agency(agency_kind="기타기관")
    data.referral(district.a1, other, "completed", "2026-03-10 01:00:00", "2026-03-15", "2026-03-12 01:00:00")
    data.selection(district.a1, "2026-03-20")
    data.survey(district.a1, "parent", 2, "2026-05-03")
    alone = data.conference(district.office, "district", "held", "2026-05-20 01:00:00")
    data.discussed(alone, district.a1, "close")
    data.item(alone, district.a1, "open", "2026-07-01")
    db.session.commit()
    cases = [district.a1, district.a3, district.b2, district.a0]
    ids = [c.id for c in cases]
    students = [db.session.get(Student, c.student_id) for c in cases]
    return ids, students


def test_past_figures_stay_the_same_after_a_retention_run(app, build, district, removed):
    coordinator = build.user("district_coordinator", organisation=district.office)
    case_ids, students = removed
    student_ids = [s.id for s in students]
    before = _figures(district)
    pages_before = _pages(sign_in(app, coordinator))
    assert all(rows for blocks in pages_before.values() if isinstance(blocks, dict) for rows in blocks.values())
    # the figures are not all zero: the test compares something
    seen = before[(district.scope, semester1())]
    assert sum(sum(sum(m) for m in row) for row in seen["cases_by_status"]) == 5
    for key in KEPT + KEPT_PROGRAMME:
        assert sum(sum(sum(m) for m in row) for row in seen[key]) > 0, key
    assert seen["referral_answer_days_median"][1] > 0 and seen["satisfaction_parent_mean"][1] == 2

    for student in students:
        make_due(student)
    _run(app)
    db.session.expire_all()

    # the students' live rows are gone, their cases left de-identified facts
    assert db.session.scalar(select(func.count()).select_from(Student).where(Student.id.in_(student_ids))) == 0
    assert db.session.scalar(select(func.count()).select_from(SupportCase).where(SupportCase.id.in_(case_ids))) == 0
    facts = db.Model.metadata.tables["retention_case_fact"]
    assert db.session.scalar(select(func.count()).select_from(facts)) == 4
    kept = {c: sorted(x for (value,) in db.session.execute(select(facts.c[c])) for x in value)
            for c in ("selections", "referrals", "assignments", "satisfaction", "conferences", "decisions",
                      "action_items")}
    assert kept["selections"] == ["2026-03", "2026-04"] and len(kept["referrals"]) == 3
    assert len(kept["assignments"]) == 2 and len(kept["satisfaction"]) == 3
    # the conference of a1 alone went whole; c1 (a2's too) stays
    assert kept["conferences"] == [["2026-05", "SEOBU", "district", "held"]]
    assert len(kept["decisions"]) == 2 and sorted(s for *_x, s in kept["action_items"]) == ["ended", "overdue"]

    after = _figures(district)
    for key, figures in before.items():
        assert after[key] == figures, key
    assert _pages(sign_in(app, coordinator)) == pages_before


def test_removed_cases_are_not_current_cases(app, district, removed):
    """A snapshot as of today (open cases' plan actions and consents) rightly loses a removed
    student: a2 (in support, with an overdue action and both consents) goes."""
    scope = district.scope
    before = {c.key: c.table().total() for c in case_cubes(scope, semester1())}
    make_due(db.session.get(Student, district.a2.student_id))
    _run(app)
    db.session.expire_all()
    after = {c.key: c.table().total() for c in case_cubes(scope, semester1())}
    assert after["cases_by_status"] == before["cases_by_status"]          # a past-period count: kept
    assert after["overdue_actions"] == before["overdue_actions"] - 3     # a2's three open actions
    assert after["consents_missing"] == before["consents_missing"] - 1   # a2's case is no current case
