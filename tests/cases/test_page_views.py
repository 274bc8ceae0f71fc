"""The case page: header, chronology, plan, who may see it, and one audit event per view."""
from __future__ import annotations

import datetime as dt
import re

import pytest
from flask import g
from freezegun import freeze_time
from sqlalchemy import select

from app.audit.models import AuditEvent
from app.cases import notes as case_notes, services as s
from app.cases.plan import add_plan_action
from app.db import today_kst

from ..factories import DEFAULT_PASSWORD, consent_both


def sign_in(app, user):
    """A new client logged in as ``user`` (the app context's cached user is dropped first)."""
    g.pop("_login_user", None)
    client = app.test_client()
    assert client.post("/login", data={"login": user.login, "password": DEFAULT_PASSWORD}).status_code == 302
    return client


def audit(db, action: str) -> list[AuditEvent]:
    return list(db.session.execute(select(AuditEvent).filter_by(action=action).order_by(AuditEvent.id)).scalars())


def kinds(html: str) -> list[str]:
    """The kinds of the chronology lines, in page order."""
    return re.findall(r'data-testid="event" data-kind="(\w+)"', html)


def other_office(build):
    """A district office other than the default school's (마포구 → 서부)."""
    return build.organisation("district_office", gu="강남구")


@pytest.fixture
def team(build):
    school = build.school()
    return school, build.user("school_lead", organisation=school), build.user("school_staff", organisation=school)


# -- the header --------------------------------------------------------------------------------

@freeze_time("2026-04-15 01:00:00")
def test_header_shows_student_status_risk_consent_due_and_escalation(app, db, build, client, login, team):
    school, lead, staff = team
    student = build.student(school, actor=lead, name="박하늘", grade=4, class_no=3, number=12)
    case = build.case(school, status="planning", lead=lead, student=student, risk_level="crisis")
    add_plan_action(case, lead, goal="늦은 목표", action="a", due_on=dt.date(2026, 4, 20))
    add_plan_action(case, lead, goal="이른 목표", action="b", due_on=dt.date(2026, 4, 17))
    done = add_plan_action(case, lead, goal="끝난 목표", action="c", due_on=dt.date(2026, 4, 16))
    done.status = "done"
    case_notes.escalate_case(case, lead, reason="가정 방문이 필요함")
    db.session.commit()
    login(staff)
    html = client.get(f"/cases/{case.uid}").get_data(as_text=True)
    header = html[html.index('data-testid="case-header"'):html.index("</header>", html.index('data-testid="case-header"'))]
    assert "박하늘" in header and "4학년 3반 12번" in header and school.name in header
    assert "지원 계획 수립" in header and "위기" in header
    assert "학생·보호자 동의 필요" in header
    assert re.search(r'data-testid="case-next-due">2026\. 4\. 17\.', header)  # earliest *open* action
    assert 'data-testid="case-escalated"' in header
    assert "<title>박하늘 · 지원 사례 | 이음</title>" in html


def test_header_consent_state_and_no_due_date(client, login, build):
    case = build.case(status="in_support")
    login(build.user("school_staff", organisation=case.school))
    html = client.get(f"/cases/{case.uid}").get_data(as_text=True)
    assert "학생·보호자 동의 완료" in html
    assert re.search(r'data-testid="case-next-due">없음', html)
    assert 'data-testid="case-escalated"' not in html


# -- the chronology ----------------------------------------------------------------------------

def _case_with_history(build, db):
    """A case with a request, consents, status changes, a plan action and a note, an hour apart."""
    school = build.school()
    lead = build.user("school_lead", organisation=school)
    student = build.student(school, actor=lead)
    hour = iter(range(1, 20))

    def at():
        return freeze_time(dt.datetime(2026, 4, 1, 0, 0) + dt.timedelta(hours=next(hour)))
    with at():
        case = s.create_request(lead, student, requested_by="parent", needs=[("welfare", "결식 우려")],
                                risk_level="general", summary="점심을 거름")
        db.session.flush()
    with at():
        s.start_screening(case, lead)
    with at():
        s.select_case(case, lead, meeting_on=dt.date(2026, 4, 1), members="교감, 담임", teacher_opinions="지원 필요")
    with at():
        s.start_planning(case, lead)
    with at():
        consent_both(case, lead, given_on=dt.date(2026, 4, 1))
    with at():
        add_plan_action(case, lead, goal="급식 지원 연계", action="복지실 상담")
    with at():
        case_notes.add_note(case, lead, kind="home_contact", body="어머니와 통화함")
    db.session.commit()
    return case, lead


