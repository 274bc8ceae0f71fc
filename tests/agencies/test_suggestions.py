"""Agency suggestions: domain, age and 자치구 filters; ranking explained; full services last; no N+1."""
from __future__ import annotations

import datetime as dt

import pytest
from freezegun import freeze_time
from sqlalchemy import event

from app.agencies.suggestions import suggest_agencies
from app.extensions import db as _db

pytestmark = pytest.mark.usefixtures("frozen")


@pytest.fixture
def frozen():
    with freeze_time("2026-03-02 03:00"):
        yield


@pytest.fixture
def case(build):
    school = build.school(gu="마포구")
    student = build.student(school, birth_date=dt.date(2014, 1, 10), migrant_background=True, home_language="베트남어")
    return build.case(school=school, student=student, needs=(("counselling", "또래 관계"), ("welfare", "돌봄 공백")))


def services_of(suggestions):
    return [s.service.id for s in suggestions]


def test_excludes_other_gu_age_and_domain(case, agency_with_service):
    good = agency_with_service(gu="마포구", domains=("counselling",))
    agency_with_service(gu="강남구", domains=("counselling",))
    agency_with_service(gu="마포구", domains=("counselling",), min_age=13, max_age=18)
    agency_with_service(gu="마포구", domains=("career",))
    near = agency_with_service(gu="서대문구", domains=("welfare",), areas=["서대문구", "마포구"])
    assert set(services_of(suggest_agencies(case))) == {good.id, near.id}


def test_ranked_and_explained(case, agency_with_service):
    one = agency_with_service(gu="마포구", domains=("counselling",))
    two = agency_with_service(gu="마포구", domains=("counselling", "welfare"), languages=["한국어", "베트남어"])
    away = agency_with_service(gu="서대문구", domains=("counselling",), areas=["마포구"])
    stale = agency_with_service(gu="마포구", domains=("counselling",), last_confirmed_on=dt.date(2024, 1, 1))
    result = suggest_agencies(case)
    assert services_of(result) == [two.id, one.id, stale.id, away.id]
    codes = [p.code for p in result[0].parts]
    assert codes.count("domain") == 2 and {"same_gu", "age", "available", "language", "recent"} <= set(codes)
    assert result[0].score == sum(p.points for p in result[0].parts)
    assert "recent" not in [p.code for p in result[2].parts]
    assert "same_gu" not in [p.code for p in result[3].parts]
    assert any("만 12세" in p.label for p in result[0].parts)


def test_capacity_ranks_and_full_shown_last(case, agency_with_service):
    full = agency_with_service(gu="마포구", domains=("counselling", "welfare"), capacity_status="full")
    wait = agency_with_service(gu="마포구", domains=("counselling",), capacity_status="waitlist")
    free = agency_with_service(gu="마포구", domains=("counselling",))
    result = suggest_agencies(case)
    assert services_of(result) == [free.id, wait.id, full.id]
    assert [s.capacity_label for s in result] == ["접수 가능", "대기", "마감"]


def test_unknown_birth_date_not_excluded_no_points(build, agency_with_service):
    school = build.school(gu="마포구")
    student = build.student(school)
    student.birth_date = None
    _db.session.commit()
    case = build.case(school=school, student=student, needs=(("counselling", "상담"),))
    service = agency_with_service(gu="마포구", min_age=16, max_age=18)
    result = suggest_agencies(case)
    assert services_of(result) == [service.id]
    assert "age" not in [p.code for p in result[0].parts]


def test_inactive_agency_and_limit(case, agency_with_service):
    gone = agency_with_service(gu="마포구")
    gone.organisation.active = False
    for _ in range(3):
        agency_with_service(gu="마포구")
    _db.session.commit()
    assert gone.id not in services_of(suggest_agencies(case))
    assert len(suggest_agencies(case, limit=2)) == 2


def test_one_query_for_candidates(case, agency_with_service):
    for gu in ("마포구", "마포구", "서대문구"):
        agency_with_service(gu=gu, areas=["마포구"], languages=["베트남어"])
    _db.session.expire_all()
    case = _db.session.get(type(case), case.id)
    _ = case.needs, case.student.birth_date, case.school.gu_id  # the case page has these loaded
    statements = []
    listener = lambda *args: statements.append(args[2])  # noqa: E731
    event.listen(_db.engine, "before_cursor_execute", listener)
    try:
        result = suggest_agencies(case)
        _ = [(s.agency.name, s.service.name) for s in result]
    finally:
        event.remove(_db.engine, "before_cursor_execute", listener)
    assert len(result) == 3 and len(statements) == 1
