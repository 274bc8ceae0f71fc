"""Each case's current review date (case_review): kept by the conference services in the same
transaction, superseded by a later held conference, equal to what migration 0012 computes, and
read by the homes from the user's school or office only."""
from __future__ import annotations

import datetime as dt
import importlib.util
from pathlib import Path

from sqlalchemy import delete, select, text

from app.conferences import access as a
from app.conferences import services as cs
from app.conferences.models import CaseReview
from app.conferences.reviews import rebuild_reviews
from app.db import today_kst
from app.extensions import db as _db

from .conftest import start


def _migration_backfill() -> str:
    """The backfill statement of migration 0012 (its file name starts with a digit: load by path)."""
    path = Path(__file__).resolve().parents[2] / "migrations" / "versions" / "0012_case_review_dates.py"
    spec = importlib.util.spec_from_file_location("migration_0012", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.BACKFILL


def reviews() -> dict[int, dt.date]:
    return dict(_db.session.execute(select(CaseReview.case_id, CaseReview.review_on)).all())


def hold(conf, actor, decisions) -> None:
    cs.record_meeting(conf, actor, attended_participant_ids=[], minutes="회의록", decisions=decisions)
    _db.session.commit()


def test_a_held_conference_sets_the_review_and_a_later_one_supersedes_it(db, conference_world, make_conference):
    w = conference_world
    g, r = w.guardian_case, w.referral_case
    first = today_kst() + dt.timedelta(days=10)
    hold(make_conference(started=True), w.lead, {
        g.id: dict(decision="continue", note="", next_review_on=first, actions=[]),
        r.id: dict(decision="continue", note="", next_review_on=None, actions=[])})
    assert reviews() == {g.id: first}
    row = _db.session.get(CaseReview, g.id)
    assert (row.school_id, row.office_code) == (w.school.id, w.school.office_code)
    # a cancelled conference changes nothing; a later held one without a date ends the review
    later = make_conference(cases=[g])
    cs.cancel_conference(later, w.lead, reason="일정 변경")
    _db.session.commit()
    assert reviews() == {g.id: first}
    again = make_conference(cases=[g, r])
    start(again)
    second = today_kst() + dt.timedelta(days=3)
    hold(again, w.lead, {g.id: dict(decision="modify", note="", next_review_on=None, actions=[]),
                         r.id: dict(decision="continue", note="", next_review_on=second, actions=[])})
    assert reviews() == {r.id: second}


def test_an_amendment_moves_the_review(db, conference_world, make_conference):
    w = conference_world
    g, r = w.guardian_case, w.referral_case
    conf = make_conference(started=True)
    hold(conf, w.lead, {g.id: dict(decision="continue", note="", next_review_on=today_kst() + dt.timedelta(days=10),
                                   actions=[]),
                        r.id: dict(decision="continue", note="", next_review_on=None, actions=[])})
    moved = today_kst() + dt.timedelta(days=20)
    decisions = {cc.case_id: dict(decision=cc.decision, note=cc.decision_note, next_review_on=cc.next_review_on)
                 for cc in conf.cases}
    decisions[g.id]["next_review_on"] = None
    decisions[r.id]["next_review_on"] = moved
    cs.amend_meeting(conf, w.lead, reason="날짜 정정", minutes="회의록 정정", decisions=decisions)
    _db.session.commit()
    assert reviews() == {r.id: moved}


def test_the_migration_backfill_and_the_rebuild_agree_with_the_services(db, conference_world, make_conference):
    w = conference_world
    g, r = w.guardian_case, w.referral_case
    soon = today_kst() + dt.timedelta(days=4)
    hold(make_conference(started=True), w.lead, {
        g.id: dict(decision="continue", note="", next_review_on=soon, actions=[]),
        r.id: dict(decision="modify", note="", next_review_on=soon + dt.timedelta(days=1), actions=[])})
    kept = reviews()
    assert len(kept) == 2
    _db.session.execute(delete(CaseReview))
    backfill = _migration_backfill()
    _db.session.execute(text(backfill))
    assert reviews() == kept
    assert rebuild_reviews() == 2 and reviews() == kept


def test_the_homes_read_reviews_of_their_own_scope_only(db, conference_world, make_conference, build):
    w = conference_world
    g = w.guardian_case
    soon = today_kst() + dt.timedelta(days=2)
    hold(make_conference(started=True, cases=[g]), w.lead,
         {g.id: dict(decision="continue", note="", next_review_on=soon, actions=[])})
    assert [row.case_id for row in a.my_upcoming_reviews(w.coordinator, today_kst())] == [g.id]
    assert [row.case_id for row in a.my_upcoming_reviews(w.staff, today_kst())] == [g.id]
    elsewhere = build.user("district_coordinator", organisation=build.organisation("district_office", "강남구"))
    for outsider in (w.other_lead, w.agent, w.guardian_user, elsewhere):
        assert a.my_upcoming_reviews(outsider, today_kst()) == []
    # a closed case's review leaves the homes although its date stays
    g.status = "closed"
    _db.session.commit()
    assert a.my_upcoming_reviews(w.coordinator, today_kst()) == []


def test_the_homes_read_reviews_as_rows_with_the_students_names(db, conference_world, make_conference):
    # 50 partial case, conference and student objects cost ~7 ms of a district home at Seoul scale
    from sqlalchemy import event
    from app.cases.models import SupportCase
    from app.students.models import Student
    w = conference_world
    g = w.guardian_case
    soon = today_kst() + dt.timedelta(days=2)
    hold(make_conference(started=True, cases=[g]), w.lead,
         {g.id: dict(decision="continue", note="", next_review_on=soon, actions=[])})
    name, case_uid, coordinator_id = g.student.name, g.uid, w.coordinator.id
    _db.session.expunge_all()
    coordinator = _db.session.get(type(w.coordinator), coordinator_id)
    loaded = []

    def on_load(target, _context):
        loaded.append(target)
    for model in (SupportCase, Student):
        event.listen(model, "load", on_load)
    try:
        rows = a.my_upcoming_reviews(coordinator, today_kst())
    finally:
        for model in (SupportCase, Student):
            event.remove(model, "load", on_load)
    assert [(r.case_uid, r.student_name, r.review_on) for r in rows] == [(case_uid, name, soon)]
    assert loaded == []