def test_chronology_is_newest_first_with_every_kind(client, login, build, db):
    case, lead = _case_with_history(build, db)
    login(lead)
    html = client.get(f"/cases/{case.uid}").get_data(as_text=True)
    assert kinds(html) == ["note", "plan", "consent", "consent", "status", "status", "status", "request"]
    chronology = html[html.index('data-testid="case-chronology"'):]
    texts = [chronology.index(t) for t in ("어머니와 통화함", "급식 지원 연계", "보호자 동의 기록", "요청 접수 → 검토 중",
                                     "지원 요청 접수")]
    assert texts == sorted(texts)


@pytest.mark.parametrize("kind,expected", [("note", ["note"]), ("consent", ["consent", "consent"]),
                                           ("status", ["status"] * 3), ("referral", []),
                                           ("bogus", ["note", "plan", "consent", "consent", "status", "status",
                                                      "status", "request"])])
def test_chronology_kind_filter(client, login, build, db, kind, expected):
    case, lead = _case_with_history(build, db)
    login(lead)
    html = client.get(f"/cases/{case.uid}?kind={kind}").get_data(as_text=True)
    assert kinds(html) == expected
    if not expected:
        assert "이 종류의 기록이 없습니다." in html
    if kind == "note":
        assert f'href="/cases/{case.uid}?kind=note#chronology" aria-current="true"' in html


# -- the plan ----------------------------------------------------------------------------------

@freeze_time("2026-05-10 03:00:00")
def test_plan_flags_overdue_actions(client, login, build, db):
    case = build.case(status="in_support")
    lead = build.user("school_lead", organisation=case.school)
    add_plan_action(case, lead, goal="지난 목표", action="x", due_on=dt.date(2026, 5, 9), owner_id=lead.id)
    add_plan_action(case, lead, goal="오늘 목표", action="y", due_on=dt.date(2026, 5, 10))
    db.session.commit()
    login(lead)
    html = client.get(f"/cases/{case.uid}").get_data(as_text=True)
    rows = re.findall(r'<tr data-testid="plan-item"(.*?)</tr>', html, re.S)
    assert len(rows) == 2
    overdue = [r for r in rows if 'data-overdue="true"' in r]
    assert len(overdue) == 1 and "지난 목표" in overdue[0] and lead.display_name in overdue[0]
    assert "1일 지남" in overdue[0]  # the overdue badge says by how many days
    assert 'data-testid="case-overdue">1일 지남<' in html  # the header's next deadline too


def test_plan_empty_state_before_selection(client, login, build):
    case = build.case(status="screening")
    login(build.user("school_staff", organisation=case.school))
    html = client.get(f"/cases/{case.uid}").get_data(as_text=True)
    assert "지원 대상으로 선정된 뒤에 지원 계획을 세웁니다." in html
    assert 'data-testid="form-plan"' not in html


# -- the audit of every view -------------------------------------------------------------------

def test_every_view_writes_exactly_one_case_viewed_event(client, login, build, db):
    case = build.case(status="planning")
    staff = build.user("school_staff", organisation=case.school)
    login(staff)
    for n, url in enumerate([f"/cases/{case.uid}", f"/cases/{case.uid}?kind=note", f"/cases/{case.uid}"], start=1):
        assert client.get(url).status_code == 200
        viewed = audit(db, "case_viewed")
        assert len(viewed) == n
        last = viewed[-1]
        assert (last.actor_id, last.object_type, last.object_id, last.subject_ref, last.outcome) == (
            staff.id, "support_case", case.uid, case.student.uid, "allowed")
    assert audit(db, "case_viewed")[1].details == '{"kind":"note"}'


# -- who may see the page ----------------------------------------------------------------------

@pytest.mark.parametrize("role,where,expected", [
    ("school_staff", "own", 200), ("school_lead", "own", 200), ("district_coordinator", "own", 200),
    ("school_staff", "other", 404), ("school_lead", "other", 404), ("district_coordinator", "other", 404),
    ("guardian", None, 404), ("agency_coordinator", None, 404), ("auditor", None, 404), ("admin", None, 404),
])
def test_who_may_see_the_case_page(client, login, build, db, role, where, expected):
    case = build.case(status="planning")
    name = case.student.name
    if role in ("school_staff", "school_lead"):
        org = case.school if where == "own" else build.school()
    elif role == "district_coordinator":
        org = build.organisation("district_office") if where == "own" else other_office(build)
    else:
        org = None
    user = build.user(role, organisation=org)
    login(user)
    response = client.get(f"/cases/{case.uid}")
    html = response.get_data(as_text=True)
    assert response.status_code == expected
    if expected == 200:
        assert name in html
        assert [e.object_id for e in audit(db, "case_viewed")] == [case.uid]
    else:
        assert name not in html
        assert audit(db, "case_viewed") == []
        [denied] = audit(db, "permission_denied")
        assert (denied.actor_id, denied.outcome, denied.object_id) == (user.id, "denied", case.uid)


