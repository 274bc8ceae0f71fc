"""Conference reads run the same number of SQL statements whatever the number of conferences,
cases and participants: the list, the conference page (its audit events aside: one per student
shown, by design) and the home panels of a guardian and an agency."""
from __future__ import annotations

import datetime as dt

from app.agencies import referrals as r
from app.conferences import recording
from app.db import today_kst
from app.extensions import db

from ..cases.test_page_views import sign_in
from ..factories import consent_both
from ..querycount import fresh_page, is_audit_append
from .conftest import in_days, start


def _get(app, user, url):
    """(statements other than audit appends, html) of one page read with an empty session."""
    seen, html = fresh_page(sign_in(app, user), url)
    return len([s for s in seen if not is_audit_append(s)]), html


def _referred_cases(build, w, n: int) -> list:
    """``n`` more cases of the world's school, each referred to and accepted by its agency."""
    cases = []
    for _ in range(n):
        case = build.case(school=w.school, status="in_support", lead=w.lead)
        consent_both(case, w.lead, purposes=("agency_referral", "conference_sharing"), agency_ids=[w.agency.id])
        referral = r.create_referral(case, w.staff, agency=w.agency, service=w.service, reason="상담",
                                     shared_items=["student_name"])
        r.send_referral(referral, w.staff)
        db.session.commit()
        r.accept_referral(referral, w.agent)
        db.session.commit()
        cases.append(case)
    return cases


def test_conference_page_and_list_do_not_grow(app, build, conference_world, make_conference):
    w = conference_world
    make_conference(cases=[w.referral_case], users=[w.staff, w.agent, w.coordinator])
    first = make_conference(cases=[w.referral_case], users=[w.staff, w.agent, w.coordinator])
    pages = ("/conferences/", f"/conferences/{first.uid}")
    small = {who: {url: _get(app, user, url)[0] for url in pages} for who, user in
             (("lead", w.lead), ("agent", w.agent), ("coordinator", w.coordinator))}
    more = _referred_cases(build, w, 6)
    extra = [build.user("school_staff", organisation=w.school) for _ in range(4)]
    for i in range(22):  # a second page of conferences
        make_conference(cases=[w.referral_case, *more[:2]], users=[w.staff, w.agent, w.coordinator],
                        starts_at=in_days(3 + i))
    big = make_conference(cases=[w.referral_case, *more], users=[w.staff, w.agent, w.coordinator, *extra])
    pages_big = ("/conferences/", f"/conferences/{big.uid}")
    for who, user in (("lead", w.lead), ("agent", w.agent), ("coordinator", w.coordinator)):
        for url, url_big in zip(pages, pages_big):
            n, html = _get(app, user, url_big)
            assert n == small[who][url], (who, url_big)
            if url_big == f"/conferences/{big.uid}":
                # every case is shown, by name (the agency through what its referral shares)
                assert all(case.student.name in html for case in more), who
    assert _get(app, w.lead, "/conferences/?page=2")[0] == small["lead"]["/conferences/"]


def test_guardian_and_agency_home_panels_do_not_grow(app, build, conference_world, make_conference):
    w = conference_world
    soon = today_kst() + dt.timedelta(days=5)

    def held(cases):
        users = [w.staff, w.coordinator] + ([w.guardian_user] if w.guardian_case in cases else []) + \
            ([w.agent] if any(c is not w.guardian_case for c in cases) else [])
        conference = make_conference(cases=cases, users=users)
        start(conference)
        recording.record_meeting(conference, w.lead, attended_participant_ids=[], minutes="회의록", decisions={
            c.id: dict(decision="continue", note="", next_review_on=soon, actions=[
                dict(description=f"방문 {c.id}", owner_kind="user", owner_user_id=w.guardian_user.id, due_on=soon)
                if c.id == w.guardian_case.id else
                dict(description=f"상담 {c.id}", owner_kind="agency", owner_agency_id=w.agency.id, due_on=soon)])
            for c in cases})
        db.session.commit()

    held([w.referral_case, w.guardian_case, *_referred_cases(build, w, 1)])
    small = {who: _get(app, user, url)[0] for who, user, url in
             (("agent", w.agent, "/home/agency"), ("guardian", w.guardian_user, "/home/guardian"))}
    more = _referred_cases(build, w, 8)
    held(more)
    held([w.guardian_case])
    n, html = _get(app, w.agent, "/home/agency")
    assert n == small["agent"]
    assert html.count('data-testid="home-action"') == 2 + 8  # its agency's items, named as its referrals share
    assert all(case.student.name in html for case in more)
    n, html = _get(app, w.guardian_user, "/home/guardian")
    assert n == small["guardian"]
    assert html.count('data-testid="home-action"') == 2  # its own items only
