"""Case figures on hand-made data (tests/reports/conftest.py ``district``) with known answers."""
from __future__ import annotations

import datetime as dt

from freezegun import freeze_time

from app.agencies.referrals import create_referral, send_referral
from app.extensions import db
from app.reports.kpis_cases import case_cubes, case_statistics
from app.reports.tables import Scope
from tests.factories import consent_both
from tests.querycount import counting

from .conftest import month, school_year, semester1

A, B = "가나초등학교", "다라중학교"


def cubes(scope, f) -> dict:
    return {cube.key: cube for cube in case_cubes(scope, f)}


def cells(cube) -> dict:
    """{(row, column): count} of the non-zero cells of the whole period."""
    table = cube.table()
    return {(row, col): n for row, counts in zip(table.rows, table.cells) for col, n in zip(table.columns, counts) if n}


def slots(cube, row: str, column: str) -> list[int]:
    return cube.counts[cube.rows.index(row)][cube.columns.index(column)]


def stats(scope, f) -> dict:
    return {s.key: s for s in case_statistics(scope, f)}


def test_district_cubes_count_each_school(district):
    found = cubes(district.scope, semester1())
    assert list(found) == ["cases_by_status", "cases_by_risk", "cases_by_domain", "requests_trend",
                           "referrals_by_outcome", "guardian_matches", "overdue_actions", "consents_missing",
                           "satisfaction"]
    status = found["cases_by_status"]
    # the inactive school is no row; the other office's school neither
    assert status.rows == [A, B] and status.row_heading == "학교"
    assert cells(status) == {(A, "요청 접수"): 1, (A, "지원 중"): 1, (A, "종결"): 1,
                             (B, "지원 대상 선정"): 1, (B, "요청 철회"): 1}
    assert slots(status, A, "요청 접수") == [1, 0, 0, 0, 0, 0]  # March .. August
    assert slots(status, A, "종결") == [0, 1, 0, 0, 0, 0]      # requested in April
    assert cells(found["cases_by_risk"]) == {(A, "일반"): 2, (A, "위기"): 1, (B, "긴급"): 1, (B, "일반"): 1}
    assert cells(found["cases_by_domain"]) == {(A, "학습"): 2, (A, "복지"): 1, (A, "건강"): 1,
                                               (B, "복지"): 1, (B, "진로"): 1}
    assert cells(found["referrals_by_outcome"]) == {(A, "서비스 중"): 1, (A, "의뢰됨"): 2, (B, "거절"): 1}
    assert "작성 중" not in found["referrals_by_outcome"].columns
    assert slots(found["referrals_by_outcome"], A, "의뢰됨") == [1, 0, 0, 0, 1, 0]  # 1 March KST, 14 July
    assert cells(found["guardian_matches"]) == {(A, "활동 중"): 1, (A, "종료"): 1, (B, "수락 대기"): 1}
    assert cells(found["satisfaction"]) == {(A, "5점"): 1, (A, "4점"): 1}
    assert slots(found["satisfaction"], A, "5점") == [0, 0, 0, 1, 0, 0]
    for cube in found.values():
        assert len(cube.counts) == len(cube.rows)
        assert all(len(row) == len(cube.columns) for row in cube.counts)


def test_snapshot_cubes_are_as_of_today(district):
    found = cubes(district.scope, semester1())
    overdue, consents = found["overdue_actions"], found["consents_missing"]
    assert overdue.snapshot and consents.snapshot and not found["cases_by_status"].snapshot
    assert overdue.columns == ["기한 지남", "기한 내", "기한 없음"]
    assert cells(overdue) == {(A, "기한 지남"): 1, (A, "기한 내"): 1, (A, "기한 없음"): 1, (B, "기한 지남"): 1}
    assert consents.columns == ["학생·보호자 동의", "일부 동의", "동의 없음"]
    assert cells(consents) == {(A, "학생·보호자 동의"): 1, (A, "일부 동의"): 1, (A, "동의 없음"): 2, (B, "일부 동의"): 1}
    assert all(len(slots_) == 1 for row in overdue.counts for slots_ in row)
    assert overdue.period_neighbours() == []
    # a snapshot does not depend on the period
    assert cubes(district.scope, month(2025, 1))["consents_missing"].counts == consents.counts


