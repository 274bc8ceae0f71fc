"""Home pages: the number of SQL statements does not grow with the data in the user's scope."""
from __future__ import annotations

import datetime as dt

from app.agencies.referrals import create_referral, send_referral
from app.cases import notes as case_notes
from app.cases.plan import add_plan_action
from app.conferences import recording
from app.conferences import services as cs
from app.conferences.panels import HOME_ROWS
from app.db import today_kst, utcnow
from app.extensions import db
from app.notifications.services import notify

from ..cases.test_page_views import sign_in
from ..factories import consent_both
from ..querycount import fresh_page


def _world(build, school, lead, coordinator, n: int):
    """``n`` rows in every panel of a school lead's and a coordinator's home, each panel on its
    own cases (so no panel's rows are already loaded by another's)."""
    school, lead, coordinator = (db.session.merge(o) for o in (school, lead, coordinator))
    other = build.user("school_lead", organisation=school)
    today = today_kst()
    agency = build.agency()
    reviewed, names = [], []
    for i in range(n):
        build.case(school, status="planning", lead=lead)  # my case, waiting for consent
        build.case(school, status="screening", lead=lead)  # waiting for selection
        late = build.case(school, status="in_support", lead=other)
        add_plan_action(late, other, goal=f"목표{i}", action="x", due_on=today - dt.timedelta(days=2))
        case_notes.escalate_case(build.case(school, status="in_support", lead=other), other, reason="도움 요청")
        referred = build.case(school, status="in_support", lead=other)
        consent_both(referred, other, purposes=("agency_referral",), agency_ids=[agency.id])
        referral = create_referral(referred, other, agency=agency, reason="상담", shared_items=["student_name"])
        send_referral(referral, other)
        referral.respond_by = today - dt.timedelta(days=1)
        notify(lead.id, "case", f"알림{i}", link="/")
        notify(coordinator.id, "case", f"알림{i}", link="/")
        reviewed.append(build.case(school, status="in_support", lead=other))
        names.append(reviewed[-1].student.name)
    db.session.commit()
    soon = today + dt.timedelta(days=3)
    conference = cs.schedule_conference(other, kind="school_meeting", starts_at=dt.datetime.now() + dt.timedelta(days=1),
                                        place="상담실", online_link=None, case_ids=[c.id for c in reviewed],
                                        participant_user_ids=[coordinator.id, lead.id], externals=[])
    db.session.commit()
    conference.starts_at = utcnow() - dt.timedelta(hours=1)
    db.session.commit()
    recording.record_meeting(conference, other, attended_participant_ids=[], minutes="회의록", decisions={
        c.id: dict(decision="continue", note="", next_review_on=soon,
                   actions=[dict(description=f"과제{c.id}", owner_kind="school_team", due_on=soon)]) for c in reviewed})
    db.session.commit()
    return names


def _statements(app, user, url):
    """(statements, html) of one page read with an empty session: nothing the builders loaded
    may hide a lazy load.  The test's objects are put back afterwards."""
    seen, html = fresh_page(sign_in(app, db.session.merge(user)), url)
    return len(seen), html


def _panel(html: str, heading_id: str) -> str:
    start = html.index(f'aria-labelledby="{heading_id}"')
    return html[start:html.index("</section>", start)]


PAGES = (("lead", "/home/lead"), ("coordinator", "/home/district"), ("staff", "/home/school"))
WORK = (("lead", "/conferences/my-work?show=reviews"), ("coordinator", "/conferences/my-work?show=reviews&page=1"))


def test_lead_coordinator_and_staff_homes_do_not_grow(app, build):
    school = build.school()
    users = {"lead": build.user("school_lead", organisation=school),
             "coordinator": build.user("district_coordinator", organisation=build.organisation("district_office", "마포구")),
             "staff": build.user("school_staff", organisation=school)}
    _world(build, school, users["lead"], users["coordinator"], 2)
    small = {url: _statements(app, users[who], url)[0] for who, url in PAGES + WORK}
    reviewed = _world(build, school, users["lead"], users["coordinator"], 12)
    pages = {url: _statements(app, users[who], url) for who, url in PAGES + WORK}
    assert {url: n for url, (n, _html) in pages.items()} == small
    # 14 reviews due (2 + 12): each home shows the first ten and links to the my-work page, which
    # lists all of them, each with its student's name
    for url in ("/home/lead", "/home/district", "/home/school"):
        reviews = _panel(pages[url][1], "p-conference_actions")
        assert reviews.count('data-testid="home-review"') == HOME_ROWS, url
        assert 'data-testid="link-my-work"' in reviews, url
    for _who, url in WORK:
        listed = pages[url][1]
        assert listed.count('data-testid="work-review"') == 14 and all(name in listed for name in reviewed), url
    lead_html = pages["/home/lead"][1]
    assert _panel(lead_html, "p-conference_actions").count('data-testid="home-action"') == HOME_ROWS  # school team's
    assert 'data-testid="unread-total">14<' in lead_html
    district = pages["/home/district"][1]
    assert _panel(district, "p-referrals").count("<li>") == 5  # the panel's limit, oldest deadline first
    assert _panel(district, "p-escalated").count('href="/cases/') == 14


def test_the_district_overdue_panel_loads_each_school_with_its_action(app, build):
    """Overdue plan actions in one school or in five: the panel names each school without a
    query per line (the schools come with the actions, not from a list nobody kept)."""
    coordinator = build.user("district_coordinator", organisation=build.organisation("district_office", "마포구"))
    day = today_kst() - dt.timedelta(days=3)

    def late_in_new_school(i: int) -> str:
        school = build.school(name=f"망원{i}초등학교")
        lead = build.user("school_lead", organisation=school)
        add_plan_action(build.case(school, status="in_support", lead=lead), lead, goal=f"목표{i}", action="x", due_on=day)
        db.session.commit()
        return school.name

    first = late_in_new_school(0)
    one, _html = _statements(app, coordinator, "/home/district")
    names = [first] + [late_in_new_school(i) for i in range(1, 5)]
    five, html = _statements(app, coordinator, "/home/district")
    assert five == one
    overdue = _panel(html, "p-overdue_actions")
    assert all(name in overdue for name in names) and overdue.count("<li>") == 5
