"""Programme figures (guardians, agencies, conferences) on the ``district`` data with known answers."""
from __future__ import annotations

import pytest

from app.agencies.models import AGENCY_KINDS
from app.extensions import db
from app.reports.kpis_programme import programme_cubes, programme_statistics
from app.reports.tables import Scope
from tests.querycount import counting

from .conftest import month, semester1
from .test_kpis_cases import cells, slots

A, B = "가나초등학교", "다라중학교"
CITY = Scope("city", "office", name="서울특별시교육청")


def cubes(scope, f) -> dict:
    return {cube.key: cube for cube in programme_cubes(scope, f)}


def stats(scope, f) -> dict:
    return {s.key: s for s in programme_statistics(scope, f)}


def test_school_level_has_no_programme_figures(district):
    scope = Scope("school", "school", school_id=district.A.id)
    with pytest.raises(ValueError):
        programme_cubes(scope, semester1())
    with pytest.raises(ValueError):
        programme_statistics(scope, semester1())


def test_guardians_by_gu_of_the_district(district):
    found = cubes(district.scope, semester1())
    assert list(found) == ["guardians_by_status", "checks_expiring", "early_closures", "referrals_by_agency_kind",
                           "conferences_held", "conference_decisions", "action_items_on_time"]
    roster = found["guardians_by_status"]
    assert roster.rows == ["마포구", "서대문구", "은평구"] and roster.snapshot and roster.unit == "명"
    assert roster.chart == "bar"
    assert cells(roster) == {("마포구", "활동"): 2, ("서대문구", "활동"): 1, ("은평구", "심사 중"): 1}
    checks = found["checks_expiring"]
    assert checks.columns == ["유효", "30일 내 만료", "만료·없음"]
    assert cells(checks) == {("마포구", "유효"): 1, ("마포구", "30일 내 만료"): 1, ("서대문구", "만료·없음"): 1}
    # the case filters do not apply to the roster
    filtered = cubes(district.scope, semester1(school_level="high", risk_level="crisis"))
    assert filtered["guardians_by_status"].counts == roster.counts
    assert "적용되지 않습니다" in roster.note


def test_early_closures_by_reason(district):
    early = cubes(district.scope, semester1())["early_closures"]
    assert early.rows == [A, B]
    # a0's match lasted nine months: not early
    assert cells(early) == {(A, "사례 종결"): 1, (A, "목표 달성"): 1}
    assert slots(early, A, "목표 달성") == [1, 0, 0, 0, 0, 0]
    assert slots(early, A, "사례 종결") == [0, 0, 0, 1, 0, 0]
    assert cells(cubes(district.scope, semester1(school_level="middle"))["early_closures"]) == {}


def test_referrals_by_agency_kind(district):
    by_kind = cubes(district.scope, semester1())["referrals_by_agency_kind"]
    assert by_kind.rows == [*AGENCY_KINDS, "기타"]
    assert by_kind.columns == ["회신 대기", "회신 기한 지남", "접수·서비스 중", "완료", "종결(미완료)", "거절", "취소"]
    assert cells(by_kind) == {("청소년상담복지센터", "접수·서비스 중"): 1, ("청소년상담복지센터", "회신 기한 지남"): 1,
                              ("가족센터", "거절"): 1, ("가족센터", "회신 대기"): 1}
    # the row total is the referrals sent
    assert by_kind.table().total() == 4
    assert cells(cubes(district.scope, semester1(domain="welfare"))["referrals_by_agency_kind"]) == {
        ("청소년상담복지센터", "접수·서비스 중"): 1, ("가족센터", "거절"): 1}


