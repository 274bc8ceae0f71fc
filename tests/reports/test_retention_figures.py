"""Statistics of past periods keep their figures after ``flask retention run`` (issue 16: "what
statistics need stays as de-identified counts"): the removed students' cases count through their
``retention_case_fact`` rows in every case-count figure (status, risk level, domain, the trend's
requests and closures, the closure rate), in the cubes, the published (de-identified) tables, the
CSV export and the printed report; the students' live rows are gone.  SQLite and PostgreSQL."""
from __future__ import annotations

import csv
import io

import pytest
from sqlalchemy import func, select

from app.cases.models import SupportCase
from app.extensions import db
from app.reports import dashboards
from app.reports.kpis_cases import TREND, case_cubes, case_statistics
from app.reports.tables import Scope
from app.students.models import Student
from tests.records.retention_helpers import make_due

from .conftest import month, school_year, semester1
from .test_views import sign_in

#: the figures that count removed students' cases (kpis_rows.case_rows / need_rows)
KEPT = ("cases_by_status", "cases_by_risk", "cases_by_domain")
#: the trend's columns that count them (선정 is dated by the selection meeting, which is not kept)
KEPT_TREND = (str(TREND["requested"]), str(TREND["closed"]))
TITLES = ("[상태별 사례]", "[위기 수준별 사례]", "[지원 영역별 사례]")


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


def _trend(cube) -> list:
    columns = [str(c) for c in cube.columns]
    keep = [columns.index(c) for c in KEPT_TREND]
    return [[row[j] for j in keep] for row in cube.counts]


def _figures(district) -> dict:
    """Every kept figure of every scope and filter setting: cube counts, the closure rate, and the
    published (de-identified) tables of the page."""
    out = {}
    for scope in _scopes(district):
        for f in _filters():
            cubes = {c.key: c for c in case_cubes(scope, f)}
            stats = {s.key: s for s in case_statistics(scope, f)}
            closure = stats["closure_rate"]
            page = dashboards.build(scope, f)
            out[(scope, f)] = {
                **{key: cubes[key].counts for key in KEPT},  # by month: the neighbours' tables too
                "requests_trend": _trend(cubes["requests_trend"]),
                "closure_rate": (closure.value, closure.n, closure.part),
                "published": {key: [[(c.value, c.hidden) for c in row] for row in page.panel(key).table.cells]
                              + [[(c.value, c.hidden) for c in page.panel(key).table.column_totals]]
                              for key in KEPT},
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
        # the summary's first figure: the period's requests (the trend's 요청 total)
        out[("report", a)] = report.split("지원 요청", 1)[1].split(",", 1)[0]
    return out


@pytest.fixture
def removed(district):
    """The students of a1 (a domain twice), a3 (closed, with a survey and a referral), b2
    (withdrawn) and a0 (a past school year): made due, the others stay."""
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
    # the figures are not all zero: the test compares something
    assert sum(sum(sum(m) for m in row) for row in before[(district.scope, semester1())]["cases_by_status"]) == 5

    for student in students:
        make_due(student)
    _run(app)
    db.session.expire_all()

    # the students' live rows are gone, their cases left de-identified facts
    assert db.session.scalar(select(func.count()).select_from(Student).where(Student.id.in_(student_ids))) == 0
    assert db.session.scalar(select(func.count()).select_from(SupportCase).where(SupportCase.id.in_(case_ids))) == 0
    facts = db.Model.metadata.tables["retention_case_fact"]
    assert db.session.scalar(select(func.count()).select_from(facts)) == 4

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
