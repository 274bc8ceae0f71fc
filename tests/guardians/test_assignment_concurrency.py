"""Two coordinators proposing the guardian's last free place at the same moment: exactly one wins
(real threads, one session each, on the test database — SQLite or PostgreSQL)."""
from __future__ import annotations

from sqlalchemy import func, select

import app.guardians.match_views  # noqa: F401  (routes registered before the first app)
from app.auth.models import User
from app.cases.models import SupportCase
from app.domain import DomainError
from app.extensions import db as _db
from app.guardians.assignments import propose_assignment
from app.guardians.models import Assignment, Guardian

from ..concurrency import at_once


def test_last_place_taken_once(app, db, build, coordinator, eligible_guardian):
    second_coordinator = build.user("district_coordinator", organisation=coordinator.organisation)
    school = build.school()
    cases = [build.case(school, status="in_support").id, build.case(school, status="in_support").id]
    guardian = eligible_guardian(capacity=2)
    propose_assignment(build.case(school, status="in_support"), guardian, coordinator)  # one place left
    db.session.commit()
    ids = (guardian.id, [coordinator.id, second_coordinator.id])
    db.session.rollback()  # the test's own session must not hold SQLite's write lock meanwhile

    def attempt(k: int, ready) -> str:
        case = _db.session.get(SupportCase, cases[k])
        target, actor = _db.session.get(Guardian, ids[0]), _db.session.get(User, ids[1][k])
        _db.session.rollback()  # end the loading transaction (SQLite holds its write lock)
        ready()
        try:
            propose_assignment(case, target, actor)
            _db.session.commit()
            return "ok"
        except DomainError as error:
            _db.session.rollback()
            return error.message

    outcomes = at_once(app, attempt)
    assert len(outcomes) == 2, outcomes
    assert outcomes.count("ok") == 1 and "담당 가능 인원" in [o for o in outcomes if o != "ok"][0]
    db.session.expire_all()
    taken = db.session.execute(select(func.count(Assignment.id)).filter_by(guardian_id=guardian.id)).scalar_one()
    assert taken == 2
