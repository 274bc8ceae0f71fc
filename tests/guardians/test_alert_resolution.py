"""Guardian alerts point to their object and resolve once it is handled: a proposal once answered,
a check-expiry warning once a new clear check of that kind is recorded, a suspension once the
assignment resumes or ends."""
import app.guardians.portal_views  # noqa: F401  (routes exist before apps are created)

import datetime as dt
import re

import pytest
from freezegun import freeze_time
from sqlalchemy import select

from app.extensions import db
from app.guardians import services as gs
from app.guardians.assignments import (accept_assignment, decline_assignment, reactivate_assignment,
                                       suspend_assignment)
from app.words import date_text
from app.notifications.models import Notification

from .portal_setup import matched


def _alerts(kind):
    return list(db.session.execute(select(Notification).filter_by(kind=kind)).scalars())


@pytest.mark.parametrize("answer", ["accept", "decline"])
def test_a_proposal_alert_resolves_once_answered(build, eligible_guardian, coordinator, answer):
    pair = matched(build, eligible_guardian, coordinator, accept=False)
    alert = _alerts("assignment_proposed")[0]
    assert alert.object_key == f"assignment:{pair.assignment.id}" and alert.resolved_at is None
    assert pair.case.student.given_name in alert.text and pair.case.student.name not in alert.text
    assert alert.link == f"/guardians/me/{pair.assignment.uid}"
    if answer == "accept":
        accept_assignment(pair.assignment, pair.user)
    else:
        decline_assignment(pair.assignment, pair.user, "일정이 맞지 않습니다")
    db.session.commit()
    assert alert.resolved_at is not None


def test_a_suspension_alert_resolves_when_the_assignment_resumes(build, eligible_guardian, coordinator):
    pair = matched(build, eligible_guardian, coordinator)
    gs.suspend_assignments_of(pair.guardian, "other", coordinator)
    db.session.commit()
    alerts = _alerts("assignment_suspended")
    assert alerts and all(n.resolved_at is None for n in alerts)
    reactivate_assignment(pair.assignment, coordinator)
    suspend_assignment(pair.assignment, coordinator, "other")
    db.session.commit()
    assert all(n.resolved_at is not None for n in alerts)


def test_an_expiry_warning_resolves_with_a_new_clear_check(app, build, eligible_guardian, coordinator):
    guardian = eligible_guardian()
    until = min(c.valid_until for c in guardian.checks)
    day = until - dt.timedelta(days=20)
    with freeze_time(dt.datetime.combine(day, dt.time(1))):
        assert app.test_cli_runner().invoke(args=["guardians", "check-expiry"]).exit_code == 0
        db.session.expire_all()
        warnings = _alerts("check_expiring")
        assert len(warnings) == 2 and all(f"{date_text(until)}에 끝납니다" in w.text for w in warnings)
        assert not any(re.search(r"\d{4}-\d{2}-\d{2}", w.text) for w in warnings)
        renewed = gs.record_check_request(coordinator, guardian, "sex_offence", day, day)
        gs.record_check_result(coordinator, renewed, "clear", day, "R-9")
        db.session.commit()
    resolved = {w.object_key: w.resolved_at is not None for w in _alerts("check_expiring")}
    by_kind = {c.kind: c for c in guardian.checks if c.id != renewed.id}
    assert resolved == {f"record_check:{by_kind['sex_offence'].id}": True,
                        f"record_check:{by_kind['child_abuse'].id}": False}
