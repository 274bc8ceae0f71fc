"""Matching at office scale: the consent set decided in SQL agrees with consent_covers case by case,
and suggestions and the batch run the same number of statements whatever the number of cases
and guardians; partial pricing keeps the solver exact when places are scarce."""
from __future__ import annotations

import datetime as dt

import numpy as np
import pytest

import app.guardians.match_views  # noqa: F401  (routes registered before the first app)
from app.cases.consent import consent_covers, record_consent, withdraw_consent
from app.cases.models import Consent, ConsentPurpose
from app.db import today_kst
from app.guardians.match_queries import consenting_case_ids, waiting_case_ids
from app.guardians.matching import batch_proposal, ranked_suggestions
from app.guardians.solver import solve
from tests.querycount import counting, statements

TODAY = today_kst()
D = dt.timedelta


def _consent(case, party, purposes, given_on, expires_on=None, withdrawn_on=None, lead=None):
    """A consent row as stored (direct, so odd data — a future start — can be tested too)."""
    consent = Consent(case_id=case.id, party=party, given_on=given_on, method="written", expires_on=expires_on,
                      withdrawn_on=withdrawn_on, recorded_by_id=lead.id)
    from app.extensions import db
    db.session.add(consent)
    db.session.flush()
    for purpose in purposes:
        db.session.add(ConsentPurpose(consent_id=consent.id, purpose=purpose))
    return consent


@pytest.fixture
def varied(db, build):
    """Cases in every consent situation the rule distinguishes."""
    school = build.school()
    lead = build.user("school_lead", organisation=school)
    gm, cs = "guardian_matching", "conference_sharing"
    specs = {
        "both": [("student", [gm, cs], TODAY - D(30), None, None), ("parent", [gm], TODAY - D(10), None, None)],
        "student_only": [("student", [gm], TODAY - D(30), None, None)],
        "wrong_purpose": [("student", [cs], TODAY - D(30), None, None), ("parent", [gm], TODAY - D(30), None, None)],
        "expired": [("student", [gm], TODAY - D(30), TODAY - D(1), None), ("parent", [gm], TODAY - D(30), None, None)],
        "expires_today": [("student", [gm], TODAY - D(30), TODAY, None), ("parent", [gm], TODAY - D(30), None, None)],
        "withdrawn": [("student", [gm], TODAY - D(30), None, TODAY - D(2)), ("parent", [gm], TODAY - D(30), None, None)],
        "withdrawn_today": [("student", [gm], TODAY - D(30), None, TODAY), ("parent", [gm], TODAY - D(30), None, None)],
        "future": [("student", [gm], TODAY + D(3), None, None), ("parent", [gm], TODAY - D(30), None, None)],
        "given_today": [("student", [gm], TODAY, None, None), ("parent", [gm], TODAY, TODAY + D(5), None)],
        "renewed": [("student", [gm], TODAY - D(400), TODAY - D(35), None), ("student", [gm], TODAY - D(20), None, None),
                    ("parent", [gm, cs], TODAY - D(400), None, None)],
        "split_purposes": [("student", [cs], TODAY - D(30), None, None), ("student", [gm], TODAY - D(5), None, None),
                           ("parent", [gm], TODAY - D(7), TODAY + D(7), TODAY + D(3))],
        "referral_only": [("student", ["agency_referral"], TODAY - D(30), None, None),
                          ("parent", ["agency_referral"], TODAY - D(30), None, None)],
        "none": [],
    }
    cases = {}
    for name, consents in specs.items():
        case = build.case(school, status="planning", lead=lead)
        for party, purposes, given, expires, withdrawn in consents:
            _consent(case, party, purposes, given, expires, withdrawn, lead)
        cases[name] = case
    # and one through the real services: recorded, then withdrawn
    case = build.case(school, status="in_support", lead=lead)
    withdraw_consent(db.session.get(Consent, _student_consent_id(case)), case, lead, withdrawn_on=TODAY - D(1))
    cases["withdrawn_by_service"] = case
    db.session.commit()
    return cases


def _student_consent_id(case):
    from sqlalchemy import select

    from app.extensions import db
    return db.session.execute(select(Consent.id).filter_by(case_id=case.id, party="student")).scalars().first()


@pytest.mark.parametrize("offset", [-400, -36, -35, -31, -30, -21, -20, -11, -10, -7, -5, -3, -2, -1, 0, 1, 2, 3, 4,
                                    5, 6, 7, 8, 30])
def test_sql_consent_set_equals_consent_covers(db, varied, offset):
    day = TODAY + D(offset)
    cases = list(varied.values())
    expected = {c.id for c in cases if consent_covers(c, "guardian_matching", on=day)}
    assert consenting_case_ids([c.id for c in cases], day) == expected
    # and the rule itself, evaluated in Python on the stored rows (Consent.active_on)
    assert expected == {c.id for c in cases if python_covers(c, day)}


def python_covers(case, day) -> bool:
    from sqlalchemy import select

    from app.extensions import db
    consents = db.session.execute(select(Consent).filter_by(case_id=case.id)).scalars()
    parties = {c.party for c in consents
               if c.active_on(day) and any(p.purpose == "guardian_matching" for p in c.purposes)}
    return parties >= {"student", "parent"}