def test_requests_trend_rows_are_months(district):
    trend = cubes(district.scope, semester1())["requests_trend"]
    assert trend.chart == "line" and trend.row_heading == "월" and trend.columns == ["요청", "선정", "종결"]
    assert trend.rows == ["2026년 3월", "2026년 4월", "2026년 5월", "2026년 6월", "2026년 7월", "2026년 8월"]
    assert [row[0][i] for i, row in enumerate(trend.counts)] == [2, 2, 1, 0, 0, 0]   # requests
    assert [row[1][i] for i, row in enumerate(trend.counts)] == [1, 2, 0, 0, 0, 0]   # selections
    assert [row[2][i] for i, row in enumerate(trend.counts)] == [0, 0, 0, 1, 0, 0]   # closures (not the withdrawal)
    for i, row in enumerate(trend.counts):
        assert all(n == 0 for counts in row for m, n in enumerate(counts) if m != i)


def test_case_statistics(district):
    found = stats(district.scope, semester1())
    # request -> selection: 5, 5, 18 days
    assert (found["days_request_to_selection_median"].value, found["days_request_to_selection_median"].n) == (5, 3)
    assert found["days_request_to_selection_p90"].value == 18
    # selection -> first support: a2 7 days (referral accepted 1 April KST before the match on 5 April), a3 10 days
    assert (found["days_selection_to_support_median"].value, found["days_selection_to_support_median"].n) == (7, 2)
    assert found["days_selection_to_support_p90"].value == 10
    assert (found["closure_rate"].value, found["closure_rate"].n, found["closure_rate"].unit) == (20.0, 5, "%")
    assert (found["satisfaction_student_mean"].value, found["satisfaction_student_mean"].n) == (5.0, 1)
    assert (found["satisfaction_parent_mean"].value, found["satisfaction_parent_mean"].n) == (4.0, 1)


def test_school_scope_sees_only_its_school(district):
    scope = Scope("school", "school", school_id=district.A.id, name=A)
    found = cubes(scope, semester1())
    assert found["cases_by_status"].rows == [A]
    assert cells(found["cases_by_status"]) == {(A, "요청 접수"): 1, (A, "지원 중"): 1, (A, "종결"): 1}
    assert cells(found["consents_missing"]) == {(A, "학생·보호자 동의"): 1, (A, "일부 동의"): 1, (A, "동의 없음"): 2}
    trend = found["requests_trend"]
    assert [row[0][i] for i, row in enumerate(trend.counts)] == [2, 1, 0, 0, 0, 0]
    assert stats(scope, semester1())["days_request_to_selection_median"].n == 2


def test_filters_narrow_every_case_figure(district):
    middle = cubes(district.scope, semester1(school_level="middle"))
    assert cells(middle["cases_by_status"]) == {(B, "지원 대상 선정"): 1, (B, "요청 철회"): 1}
    assert cells(middle["referrals_by_outcome"]) == {(B, "거절"): 1}
    assert cells(middle["overdue_actions"]) == {(B, "기한 지남"): 1}
    assert middle["cases_by_status"].rows == [A, B]   # the row set stays
    welfare = cubes(district.scope, semester1(domain="welfare"))
    assert cells(welfare["cases_by_status"]) == {(A, "지원 중"): 1, (B, "지원 대상 선정"): 1}
    # the filtered cases with every domain they have
    assert cells(welfare["cases_by_domain"]) == {(A, "학습"): 1, (A, "복지"): 1, (B, "복지"): 1}
    assert cells(welfare["guardian_matches"]) == {(A, "활동 중"): 1, (B, "수락 대기"): 1}
    crisis = cubes(district.scope, semester1(risk_level="crisis"))
    assert cells(crisis["cases_by_status"]) == {(A, "지원 중"): 1}
    assert cells(crisis["consents_missing"]) == {(A, "학생·보호자 동의"): 1}
    assert stats(district.scope, semester1(risk_level="crisis"))["closure_rate"].n == 1


