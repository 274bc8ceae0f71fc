"""내 실행 과제 · 점검 예정 (conferences.my_work): every open action item and every review coming
up, a page at a time, for the roles with a conference panel; the home panel shows the first
ten and links here."""
from __future__ import annotations

import datetime as dt
import re

from freezegun import freeze_time
from sqlalchemy import select

from app.audit.models import AuditEvent
from app.conferences import recording
from app.conferences import services as cs
from app.conferences.panels import HOME_ROWS
from app.conferences.views.work import PER_PAGE
from app.db import today_kst, utcnow
from app.extensions import db

from ..cases.test_page_views import sign_in


def _reviewed(build, school, lead, n: int, due_in: int = 3):
    """``n`` in-support cases of ``school`` decided at one held conference: each with a review
    ``due_in`` days ahead and one school-team action item due then (names in case order)."""
    staff = build.user("school_lead", organisation=school)  # another lead of the school organises
    cases = [build.case(school, status="in_support", lead=staff) for _ in range(n)]
    db.session.commit()
    conference = cs.schedule_conference(staff, kind="school_meeting", starts_at=dt.datetime.now() + dt.timedelta(days=1),
                                        place="상담실", online_link=None, case_ids=[c.id for c in cases],
                                        participant_user_ids=[lead.id], externals=[])
    db.session.commit()
    conference.starts_at = utcnow() - dt.timedelta(hours=1)
    db.session.commit()
    due = today_kst() + dt.timedelta(days=due_in)
    recording.record_meeting(conference, staff, attended_participant_ids=[], minutes="회의록", decisions={
        c.id: dict(decision="continue", note="", next_review_on=due,
                   actions=[dict(description=f"과제{i:02d}", owner_kind="school_team", due_on=due)])
        for i, c in enumerate(cases)})
    db.session.commit()
    return [c.student.name for c in cases]


def _cases_of(school):
    from app.cases.models import SupportCase
    return list(db.session.execute(select(SupportCase).where(SupportCase.school_id == school.id)
                                   .order_by(SupportCase.id)).scalars())


def _events(action: str) -> list[AuditEvent]:
    return list(db.session.execute(select(AuditEvent).filter_by(action=action).order_by(AuditEvent.id)).scalars())


def test_every_item_a_page_at_a_time_in_order_and_each_page_recorded(app, build):
    school = build.school()
    lead = build.user("school_lead", organisation=school)
    _reviewed(build, school, lead, PER_PAGE + 5)
    client = sign_in(app, lead)
    first = client.get("/conferences/my-work").get_data(as_text=True)  # actions by default
    second = client.get("/conferences/my-work?show=actions&page=2").get_data(as_text=True)
    tasks = re.findall(r"과제(\d\d)", first) + re.findall(r"과제(\d\d)", second)
    assert first.count('data-testid="work-action"') == PER_PAGE and second.count('data-testid="work-action"') == 5
    assert tasks == [f"{i:02d}" for i in range(PER_PAGE + 5)]  # due together: in item order, none twice
    assert f"모두 {PER_PAGE + 5}건" in first and "my-work?page=2&amp;show=actions" in first
    events = _events("conference_work_viewed")
    assert [(e.object_id, e.actor_id) for e in events] == [("actions", lead.id)] * 2
    assert [e.details for e in events] == [f'{{"page":1,"shown":{PER_PAGE}}}', '{"page":2,"shown":5}']


def test_reviews_overdue_first_and_the_home_shows_ten_with_a_link(app, build):
    school = build.school()
    lead = build.user("school_lead", organisation=school)
    names = _reviewed(build, school, lead, HOME_ROWS + 4)
    with freeze_time(dt.datetime.now() + dt.timedelta(days=5)):  # the reviews are two days late now
        client = sign_in(app, lead)
        reviews = client.get("/conferences/my-work?show=reviews").get_data(as_text=True)
        home = client.get("/home/lead").get_data(as_text=True)
        listing = client.get("/conferences/").get_data(as_text=True)
    assert reviews.count('data-testid="work-review"') == HOME_ROWS + 4 and all(n in reviews for n in names)
    assert reviews.count("outline-danger") == HOME_ROWS + 4  # every review is past its day
    assert home.count('data-testid="home-review"') == HOME_ROWS and home.count('data-testid="home-action"') == HOME_ROWS
    assert 'href="/conferences/my-work?show=actions" data-testid="link-my-work"' in home
    assert 'href="/conferences/my-work" data-testid="link-my-work"' in listing


def test_other_roles_are_refused_and_an_empty_list_says_so(app, build):
    school = build.school()
    auditor = build.user("auditor")
    assert sign_in(app, auditor).get("/conferences/my-work").status_code == 403
    assert sign_in(app, build.user("admin")).get("/conferences/my-work").status_code == 403
    lead = build.user("school_lead", organisation=school)
    client = sign_in(app, lead)
    empty = client.get("/conferences/my-work?show=reviews").get_data(as_text=True)
    assert "2주 안에 점검할 사례가 없습니다." in empty
    assert "맡은 실행 과제가 없습니다." in client.get("/conferences/my-work?show=nonsense").get_data(as_text=True)
    assert _events("conference_work_viewed") == []  # nothing listed, no names seen
    home = client.get("/home/lead").get_data(as_text=True)
    assert 'data-testid="link-my-work"' not in home


def test_another_school_sees_none_of_them(app, build):
    school, other = build.school(), build.school()
    _reviewed(build, school, build.user("school_lead", organisation=school), 3)
    outsider = build.user("school_lead", organisation=other)
    client = sign_in(app, outsider)
    for show in ("actions", "reviews"):
        html = client.get(f"/conferences/my-work?show={show}").get_data(as_text=True)
        assert 'data-testid="work-' not in html and "과제0" not in html


def test_a_closed_case_leaves_both_lists(app, build):
    """Closing a case ends its action items and its review (case_closed): the page stops listing them."""
    from app.cases import services as case_services
    school = build.school()
    lead = build.user("school_lead", organisation=school)
    names = _reviewed(build, school, lead, 3)
    closed = _cases_of(school)[0]
    case_services.close_case(closed, lead, reason="goals_met",
                             outcomes={n.id: ("resolved", "") for n in closed.needs if n.resolved_on is None})
    db.session.commit()
    client = sign_in(app, lead)
    actions = client.get("/conferences/my-work?show=actions").get_data(as_text=True)
    reviews = client.get("/conferences/my-work?show=reviews").get_data(as_text=True)
    assert actions.count('data-testid="work-action"') == 2 and "과제00" not in actions
    assert reviews.count('data-testid="work-review"') == 2 and names[0] not in reviews
    assert all(name in reviews for name in names[1:])