def test_sql_consent_set_today(db, varied):
    got = consenting_case_ids([c.id for c in varied.values()], TODAY)
    names = {name for name, case in varied.items() if case.id in got}
    assert names == {"both", "expires_today", "given_today", "renewed", "split_purposes"}


def test_recorded_consents_count_too(db, build):
    school = build.school()
    lead = build.user("school_lead", organisation=school)
    case = build.case(school, status="in_support", lead=lead)  # consent_both through the service
    other = build.case(school, status="planning", lead=lead)
    record_consent(other, lead, party="student", purposes=["guardian_matching"], given_on=TODAY, method="written")
    db.session.commit()
    assert consenting_case_ids([case.id, other.id], TODAY) == {case.id}
    assert consenting_case_ids([], TODAY) == set()


def _office(build, coordinator, eligible_guardian, cases: int, guardians: int):
    school = build.school()
    lead = build.user("school_lead", organisation=school)
    made = [build.case(school, status="in_support", lead=lead, needs=(("learning", "기초학력"),)) for _ in range(cases)]
    for k in range(guardians):
        eligible_guardian(capacity=1 + k % 3, experience=["learning"] if k % 2 else [])
    return made


def test_batch_statements_do_not_grow(db, build, client, login, coordinator, eligible_guardian):
    office = coordinator.organisation.office_code
    _office(build, coordinator, eligible_guardian, cases=2, guardians=2)
    login(coordinator)
    db.session.commit()
    db.session.expire_all()
    with counting() as seen:
        small = batch_proposal(office)
    few = len(seen)
    page_few = statements(client, "/guardians/match/batch")
    _office(build, coordinator, eligible_guardian, cases=6, guardians=7)
    db.session.commit()
    db.session.expire_all()
    with counting() as seen:
        large = batch_proposal(office)
    assert len(seen) == few
    assert len(small.pairs) == 2 and len(large.pairs) == 8 and len(large.waiting) == 8
    assert statements(client, "/guardians/match/batch") == page_few


def test_waiting_cases_are_decided_in_sql(db, build, coordinator, eligible_guardian):
    school = build.school()
    lead = build.user("school_lead", organisation=school)
    waiting = build.case(school, status="in_support", lead=lead)
    build.case(school, status="planning", lead=lead)  # no consent
    build.case(school, status="closed", lead=lead)  # not matchable
    full = build.case(school, status="in_support", lead=lead)
    from app.guardians.assignments import propose_assignment
    propose_assignment(full, eligible_guardian(), coordinator)
    db.session.commit()
    ids = set(db.session.execute(waiting_case_ids(coordinator.organisation.office_code, TODAY)).scalars())
    assert ids == {waiting.id}


def test_suggestions_statements_do_not_grow(db, build, client, login, coordinator, eligible_guardian):
    school = build.school()
    case = build.case(school, status="in_support")
    for _ in range(2):
        eligible_guardian()
    login(coordinator)
    db.session.expire_all()
    few = statements(client, f"/guardians/match/{case.uid}")
    for k in range(8):
        eligible_guardian(experience=["learning", "counselling"] if k % 2 else [])
    build.case(school, status="in_support")
    db.session.expire_all()
    page = client.get(f"/guardians/match/{case.uid}")
    assert page.get_data(as_text=True).count("data-guardian=") == 10
    db.session.expire_all()
    assert statements(client, f"/guardians/match/{case.uid}") == few


def test_ranked_suggestions_limit_keeps_the_order(db, build, coordinator, eligible_guardian):
    case = build.case(build.school(), status="in_support")
    for k in range(6):
        eligible_guardian(experience=["learning"] if k % 2 else [], availability=["mon_am"] * (k % 3))
    everyone, total = ranked_suggestions(case)
    top, total_again = ranked_suggestions(case, 3)
    assert total == total_again == 6 and len(everyone) == 6
    assert [s.guardian.id for s in top] == [s.guardian.id for s in everyone[:3]]
    assert all(s.score == sum(p.points for p in s.parts) for s in everyone)


@pytest.mark.parametrize("seed", range(4))
def test_solver_exact_when_places_are_scarce(seed):
    """Many more cases than places (as in a real office): partial pricing still ends optimal."""
    from scipy.optimize import Bounds, LinearConstraint, milp
    rng = np.random.default_rng(seed)
    n, m = 120, 25
    scores, allowed = rng.integers(0, 60, (n, m)), rng.random((n, m)) < 0.95
    need, cap = rng.integers(1, 3, n), rng.integers(1, 4, m)
    pairs = solve(scores, allowed, need, cap)
    r, c = np.nonzero(allowed)
    a = np.zeros((n + m, r.size))
    a[r, np.arange(r.size)] = 1
    a[n + c, np.arange(r.size)] = 1
    ref = milp(-scores[r, c].astype(float), constraints=LinearConstraint(a, -np.inf, np.concatenate([need, cap])),
               integrality=np.ones(r.size), bounds=Bounds(0, 1), options={"mip_rel_gap": 0})
    assert sum(scores[i, j] for i, j in pairs) == round(-ref.fun)
    assert np.all(np.bincount([j for _, j in pairs], minlength=m) <= cap)
    assert len(set(pairs)) == len(pairs) and all(allowed[i, j] for i, j in pairs)