def test_an_empty_period_gives_zero_cubes_and_no_statistics(district):
    f = month(2025, 1)
    for cube in case_cubes(district.scope, f):
        assert len(cube.rows) == (1 if cube.key == "requests_trend" else 2)
        if not cube.snapshot:
            assert all(len(counts) == 1 and counts == [0] for row in cube.counts for counts in row), cube.key
    for statistic in case_statistics(district.scope, f):
        assert statistic.value is None and statistic.n == 0, statistic.key


def test_a_school_with_no_data_has_zero_rows(data, build, frozen):
    school = build.school(name="빈초등학교")
    scope = Scope("school", "school", school_id=school.id, name="빈초등학교")
    found = cubes(scope, semester1())
    assert all(cube.table().total() == 0 for cube in found.values())
    assert all(s.value is None for s in case_statistics(scope, semester1()))


def test_kst_month_boundary_through_the_services(build, db):
    """Sent at 2026-02-28 15:30 UTC = 1 March 00:30 KST: March and the 2026 school year."""
    school = build.school()
    agency = build.agency()
    with freeze_time("2026-02-20 01:00:00"):
        lead = build.user("school_lead", organisation=school)
        case = build.case(school, status="in_support", lead=lead)
        consent_both(case, lead, purposes=("agency_referral",), agency_kinds=["청소년상담복지센터"])
        referral = create_referral(case, lead, agency=agency, reason="상담 연계", shared_items=["needs"])
        db.session.commit()
    with freeze_time("2026-02-28 15:30:00"):
        send_referral(referral, lead)
        db.session.commit()
    assert referral.sent_at == dt.datetime(2026, 2, 28, 15, 30)
    scope = Scope("school", "school", school_id=school.id)

    def sent(f):
        return cubes(scope, f)["referrals_by_outcome"]

    assert sent(month(2026, 3)).table().total() == 1
    assert sent(month(2026, 2)).table().total() == 0
    year = sent(school_year(2026))
    assert slots(year, year.rows[0], "의뢰됨") == [1] + [0] * 11
    assert sent(school_year(2025)).table().total() == 0


def test_kst_boundary_in_the_district_data(district):
    # 28 Feb 14:30 UTC is still February in Seoul; 15:30 UTC is March
    assert cells(cubes(district.scope, month(2026, 2))["referrals_by_outcome"]) == {(A, "접수"): 1}
    assert cells(cubes(district.scope, month(2026, 3))["referrals_by_outcome"]) == {(A, "서비스 중"): 1, (A, "의뢰됨"): 1}


def test_percentiles_of_ten_known_durations(data, build, frozen):
    school = build.school()
    for days in (3, 1, 4, 15, 9, 2, 6, 5, 35, 8):
        case = data.case(school, "2026-03-02", "selected")
        data.selection(case, (dt.date(2026, 3, 2) + dt.timedelta(days=days)).isoformat())
    db.session.commit()
    found = stats(Scope("school", "school", school_id=school.id), semester1())
    # sorted 1 2 3 4 5 6 8 9 15 35: nearest rank ceil(0.5*10) = 5th, ceil(0.9*10) = 9th
    median, p90 = found["days_request_to_selection_median"], found["days_request_to_selection_p90"]
    assert (median.value, p90.value, median.n, p90.n) == (5, 15, 10, 10)


def test_percentiles_of_one_and_of_three(data, build, frozen):
    school = build.school()
    scope = Scope("school", "school", school_id=school.id)
    case = data.case(school, "2026-03-02", "selected")
    data.selection(case, "2026-03-09")
    db.session.commit()
    found = stats(scope, semester1())
    assert (found["days_request_to_selection_median"].value, found["days_request_to_selection_p90"].value) == (7, 7)
    for days in (1, 30):
        case = data.case(school, "2026-03-02", "selected")
        data.selection(case, (dt.date(2026, 3, 2) + dt.timedelta(days=days)).isoformat())
    db.session.commit()
    found = stats(scope, semester1())   # 1 7 30: ranks 2 and 3
    assert (found["days_request_to_selection_median"].value, found["days_request_to_selection_p90"].value) == (7, 30)


