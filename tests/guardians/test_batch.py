"""Batch matching: the pure solver is exactly optimal (brute force), and the office batch proposes through the service."""
from __future__ import annotations

import itertools

import numpy as np
import pytest
from sqlalchemy import select

import app.guardians.match_views  # noqa: F401  (routes registered before the first app)
from app.guardians.matching import batch_proposal, confirm_batch
from app.guardians.models import Assignment
from app.guardians.solver import solve


def brute_force(scores, allowed, need, cap) -> float:
    """The best total over every feasible 0/1 assignment (small instances only)."""
    edges = [(i, j) for i, j in zip(*np.nonzero(allowed))]
    best = 0.0
    for mask in itertools.product((0, 1), repeat=len(edges)):
        chosen = [e for e, on in zip(edges, mask) if on]
        rows = np.bincount([i for i, _ in chosen], minlength=len(need))
        cols = np.bincount([j for _, j in chosen], minlength=len(cap))
        if np.all(rows <= need) and np.all(cols <= cap):
            best = max(best, sum(scores[i, j] for i, j in chosen))
    return best


def check_feasible(pairs, allowed, need, cap) -> None:
    assert len(set(pairs)) == len(pairs)
    for i, j in pairs:
        assert allowed[i, j]
    assert np.all(np.bincount([i for i, _ in pairs], minlength=len(need)) <= need)
    assert np.all(np.bincount([j for _, j in pairs], minlength=len(cap)) <= cap)


@pytest.mark.parametrize("seed", range(40))
def test_solver_matches_brute_force(seed):
    rng = np.random.default_rng(seed)
    n, m = rng.integers(2, 5), rng.integers(2, 5)
    allowed = rng.random((n, m)) < 0.7
    while allowed.sum() > 14:  # keep 2^edges small
        allowed[rng.integers(n), rng.integers(m)] = False
    scores = rng.integers(0, 20, (n, m))
    need, cap = rng.integers(1, 4, n), rng.integers(0, 3, m)
    pairs = solve(scores, allowed, need, cap)
    check_feasible(pairs, allowed, need, cap)
    assert sum(scores[i, j] for i, j in pairs) == brute_force(scores, allowed & (cap[None, :] > 0), need, cap)


def test_solver_multi_slot_case_never_gets_the_same_guardian_twice():
    # the only guardian is excellent and has room for two: a 2-need case still gets it once
    pairs = solve(np.array([[50, 1]]), np.ones((1, 2), bool), np.array([2]), np.array([2, 1]))
    assert pairs == [(0, 0), (0, 1)]


def test_solver_column_generation_is_exact_on_a_wide_instance():
    rng = np.random.default_rng(7)
    n, m = 60, 40
    scores, allowed = rng.integers(0, 100, (n, m)), rng.random((n, m)) < 0.9
    need, cap = rng.integers(1, 3, n), rng.integers(1, 3, m)
    pairs = solve(scores, allowed, need, cap)
    check_feasible(pairs, allowed, need, cap)
    from scipy.optimize import milp, LinearConstraint, Bounds
    r, c = np.nonzero(allowed)
    a = np.zeros((n + m, r.size))
    a[r, np.arange(r.size)] = 1
    a[n + c, np.arange(r.size)] = 1
    ref = milp(-scores[r, c].astype(float), constraints=LinearConstraint(a, -np.inf, np.concatenate([need, cap])),
               integrality=np.ones(r.size), bounds=Bounds(0, 1), options={"mip_rel_gap": 0})
    assert sum(scores[i, j] for i, j in pairs) == round(-ref.fun)


def test_empty_instances():
    assert solve(np.zeros((0, 3)), np.zeros((0, 3), bool), np.zeros(0), np.ones(3)) == []
    assert solve(np.ones((2, 2)), np.zeros((2, 2), bool), np.ones(2), np.ones(2)) == []


def test_batch_proposes_for_waiting_cases_within_capacity(db, build, coordinator, eligible_guardian):
    school = build.school()
    lead = build.user("school_lead", organisation=school)
    first = build.case(school, status="in_support", lead=lead)
    second = build.case(school, status="in_support", lead=lead)
    build.case(school, status="planning", lead=lead)  # no consent: not waiting
    second.guardians_needed = 2
    db.session.commit()
    only = eligible_guardian(capacity=2)
    other = eligible_guardian(capacity=1, conflict_school_ids=[school.id])  # conflicted: excluded
    result = batch_proposal(coordinator.organisation.office_code)
    assert {c.id for c in result.waiting} == {first.id, second.id}
    assert all(p.guardian.id == only.id for p in result.pairs) and len(result.pairs) == 2
    assert result.total == sum(p.score for p in result.pairs) > 0
    assert other.id not in {p.guardian.id for p in result.pairs}
    made = confirm_batch(result, coordinator, selected_case_ids=[first.id])
    db.session.commit()
    assert [(a.case_id, a.guardian_id, a.status) for a in made] == [(first.id, only.id, "proposed")]
    again = batch_proposal(coordinator.organisation.office_code)
    assert [(p.case.id, p.guardian.id) for p in again.pairs] == [(second.id, only.id)]
    confirm_batch(again, coordinator)
    db.session.commit()
    assert len(db.session.execute(select(Assignment).filter_by(guardian_id=only.id)).all()) == 2
    assert batch_proposal(coordinator.organisation.office_code).pairs == []  # capacity is full
