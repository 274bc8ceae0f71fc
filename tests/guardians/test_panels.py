"""Home-page reads: open concerns the user may see (oldest first, constant queries) and the
coordinator's guardian figures, counted in SQL."""
import app.guardians.portal_views  # noqa: F401  (routes exist before apps are created)

import datetime as dt

from freezegun import freeze_time
from sqlalchemy import event

from app.db import today_kst
from app.extensions import db
from app.guardians import services as gs
from app.guardians.activity import log_activity
from app.guardians.concerns import acknowledge_concern
from sqlalchemy import select

from app.guardians.models import GuardianConcern
from app.guardians.panels import guardian_figures, open_concerns

from .portal_setup import matched


def _concern(pair, text="학생이 집에 가기 싫다고 여러 번 말했습니다."):
    log_activity(pair.assignment, pair.user, occurred_on=today_kst(), minutes=30, kind="emotional",
                 concern=True, concern_description=text)
    db.session.commit()


def test_open_concerns_by_scope_oldest_first(build, eligible_guardian, coordinator):
    first = matched(build, eligible_guardian, coordinator)
    second = matched(build, eligible_guardian, coordinator)
    _concern(second)
    _concern(first)
    # the second pair's concern came two hours earlier (set directly: freezing the clock back could
    # cross midnight in Seoul and date the activity before the assignment was accepted)
    earlier = db.session.execute(select(GuardianConcern).where(GuardianConcern.case_id == second.case.id)).scalar_one()
    earlier.raised_at -= dt.timedelta(hours=2)
    db.session.commit()
    staff = build.user("school_staff", organisation=first.case.school)
    shown = open_concerns(coordinator)
    assert [c.case_id for c in shown] == [second.case.id, first.case.id]
    assert [c.case_id for c in open_concerns(staff)] == [first.case.id]
    assert [c.case_id for c in open_concerns(second.lead)] == [second.case.id]
    assert len(open_concerns(coordinator, limit=1)) == 1
    for outsider in (first.user, build.user("agency_coordinator"), build.user("school_lead"),
                     build.user("district_coordinator", organisation=build.organisation("district_office", "강남구"))):
        assert open_concerns(outsider) == []
    acknowledge_concern(shown[0], second.lead, response="보호자 상담함")
    db.session.commit()
    assert [c.case_id for c in open_concerns(coordinator)] == [first.case.id]


def test_open_concerns_use_a_fixed_number_of_queries(build, eligible_guardian, coordinator):
    statements = []

    def count(*_args):
        statements.append(1)

    def run() -> int:
        db.session.expire_all()
        statements.clear()
        event.listen(db.engine, "before_cursor_execute", count)
        try:
            for concern in open_concerns(coordinator):
                assert concern.case.student.name and concern.case.school.name
        finally:
            event.remove(db.engine, "before_cursor_execute", count)
        return len(statements)

    _concern(matched(build, eligible_guardian, coordinator))
    few = run()
    for _ in range(3):
        _concern(matched(build, eligible_guardian, coordinator))
    assert run() == few <= 4  # begin, the user and their office (expired), then one query


def test_guardian_figures(build, coordinator, eligible_guardian, make_guardian):
    with freeze_time(dt.datetime.now() - dt.timedelta(days=320)):
        expiring = eligible_guardian()           # checked ~350 days ago: both checks end within 30 days
        renewed = eligible_guardian()
    for kind in ("sex_offence", "child_abuse"):    # renewed: the newer checks run for a year
        check = gs.record_check_request(coordinator, renewed, kind, today_kst(), today_kst())
        gs.record_check_result(coordinator, check, "clear", today_kst(), f"N-{kind}")
    eligible_guardian()
    make_guardian(status="screening")
    make_guardian()
    suspended = eligible_guardian()
    gs.change_guardian_status(coordinator, suspended, "suspended")
    db.session.commit()
    other = build.user("district_coordinator", organisation=build.organisation("district_office", "강남구"))
    eligible_guardian(office_user=other)
    assert guardian_figures(coordinator) == {"active": 3, "vetting": 2, "expiring": 1}
    assert expiring.status == "active"
    assert guardian_figures(other) == {"active": 1, "vetting": 0, "expiring": 0}
    assert guardian_figures(build.user("school_lead")) == {"active": 0, "vetting": 0, "expiring": 0}