def test_unknown_case_is_404_and_anonymous_is_sent_to_login(client, login, build):
    case = build.case()
    assert client.get(f"/cases/{case.uid}").headers["Location"].startswith("/login")
    login(build.user("school_staff", organisation=case.school))
    assert client.get("/cases/00000000-0000-0000-0000-000000000000").status_code == 404


def test_district_coordinator_sees_the_page_read_only_with_the_reply_form(app, db, build):
    case = build.case(status="in_support")
    lead = build.user("school_lead", organisation=case.school)
    case_notes.escalate_case(case, lead, reason="위기 개입 필요")
    db.session.commit()
    coordinator = build.user("district_coordinator", organisation=build.organisation("district_office"))
    html = sign_in(app, coordinator).get(f"/cases/{case.uid}").get_data(as_text=True)
    assert 'data-testid="read-only"' in html and 'data-testid="form-reply"' in html
    for form in ("form-note", "form-consent", "form-plan", "form-escalate", "form-close", "case-progress", "withdraw"):
        assert f'data-testid="{form}"' not in html
    assert "위기 개입 필요" in html
    # the school team sees what a lead may do, but no reply form
    html = sign_in(app, lead).get(f"/cases/{case.uid}").get_data(as_text=True)
    assert 'data-testid="form-reply"' not in html and 'data-testid="form-close"' in html
    assert "교육지원청의 회신을 기다리고 있습니다." in html


@pytest.mark.parametrize("status,staff_sees,lead_sees", [
    ("requested", ["transition-start_screening"], ["transition-start_screening"]),
    ("screening", [], ["form-select", "form-not-select"]),
    ("planning", ["transition-start_support"], ["transition-start_support"]),
    ("in_support", ["transition-start_monitoring"], ["transition-start_monitoring", "form-close"]),
    ("closed", ["transition-start_follow_up"], ["transition-start_follow_up", "form-reopen"]),
])
def test_only_allowed_steps_are_offered(app, build, status, staff_sees, lead_sees):
    case = build.case(status=status)
    offered = re.compile(r'data-testid="((?:transition-\w+)|form-(?:select|not-select|close|reopen))"')
    for role, expected in (("school_staff", staff_sees), ("school_lead", lead_sees)):
        html = sign_in(app, build.user(role, organisation=case.school)).get(f"/cases/{case.uid}").get_data(as_text=True)
        assert offered.findall(html) == expected
        # staff are told who decides where the next decision is the lead's
        hinted = role == "school_staff" and status in ("screening", "in_support", "closed")
        assert ('data-testid="lead-decides"' in html) == hinted


def test_forms_render_a_token_and_unique_ids(make_app, build):
    """With CSRF on (as in production) every form carries its token, and no id repeats."""
    app = make_app(WTF_CSRF_ENABLED=True)
    with app.app_context():
        case = build.case(status="in_support")
        lead = build.user("school_lead", organisation=case.school)
        client = app.test_client()
        login_page = client.get("/login").get_data(as_text=True)
        token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', login_page).group(1)
        client.post("/login", data={"login": lead.login, "password": DEFAULT_PASSWORD, "csrf_token": token})
        html = client.get(f"/cases/{case.uid}").get_data(as_text=True)
    forms = re.findall(r"<form method=\"post\".*?</form>", html, re.S)
    assert len(forms) >= 6
    assert all("csrf_token" in form for form in forms)
    ids = re.findall(r'\sid="([^"]+)"', html)
    assert len(ids) == len(set(ids)), sorted(i for i in ids if ids.count(i) > 1)
    assert "style=" not in html and "<script>" not in html
    assert today_kst().isoformat() in html  # the consent date defaults to today


def test_page_queries_do_not_grow_with_history(client, login, build, db):
    """No N+1: ten more chronology lines, plan actions (each with another owner) and notes
    cost no extra query."""
    from sqlalchemy import event

    school = build.school()
    lead = build.user("school_lead", organisation=school)
    case = build.case(school, status="in_support", lead=lead)
    login(lead)

    def statements() -> int:
        seen = []
        listener = lambda *args: seen.append(1)  # noqa: E731
        event.listen(db.engine, "before_cursor_execute", listener)
        try:
            assert client.get(f"/cases/{case.uid}").status_code == 200
        finally:
            event.remove(db.engine, "before_cursor_execute", listener)
        return len(seen)

    add_plan_action(case, lead, goal="첫 목표", action="x", owner_id=lead.id)
    db.session.commit()
    few = statements()
    for n in range(10):
        owner = build.user("school_staff", organisation=school, commit=False)
        add_plan_action(case, owner, goal=f"목표 {n}", action="x", owner_id=owner.id, need_id=case.needs[0].id)
        case_notes.add_note(case, owner, kind="other", body=f"기록 {n}")
    db.session.commit()
    assert statements() == few
