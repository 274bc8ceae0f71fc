"""Suggestions: hard rules exclude, the explained score ranks, arrays and parts agree, few queries."""
from __future__ import annotations

import pytest
from sqlalchemy import event

import app.guardians.match_views  # noqa: F401  (routes registered before the first app)
from app.domain import DomainError
from app.guardians.assignments import close_assignment, propose_assignment
from app.guardians.matching import case_facts, candidates, score_matrix, score_parts, suggestions


@pytest.fixture
def case(build):
    school = build.school()
    student = build.student(school, migrant_background=True, home_language="베트남어")
    case = build.case(school, status="in_support", student=student,
                      needs=(("learning", "기초학력"), ("counselling", "정서 지원")))
    case.guardian_gender_preference = "female"
    return case


def test_ranked_with_explained_parts(db, build, case, coordinator, eligible_guardian):
    best = eligible_guardian(languages=["베트남어"], experience=["learning", "counselling"], gender="female")
    middle = eligible_guardian(experience=["learning"], gender="male")
    far = eligible_guardian(gu="서대문구", experience=[], availability=[], gender="male")
    found = suggestions(case)
    assert [s.guardian.id for s in found] == [best.id, middle.id, far.id]
    codes = {p.code for p in found[0].parts}
    assert codes == {"same_gu", "language", "experience_learning", "experience_counselling", "availability",
                     "load", "gender"}
    assert "same_dong" not in codes  # the student's 동 is unknown
    assert all(s.score == sum(p.points for p in s.parts) for s in found)
    assert "same_gu" not in {p.code for p in found[2].parts}


def test_hard_rules_exclude(db, build, case, coordinator, eligible_guardian, make_guardian):
    allowed = eligible_guardian()
    make_guardian(status="trained")  # not active, no checks: ineligible
    eligible_guardian(conflict_school_ids=[case.school_id])
    other = build.user("district_coordinator", organisation=build.organisation("district_office", "강남구"))
    eligible_guardian(office_user=other)
    full = eligible_guardian(capacity=1)
    propose_assignment(build.case(case.school, status="in_support"), full, coordinator)
    barred = eligible_guardian()
    close_assignment(propose_assignment(case, barred, coordinator), coordinator, "safety_concern", False)
    db.session.commit()
    assert [s.guardian.id for s in suggestions(case)] == [allowed.id]


def test_fewer_assignments_score_higher(db, build, case, coordinator, eligible_guardian):
    busy, free = eligible_guardian(capacity=3), eligible_guardian(capacity=3)
    propose_assignment(build.case(case.school, status="in_support"), busy, coordinator)
    db.session.commit()
    found = {s.guardian.id: s for s in suggestions(case)}
    assert found[free.id].score - found[busy.id].score == 5


def test_consent_required(db, build, eligible_guardian):
    with pytest.raises(DomainError, match="동의"):
        suggestions(build.case(build.school(), status="planning"))


def test_score_matrix_equals_parts(db, build, case, coordinator, eligible_guardian):
    plain = build.case(case.school, status="in_support")
    guardians = [eligible_guardian(languages=["베트남어"], gender="female"), eligible_guardian(gu="서대문구", gender="male"),
                 eligible_guardian(experience=["counselling", "learning"], availability=[])]
    facts = case_facts([case, plain])
    loads = [0, 1, 3]
    matrix = score_matrix(facts, guardians, loads)
    for i, f in enumerate(facts):
        for j, g in enumerate(guardians):
            assert matrix[i, j] == sum(p.points for p in score_parts(g, f, loads[j]))


def test_suggestions_use_a_fixed_number_of_queries(db, build, case, coordinator, eligible_guardian):
    for _ in range(3):
        eligible_guardian()
    statements = []

    def count(*_args):
        statements.append(1)
    db.session.expire_all()
    event.listen(db.engine, "before_cursor_execute", count)
    try:
        few = len(suggestions(case))
        small = len(statements)
        for _ in range(5):
            eligible_guardian()
        db.session.expire_all()
        statements.clear()
        assert len(suggestions(case)) == few + 5
    finally:
        event.remove(db.engine, "before_cursor_execute", count)
    assert len(statements) == small <= 12  # the same with 3 or 8 guardians: no per-row queries