def test_conferences(district):
    found = cubes(district.scope, semester1())
    held = found["conferences_held"]
    assert held.rows == ["학교 사례회의(솔루션 회의)", "학생 생활권 협의체", "교육지원청 통합사례협의회"]
    assert held.unit == "회"
    assert cells(held) == {("학교 사례회의(솔루션 회의)", "개최"): 1, ("학교 사례회의(솔루션 회의)", "취소"): 1,
                           ("교육지원청 통합사례협의회", "개최"): 1, ("학생 생활권 협의체", "예정"): 1}
    assert cells(found["conference_decisions"]) == {("학교 사례회의(솔루션 회의)", "지원 유지"): 1,
                                                    ("학교 사례회의(솔루션 회의)", "종결"): 1,
                                                    ("교육지원청 통합사례협의회", "기관 의뢰"): 1}
    items = found["action_items_on_time"]
    assert items.columns == ["기한 내 완료", "기한 후 완료", "기한 지남", "진행 중", "취소·종료"]
    assert cells(items) == {("학교 사례회의(솔루션 회의)", "기한 내 완료"): 2, ("학교 사례회의(솔루션 회의)", "기한 후 완료"): 1,
                            ("학교 사례회의(솔루션 회의)", "기한 지남"): 1, ("학교 사례회의(솔루션 회의)", "취소·종료"): 1,
                            ("교육지원청 통합사례협의회", "진행 중"): 1, ("교육지원청 통합사례협의회", "기한 내 완료"): 1}
    # decisions and items go through their case: the middle school's case only
    middle = cubes(district.scope, semester1(school_level="middle"))
    assert cells(middle["conference_decisions"]) == {("교육지원청 통합사례협의회", "기관 의뢰"): 1}
    assert middle["conferences_held"].counts == held.counts


def test_programme_statistics(district):
    found = stats(district.scope, semester1())
    # matches during the period: 17 (a4), 37 (a3), 101 (a2, to today), 282 (a0) days
    assert (found["match_days_median"].value, found["match_days_median"].n) == (37, 4)
    assert (found["referral_acceptance_rate"].value, found["referral_acceptance_rate"].n) == (50.0, 2)
    assert (found["referral_completion_rate"].value, found["referral_completion_rate"].n) == (0.0, 1)
    # answered in 2 (a2) and 4 (b1) KST days
    assert (found["referral_answer_days_median"].value, found["referral_answer_days_median"].n) == (2, 2)


def test_empty_period(district):
    f = month(2025, 1)
    for cube in programme_cubes(district.scope, f):
        if not cube.snapshot:
            assert cube.table().total() == 0 and len(cube.counts[0][0]) == 1, cube.key
    assert all(s.value is None and s.n == 0 for s in programme_statistics(district.scope, f))


def test_city_by_office_and_by_gu(district):
    found = cubes(CITY, semester1())
    for key in ("guardians_by_status", "early_closures", "conferences_held", "action_items_on_time"):
        assert len(found[key].rows) == 11 and found[key].row_heading == "교육지원청", key
    roster = dict(zip(found["guardians_by_status"].rows, found["guardians_by_status"].table().row_totals()))
    assert (roster["서부교육지원청"], roster["강남서초교육지원청"], roster["동부교육지원청"]) == (4, 1, 0)
    held = dict(zip(found["conferences_held"].rows, found["conferences_held"].table().row_totals()))
    assert (held["서부교육지원청"], held["강남서초교육지원청"]) == (4, 1)
    by_gu = cubes(Scope("city", "gu", name="서울특별시교육청"), semester1())
    roster = by_gu["guardians_by_status"]
    assert len(roster.rows) == 25 and roster.chart == "grid" and roster.row_keys == roster.rows
    assert dict(zip(roster.rows, roster.table().row_totals()))["마포구"] == 2
    assert len(by_gu["early_closures"].rows) == 25 and by_gu["early_closures"].chart == "bar"
    assert len(by_gu["conferences_held"].rows) == 11     # a conference belongs to an office, not a 자치구
    assert stats(CITY, semester1())["referral_answer_days_median"].n == 3


def _selects(function, scope, f) -> int:
    db.session.commit()
    with counting() as seen:
        function(scope, f)
    return len([s for s in seen if s.lstrip().upper().startswith(("SELECT", "WITH"))])


def test_query_count_is_constant(district, data):
    before = [_selects(fn, scope, semester1()) for scope in (district.scope, CITY)
              for fn in (programme_cubes, programme_statistics)]
    guardian = data.guardian("SEOBU", "마포구")
    data.both_checks(guardian, "2027-01-01")
    for i in range(15):
        case = data.case(district.A, f"2026-04-{i + 1:02d}", "in_support")
        data.assignment(case, guardian, "closed", "2026-04-20 01:00:00", "2026-04-21 01:00:00", "2026-05-01 01:00:00",
                        "other")
    db.session.commit()
    after = [_selects(fn, scope, semester1()) for scope in (district.scope, CITY)
             for fn in (programme_cubes, programme_statistics)]
    assert before == after == [9, 2, 10, 2]