def test_city_scope_by_office_and_by_gu(district):
    by_office = cubes(Scope("city", "office", name="서울특별시교육청"), semester1())["cases_by_status"]
    assert len(by_office.rows) == 11 and by_office.row_heading == "교육지원청"
    assert by_office.table().row_totals()[by_office.rows.index("서부교육지원청")] == 5
    assert by_office.table().row_totals()[by_office.rows.index("강남서초교육지원청")] == 1
    by_gu = cubes(Scope("city", "gu", name="서울특별시교육청"), semester1())
    status = by_gu["cases_by_status"]
    assert len(status.rows) == 25 and status.chart == "grid" and status.row_keys == status.rows
    totals = dict(zip(status.rows, status.table().row_totals()))
    assert (totals["마포구"], totals["서대문구"], totals["강남구"], totals["은평구"]) == (3, 2, 1, 0)
    assert by_gu["requests_trend"].chart == "line" and by_gu["cases_by_risk"].chart == "bar"
    assert by_office.chart == "bar" and cubes(district.scope, semester1())["cases_by_status"].chart == "bar"


def _count(scope, f, function) -> int:
    """The SELECTs ``function`` runs (the transaction's BEGIN is not one of its queries)."""
    db.session.commit()
    with counting() as seen:
        function(scope, f)
    return len([s for s in seen if s.lstrip().upper().startswith(("SELECT", "WITH"))])


def test_query_count_does_not_grow_with_the_cases(data, build, frozen):
    school = build.school(name="가초등학교")
    agency = build.agency()
    guardian = data.guardian("SEOBU", "마포구")
    scope = Scope("district", "school", office_code="SEOBU")

    def add(n):
        for i in range(n):
            case = data.case(school, f"2026-03-{i % 28 + 1:02d}", "in_support", domains=("learning", "welfare"))
            data.selection(case, "2026-04-01")
            data.referral(case, agency, "accepted", "2026-04-02 01:00:00", "2026-04-05", "2026-04-03 01:00:00")
            data.assignment(case, guardian, "active", "2026-04-02 01:00:00", "2026-04-04 01:00:00")
            data.plan_action(case, due_on="2026-05-01")
            data.consent(case, "student", "2026-03-30")
        db.session.commit()

    add(2)
    small = [_count(scope, semester1(), fn) for fn in (case_cubes, case_statistics)]
    add(18)
    large = [_count(scope, semester1(), fn) for fn in (case_cubes, case_statistics)]
    assert small == large == [9, 3]
    assert cubes(scope, semester1())["cases_by_status"].table().total() == 20


def test_consents_in_force_today_follow_the_consent_rule(data, build, frozen):
    """Expiring today is still in force; withdrawn today or given tomorrow is not (Consent.active_on)."""
    school = build.school(name="동의초등학교")
    expiring = data.case(school, "2026-03-02", "in_support")
    data.consent(expiring, "student", "2026-03-03", expires_on="2026-07-15")
    data.consent(expiring, "parent", "2026-07-15")
    withdrawn = data.case(school, "2026-03-02", "in_support")
    data.consent(withdrawn, "student", "2026-03-03", withdrawn_on="2026-07-15")
    data.consent(withdrawn, "parent", "2026-03-03", withdrawn_on="2026-07-16")
    future = data.case(school, "2026-03-02", "planning")
    data.consent(future, "parent", "2026-07-16")
    twice = data.case(school, "2026-03-02", "monitoring")
    data.consent(twice, "student", "2026-03-03")
    data.consent(twice, "student", "2026-04-03")
    db.session.commit()
    found = cubes(Scope("school", "school", school_id=school.id), semester1())["consents_missing"]
    assert cells(found) == {("동의초등학교", "학생·보호자 동의"): 1, ("동의초등학교", "일부 동의"): 2,
                            ("동의초등학교", "동의 없음"): 1}
