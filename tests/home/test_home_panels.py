"""Home panels: each list links to case pages, stays in the user's scope, and says so when empty."""
from __future__ import annotations

import datetime as dt
import re

import pytest
from freezegun import freeze_time

from app.cases import notes as case_notes
from app.cases.consent import active_consents, withdraw_consent
from app.cases.plan import add_plan_action

from ..cases.test_page_views import sign_in


def panel(html: str, heading_id: str) -> str:
    """The HTML of one home panel, by its heading id."""
    start = html.index(f'aria-labelledby="{heading_id}"')
    return html[start:html.index("</section>", start)]


def linked(html: str) -> list[str]:
    return re.findall(r'href="/cases/([0-9a-f-]{36})', html)


@pytest.mark.parametrize("segment,role", [("school", "school_staff"), ("lead", "school_lead")])
def test_school_homes_are_honest_when_empty(client, login, build, segment, role):
    login(build.user(role))
    html = client.get(f"/home/{segment}").get_data(as_text=True)
    assert "아직 담당한 지원 사례가 없습니다." in panel(html, "p-my_cases")
    assert "기한이 지난 항목이 없습니다." in panel(html, "p-overdue_actions")
    waiting = panel(html, "p-waiting_selection" if role == "school_lead" else "p-waiting_cases")
    assert "선정" in waiting and "없습니다" in waiting
    assert not linked(html)


@freeze_time("2026-05-10 03:00:00")
def test_school_staff_home_lists_my_cases_overdue_and_waiting(app, build, db):
    school = build.school()
    lead = build.user("school_lead", organisation=school)
    staff = build.user("school_staff", organisation=school)
    mine = build.case(school, status="requested", lead=staff, student=build.student(school, name="가나다"))
    supported = build.case(school, status="in_support", lead=lead)
    closed = build.case(school, status="closed", lead=lead)
    closed.owner_id = staff.id  # owned, but closed: not an open case
    elsewhere = build.case(status="requested")  # another school
    add_plan_action(supported, lead, goal="출석 확인", action="x", due_on=dt.date(2026, 5, 7), owner_id=staff.id)
    add_plan_action(supported, lead, goal="아직 기한 전", action="y", due_on=dt.date(2026, 5, 12))
    withdraw_consent([c for c in active_consents(supported) if c.party == "parent"][0], supported, lead)
    db.session.commit()
    html = sign_in(app, staff).get("/home/school").get_data(as_text=True)
    my_cases = panel(html, "p-my_cases")
    assert linked(my_cases) == [mine.uid] and "가나다" in my_cases and "요청 접수" in my_cases
    overdue = panel(html, "p-overdue_actions")
    assert linked(overdue) == [supported.uid] and "출석 확인" in overdue and "3일 지남" in overdue
    assert "아직 기한 전" not in overdue
    waiting = panel(html, "p-waiting_cases")
    assert set(linked(waiting)) == {mine.uid, supported.uid}
    assert "선정 결정 대기" in waiting and "동의 필요" in waiting
    assert closed.uid not in html and elsewhere.uid not in html and elsewhere.student.name not in html


def test_lead_home_splits_selection_and_consent(app, build, db):
    school = build.school()
    lead = build.user("school_lead", organisation=school)
    screening = build.case(school, status="screening", lead=lead)
    planning = build.case(school, status="planning", lead=lead)
    build.case(school, status="in_support", lead=lead)  # both consents: waits for nothing
    html = sign_in(app, lead).get("/home/lead").get_data(as_text=True)
    assert linked(panel(html, "p-waiting_selection")) == [screening.uid]
    assert linked(panel(html, "p-waiting_consent")) == [planning.uid]
    assert len(linked(panel(html, "p-my_cases"))) == 3


@freeze_time("2026-05-10 03:00:00")
def test_district_home_lists_escalations_and_overdue_actions_of_its_district(app, build, db):
    near_school, far_school = build.school(gu="마포구"), build.school(gu="강남구")
    near_lead = build.user("school_lead", organisation=near_school)
    far_lead = build.user("school_lead", organisation=far_school)
    near = build.case(near_school, status="in_support", lead=near_lead)
    answered = build.case(near_school, status="in_support", lead=near_lead)
    far = build.case(far_school, status="in_support", lead=far_lead)
    escalation = case_notes.escalate_case(answered, near_lead, reason="b")
    for case, lead in ((near, near_lead), (far, far_lead)):
        case_notes.escalate_case(case, lead, reason="도움 요청")
        add_plan_action(case, lead, goal=f"목표 {case.id}", action="x", due_on=dt.date(2026, 5, 1))
    coordinator = build.user("district_coordinator", organisation=build.organisation("district_office", gu="마포구"))
    case_notes.reply_to_escalation(escalation, answered, coordinator, reply="회신함")
    db.session.commit()
    html = sign_in(app, coordinator).get("/home/district").get_data(as_text=True)
    escalated = panel(html, "p-escalated")
    assert linked(escalated) == [near.uid] and near_school.name in escalated
    overdue = panel(html, "p-overdue_actions")
    assert linked(overdue) == [near.uid] and "9일 지남" in overdue
    assert far.uid not in html and far.student.name not in html


def test_district_home_is_honest_when_empty(client, login, build):
    login(build.user("district_coordinator"))
    html = client.get("/home/district").get_data(as_text=True)
    assert "교육지원청에 요청된 사례가 없습니다." in panel(html, "p-escalated")
    assert "관할 학교에 기한이 지난 지원 계획이 없습니다." in panel(html, "p-overdue_actions")


@pytest.mark.parametrize("segment,role", [("guardian", "guardian"), ("agency", "agency_coordinator"),
                                          ("auditor", "auditor"), ("admin", "admin")])
def test_other_homes_show_no_cases(client, login, build, segment, role):
    case = build.case(status="requested")
    login(build.user(role))
    html = client.get(f"/home/{segment}").get_data(as_text=True)
    assert not linked(html) and case.student.name not in html


def test_home_with_student_names_is_audited_without_names(client, login, build, db):
    """A home page that lists cases is a view of personal data: one event, no names in it."""
    from sqlalchemy import select

    from app.audit.models import AuditEvent
    school = build.school()
    lead = build.user("school_lead", organisation=school)
    case = build.case(school, status="screening", lead=lead)
    login(lead)
    html = client.get("/home/lead").get_data(as_text=True)
    assert case.student.name in html
    events = db.session.execute(select(AuditEvent).filter_by(action="home_viewed")).scalars().all()
    assert len(events) == 1 and case.student.name not in (events[0].details or "")
