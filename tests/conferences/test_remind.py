"""`flask conferences remind`: items and reviews due within 3 days or overdue, once per state."""
from __future__ import annotations

import datetime as dt
import re

import pytest
from freezegun import freeze_time
from sqlalchemy import select

from app.auth.models import User
from app.conferences import services as cs
from app.conferences.models import ActionItem
from app.db import today_kst
from app.notifications.models import Notification

from .conftest import in_days


@pytest.fixture
def held(db, conference_world, make_conference):
    """A held conference on the guardian case: a guardian item and a school-team item due in 10
    days, a done item, and a review in 20 days; returns (conference, due, review)."""
    w = conference_world
    today = today_kst()
    due, review = today + dt.timedelta(days=10), today + dt.timedelta(days=20)
    conf = make_conference(cases=[w.guardian_case], started=True)
    cs.record_meeting(conf, w.lead, attended_participant_ids=[], minutes="m", decisions={
        w.guardian_case.id: dict(decision="modify", note="", next_review_on=review, actions=[
            dict(description="학습 지원", owner_kind="user", owner_user_id=w.guardian_user.id, due_on=due),
            dict(description="담임 면담", owner_kind="school_team", due_on=due),
            dict(description="끝난 일", owner_kind="user", owner_user_id=w.staff.id, due_on=due)])})
    db.session.commit()
    item = db.session.execute(select(ActionItem).filter_by(owner_user_id=w.staff.id)).scalar_one()
    cs.set_action_item_status(item, w.staff, "done")
    db.session.commit()
    return conf, due, review


def keys(db, prefix: str) -> set[str]:
    db.session.expire_all()
    return set(db.session.execute(select(Notification.dedupe_key)
                                  .where(Notification.dedupe_key.like(f"{prefix}%"))).scalars())


def run(app, day: dt.date):
    with freeze_time(dt.datetime.combine(day, dt.time(0, 30))):  # 09:30 in Seoul
        result = app.test_cli_runner().invoke(args=["conferences", "remind"])
    assert result.exit_code == 0, result.output
    return result.output


def school_team(db, w) -> set[int]:
    return set(db.session.execute(select(User.id).where(User.organisation_id == w.school.id)).scalars())


def test_items_due_then_overdue_once_each(app, db, conference_world, held):
    w = conference_world
    conf, due, review = held
    run(app, due - dt.timedelta(days=4))
    assert keys(db, "ai-") == set()
    for _ in range(2):
        output = run(app, due - dt.timedelta(days=3))
        team = school_team(db, w)
        assert {k.split(":")[2] for k in keys(db, "ai-due:")} == {str(u) for u in team | {w.guardian_user.id}}
        assert len(keys(db, "ai-due:")) == len(team) + 1
    assert "실행 과제 알림 0건" in output  # the second run sent nothing new
    ran_on = due - dt.timedelta(days=3)  # the operator's line starts with the day, written the Korean way
    assert f"\n{ran_on.year}. {ran_on.month}. {ran_on.day}.: 확인" in output and not re.search(r"\d{4}-\d{2}", output)
    run(app, due)
    assert keys(db, "ai-overdue:") == set()
    for _ in range(2):
        run(app, due + dt.timedelta(days=1))
        assert len(keys(db, "ai-overdue:")) == len(school_team(db, w)) + 1
    notes = db.session.execute(select(Notification).filter_by(user_id=w.guardian_user.id,
                                                              kind="conference_action")).scalars().all()
    assert {n.link for n in notes} == {f"/conferences/{conf.uid}"}
    item = db.session.execute(select(ActionItem).filter_by(owner_user_id=w.guardian_user.id)).scalar_one()
    assert {n.object_key for n in notes} == {f"action_item:{item.id}"}
    student = w.guardian_case.student
    # the guardian reads the given name only, and a near date the Korean way with how it stands
    day = f"{due.month}월 {due.day}일 ({'월화수목금토일'[due.weekday()]})"
    assert {n.text for n in notes} == {
        f"사례회의 실행 과제의 기한이 다가옵니다 ({day}, 3일 남음): 학습 지원 ({student.given_name} 학생)",
        f"사례회의 실행 과제의 기한이 지났습니다 ({day}, 1일 지남): 학습 지원 ({student.given_name} 학생)"}
    assert not any(re.search(r"\d{4}-\d{2}-\d{2}|\d{4}\. ", n.text) for n in notes)
    team_note = db.session.execute(select(Notification).filter_by(user_id=w.lead.id, kind="conference_action")
                                   .order_by(Notification.id)).scalars().first()
    assert f"({student.name} 학생)" in team_note.text


def test_marking_the_item_done_resolves_its_reminders(app, db, conference_world, held):
    w = conference_world
    conf, due, review = held
    run(app, due + dt.timedelta(days=1))
    item = db.session.execute(select(ActionItem).filter_by(owner_user_id=w.guardian_user.id)).scalar_one()
    other = db.session.execute(select(ActionItem).filter_by(owner_kind="school_team")).scalar_one()
    cs.set_action_item_status(item, w.guardian_user, "done")
    db.session.commit()
    db.session.expire_all()
    notes = db.session.execute(select(Notification).where(Notification.kind == "conference_action")).scalars().all()
    assert all(n.resolved_at is not None for n in notes if n.object_key == f"action_item:{item.id}")
    assert all(n.resolved_at is None for n in notes if n.object_key == f"action_item:{other.id}")
    assert any(n.object_key == f"action_item:{other.id}" for n in notes)


def test_review_reminder_names_the_student_with_a_korean_date(app, db, conference_world, held):
    w = conference_world
    conf, due, review = held
    run(app, review + dt.timedelta(days=1))
    note = db.session.execute(select(Notification).filter_by(user_id=w.lead.id, kind="conference_review")).scalar_one()
    day = f"{review.month}월 {review.day}일 ({'월화수목금토일'[review.weekday()]})"
    assert note.text == f"{w.guardian_case.student.name} 학생 사례의 점검일이 지났습니다 ({day}, 1일 지남)."


def test_done_items_are_not_reminded(app, db, conference_world, held):
    w = conference_world
    conf, due, review = held
    run(app, due + dt.timedelta(days=1))
    staff_keys = [k for k in keys(db, "ai-") if k.endswith(f":{w.staff.id}")]
    assert len(staff_keys) == 1  # the school-team item only; the staff's own item is done


def test_reviews_due_then_overdue_to_the_school_team_once(app, db, conference_world, held):
    w = conference_world
    conf, due, review = held
    run(app, review - dt.timedelta(days=4))
    assert keys(db, "review-") == set()
    for _ in range(2):
        run(app, review - dt.timedelta(days=3))
        assert len(keys(db, "review-due:")) == len(school_team(db, w))
    for _ in range(2):
        run(app, review + dt.timedelta(days=1))
        assert len(keys(db, "review-overdue:")) == len(school_team(db, w))
    assert not any(k.endswith(f":{w.guardian_user.id}") for k in keys(db, "review-"))


def test_a_later_conference_supersedes_the_review(app, db, conference_world, make_conference, held):
    w = conference_world
    conf, due, review = held
    later = make_conference(cases=[w.guardian_case], starts_at=in_days(5))
    later.starts_at = conf.starts_at + dt.timedelta(minutes=30)  # it met after the first one
    db.session.commit()
    cs.record_meeting(later, w.lead, attended_participant_ids=[], minutes="m", decisions={
        w.guardian_case.id: dict(decision="continue", note="", next_review_on=None, actions=[])})
    db.session.commit()
    run(app, review + dt.timedelta(days=1))
    assert keys(db, "review-") == set()
