"""The forms that change a case, over HTTP: 302 on success, 400 with the message and nothing
saved on a refused rule, 403 for the wrong role, 404 outside the user's scope."""
from __future__ import annotations

import datetime as dt
import html as htmllib

import pytest
from sqlalchemy import func, select

from app.audit.models import AuditEvent
from app.cases import notes as case_notes, services as s
from app.cases.models import (STATUSES, CaseEscalation, CaseEvent, CaseNote, CaseSelection, PlanAction,
                              SupportCase)
from app.cases.plan import add_plan_action, set_action_status
from app.db import today_kst
from app.words import josa

from ..factories import consent_both
from .test_page_views import audit, other_office, sign_in


def count(db, model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def text(response) -> str:
    return htmllib.unescape(response.get_data(as_text=True))


def request_for(name: str, case) -> tuple[str, dict]:
    """The URL and valid form data that start transition ``name``."""
    base, today = f"/cases/{case.uid}", today_kst().isoformat()
    if name == "select":
        return f"{base}/select", {"sel-meeting_on": today, "sel-members": "교감, 담임", "sel-teacher_opinions": "필요"}
    if name == "not_select":
        return f"{base}/not-select", {"nsel-meeting_on": today, "nsel-members": "교감", "nsel-reason": "해당 없음"}
    if name == "close":
        return f"{base}/close", {"close-reason": "goals_met", **{f"close-outcome_{n.id}": "resolved" for n in case.needs}}
    if name == "reopen":
        return f"{base}/reopen", {"reopen-reason": "다시 어려움을 호소함"}
    if name == "withdraw_request":
        return f"{base}/withdraw-request", {"wr-reason": "다른 학생으로 잘못 접수"}
    return f"{base}/transition/{name}", {}


SUCCESS = {"select": "지원 대상으로 선정했습니다.", "not_select": "미선정으로 결정했습니다.",
           "close": "사례를 종결했습니다.", "reopen": "사례를 재개했습니다.", "withdraw_request": "지원 요청을 철회했습니다."}


def fresh(db, case) -> SupportCase:
    db.session.expire_all()
    return db.session.get(SupportCase, case.id)


# -- the lifecycle -----------------------------------------------------------------------------

@pytest.mark.parametrize("status", ["requested", "screening", "planning", "in_support", "closed"])
@pytest.mark.parametrize("name", list(s.TRANSITIONS))
def test_each_transition_only_from_its_sources(client, login, build, db, name, status):
    school = build.school()
    lead = build.user("school_lead", organisation=school)
    case = build.case(school, status=status, lead=lead)
    if name == "start_support" and status == "planning":
        consent_both(case, lead)
        db.session.commit()
    login(lead)
    events = count(db, CaseEvent)
    url, data = request_for(name, case)
    response = client.post(url, data=data)
    rule = s.TRANSITIONS[name]
    if status in rule.sources:
        assert response.status_code == 302 and response.headers["Location"] == f"/cases/{case.uid}"
        assert fresh(db, case).status == rule.target
        page = text(client.get(response.headers["Location"]))
        # the particle follows the status: '검토 중'으로, '사후 관리'로 (never "(으)로")
        assert SUCCESS.get(name, f"사례 상태를 {josa(repr(str(STATUSES[rule.target])), '으로/로')} 바꿨습니다.") in page
        assert "(으)로" not in page
    else:
        assert response.status_code == 400
        action = josa("'" + rule.label + "'", "을/를")  # '재개'를, '검토 시작'을
        assert f"'{STATUSES[status]}' 상태에서는 {action} 할 수 없습니다." in text(response)
        assert fresh(db, case).status == status
        assert count(db, CaseEvent) == events


LEAD_ONLY = [name for name, rule in s.TRANSITIONS.items() if rule.roles == ("school_lead",)]


@pytest.mark.parametrize("name", list(s.TRANSITIONS))
@pytest.mark.parametrize("who", ["school_staff", "district_coordinator", "other_school_lead"])
def test_each_transition_only_for_its_roles(client, login, build, db, name, who):
    school = build.school()
    lead = build.user("school_lead", organisation=school)
    case = build.case(school, status=s.TRANSITIONS[name].sources[0], lead=lead)
    if name == "start_support":
        consent_both(case, lead)
        db.session.commit()
    status = case.status
    user = {"school_staff": lambda: build.user("school_staff", organisation=school),
            "district_coordinator": lambda: build.user("district_coordinator", organisation=build.organisation("district_office")),
            "other_school_lead": lambda: build.user("school_lead")}[who]()
    login(user)
    url, data = request_for(name, case)
    response = client.post(url, data=data)
    if who == "school_staff" and name not in LEAD_ONLY:
        assert response.status_code == 302
        return
    assert response.status_code == (404 if who == "other_school_lead" else 403)
    assert case.student.name not in response.get_data(as_text=True) or who != "other_school_lead"
    assert fresh(db, case).status == status
    [denied] = audit(db, "permission_denied")
    assert (denied.actor_id, denied.outcome) == (user.id, "denied")


def test_transition_with_input_is_not_a_button(client, login, build):
    case = build.case(status="screening")
    login(build.user("school_lead", organisation=case.school))
    assert client.post(f"/cases/{case.uid}/transition/select").status_code == 404
    assert client.post(f"/cases/{case.uid}/transition/nonsense").status_code == 404


def test_support_needs_both_consents(client, login, build, db):
    school = build.school()
    lead = build.user("school_lead", organisation=school)
    case = build.case(school, status="planning", lead=lead)
    from app.cases.consent import record_consent
    record_consent(case, lead, party="student", purposes=["guardian_matching"], given_on=today_kst(), method="written")
    db.session.commit()
    login(lead)
    response = client.post(f"/cases/{case.uid}/transition/start_support")
    assert response.status_code == 400
    page = text(response)
    assert "학생과 보호자 모두의 동의가 있어야 지원을 시작할 수 있습니다." in page
    assert 'data-testid="form-alert"' in page and "보호자 동의 필요" in page
    assert fresh(db, case).status == "planning"


# -- decisions with input ----------------------------------------------------------------------

def test_select_saves_the_evidence(client, login, build, db):
    case = build.case(status="screening")
    lead = build.user("school_lead", organisation=case.school)
    login(lead)
    response = client.post(f"/cases/{case.uid}/select", data={
        "sel-meeting_on": today_kst().isoformat(), "sel-members": "교감, 담임, 상담교사",
        "sel-basic_academic_result": "국어 미도달", "sel-teacher_opinions": "", "sel-parent_counselling": "보호자 동의함"})
    assert response.status_code == 302
    [selection] = db.session.execute(select(CaseSelection)).scalars()
    assert (selection.selected, selection.members, selection.basic_academic_result, selection.teacher_opinions,
            selection.parent_counselling, selection.decided_by_id) == (
        True, "교감, 담임, 상담교사", "국어 미도달", None, "보호자 동의함", lead.id)
    assert "지원 대상으로 선정했습니다." in client.get(f"/cases/{case.uid}").get_data(as_text=True)


@pytest.mark.parametrize("data,field,message", [
    ({"sel-members": "교감", "sel-teacher_opinions": "x"}, "sel-meeting_on", "협의 날짜를 입력해 주세요."),
    ({"sel-meeting_on": "2026-13-45", "sel-members": "교감", "sel-teacher_opinions": "x"}, "sel-meeting_on",
     "올바르지 않은 날짜 값입니다."),
    ({"sel-meeting_on": "TODAY", "sel-teacher_opinions": "x"}, "sel-members", "협의에 참석한 사람을 입력해 주세요."),
    ({"sel-meeting_on": "TOMORROW", "sel-members": "교감", "sel-teacher_opinions": "x"}, "sel-meeting_on",
     "협의 날짜는 오늘 이후일 수 없습니다."),
    ({"sel-meeting_on": "TODAY", "sel-members": "교감"}, "sel-teacher_opinions",
     "기초학력 결과나 교사 의견 중 하나 이상을 입력해 주세요."),
])
def test_select_refuses_bad_input_next_to_the_field(client, login, build, db, data, field, message):
    case = build.case(status="screening")
    login(build.user("school_lead", organisation=case.school))
    days = {"TODAY": 0, "TOMORROW": 1}
    data = {k: (today_kst() + dt.timedelta(days=days[v])).isoformat() if v in days else v for k, v in data.items()}
    before = (count(db, CaseSelection), count(db, CaseEvent))
    response = client.post(f"/cases/{case.uid}/select", data=data)
    assert response.status_code == 400
    page = text(response)
    assert f'<p class="form-hint-invalid" id="{field}-error">{message}</p>' in page
    assert '<details class="krds-disclosure ieum-disclosure" id="d-select" open>' in page
    assert (count(db, CaseSelection), count(db, CaseEvent)) == before and fresh(db, case).status == "screening"


def test_not_select_needs_a_reason(client, login, build, db):
    case = build.case(status="screening")
    login(build.user("school_lead", organisation=case.school))
    url = f"/cases/{case.uid}/not-select"
    data = {"nsel-meeting_on": today_kst().isoformat(), "nsel-members": "교감, 담임"}
    response = client.post(url, data=data)
    assert response.status_code == 400 and "미선정 사유를 입력해 주세요." in text(response)
    assert count(db, CaseSelection) == 0
    assert client.post(url, data={**data, "nsel-reason": "학교 안에서 해결됨"}).status_code == 302
    assert fresh(db, case).status == "not_selected"
    [selection] = db.session.execute(select(CaseSelection)).scalars()
    assert (selection.selected, selection.reason) == (False, "학교 안에서 해결됨")


def test_close_needs_an_outcome_per_need(client, login, build, db):
    case = build.case(status="in_support", needs=(("learning", "학습"), ("welfare", "복지")))
    login(build.user("school_lead", organisation=case.school))
    first, second = case.needs
    data = {"close-reason": "goals_met", f"close-outcome_{first.id}": "resolved", f"close-note_{first.id}": "좋아짐"}
    response = client.post(f"/cases/{case.uid}/close", data=data)
    assert response.status_code == 400 and "복지 영역의 결과를 선택해 주세요." in text(response)
    assert fresh(db, case).status == "in_support"
    response = client.post(f"/cases/{case.uid}/close", data={**data, f"close-outcome_{second.id}": "improved"})
    assert response.status_code == 302
    case = fresh(db, case)
    assert (case.status, case.close_reason, case.closed_on) == ("closed", "goals_met", today_kst())
    assert [(n.outcome, n.outcome_note) for n in case.needs] == [("resolved", "좋아짐"), ("improved", None)]
    assert client.post(f"/cases/{case.uid}/close", data={"close-reason": "bogus"}).status_code == 400


def test_reopen_needs_a_reason(client, login, build, db):
    case = build.case(status="closed")
    login(build.user("school_lead", organisation=case.school))
    response = client.post(f"/cases/{case.uid}/reopen", data={"reopen-reason": "  "})
    assert response.status_code == 400 and "재개 사유를 입력해 주세요." in text(response)
    assert client.post(f"/cases/{case.uid}/reopen", data={"reopen-reason": "다시 결석"}).status_code == 302
    assert fresh(db, case).status == "planning" and fresh(db, case).closed_on is None


# -- plan, notes, escalation -------------------------------------------------------------------

def test_add_plan_action(client, login, build, db):
    case = build.case(status="planning")
    staff = build.user("school_staff", organisation=case.school)
    login(staff)
    due = today_kst() + dt.timedelta(days=7)
    response = client.post(f"/cases/{case.uid}/plan", data={
        "plan-need_id": str(case.needs[0].id), "plan-goal": "받아쓰기 80점", "plan-action": "주 2회 보충",
        "plan-owner_id": str(staff.id), "plan-due_on": due.isoformat(), "plan-shared_with_guardian": "y"})
    assert response.status_code == 302
    [item] = db.session.execute(select(PlanAction)).scalars()
    assert (item.goal, item.action, item.need_id, item.owner_id, item.due_on, item.shared_with_guardian) == (
        "받아쓰기 80점", "주 2회 보충", case.needs[0].id, staff.id, due, True)
    page = client.get(f"/cases/{case.uid}").get_data(as_text=True)
    assert "지원 계획에 추가했습니다." in page and "받아쓰기 80점" in page


@pytest.mark.parametrize("change,message", [
    ({"plan-goal": ""}, "목표를 입력해 주세요."),
    ({"plan-action": ""}, "실행 내용을 입력해 주세요."),
    ({"plan-owner_id": "OTHER"}, "올바르지 않은 선택값입니다."),
    ({"plan-need_id": "999999"}, "올바르지 않은 선택값입니다."),
    ({"plan-due_on": "어제"}, "올바르지 않은 날짜 값입니다."),
])
def test_plan_refuses_bad_input(client, login, build, db, change, message):
    case = build.case(status="planning")
    stranger = build.user("school_staff")  # another school's staff cannot own an action here
    login(build.user("school_staff", organisation=case.school))
    data = {"plan-goal": "목표", "plan-action": "실행", **change}
    data = {k: str(stranger.id) if v == "OTHER" else v for k, v in data.items()}
    response = client.post(f"/cases/{case.uid}/plan", data=data)
    assert response.status_code == 400 and message in text(response)
    assert count(db, PlanAction) == 0


def test_plan_refused_before_selection(client, login, build, db):
    case = build.case(status="screening")
    login(build.user("school_staff", organisation=case.school))
    response = client.post(f"/cases/{case.uid}/plan", data={"plan-goal": "목표", "plan-action": "실행"})
    assert response.status_code == 400 and "선정된 뒤에 지원 계획을 세울 수 있습니다." in text(response)
    assert count(db, PlanAction) == 0


def test_plan_action_status_and_tampered_ids(client, login, build, db):
    school = build.school()
    lead = build.user("school_lead", organisation=school)
    case, other = build.case(school, status="in_support", lead=lead), build.case(school, status="in_support", lead=lead)
    item = add_plan_action(case, lead, goal="출석 지도", action="아침 전화")
    foreign = add_plan_action(other, lead, goal="다른 사례", action="x")
    db.session.commit()
    login(lead)
    assert client.post(f"/cases/{case.uid}/plan/{item.uid}/status", data={"ps-status": "done"}).status_code == 302
    db.session.expire_all()
    assert (item.status, item.completed_on) == ("done", today_kst())
    response = client.post(f"/cases/{case.uid}/plan/{item.uid}/status", data={"ps-status": "done"})
    assert response.status_code == 400 and "이미 그 상태입니다." in text(response)
    assert client.post(f"/cases/{case.uid}/plan/{item.uid}/status", data={"ps-status": "lost"}).status_code == 400
    # an action of another case, even of the same school, is not found through this case
    response = client.post(f"/cases/{case.uid}/plan/{foreign.uid}/status", data={"ps-status": "done"})
    assert response.status_code == 404
    db.session.expire_all()
    assert foreign.status == "open"
    assert audit(db, "permission_denied")[-1].object_id == foreign.uid


def test_a_plan_button_pressed_on_a_stale_page_is_refused(client, login, build, db):
    """Issue 19: the buttons carry the status the page showed ("cancelled@open"); a colleague marked
    it done meanwhile, so "cancel" is refused with the race message and nothing changes."""
    school = build.school()
    lead = build.user("school_lead", organisation=school)
    staff = build.user("school_staff", organisation=school)
    case = build.case(school, status="in_support", lead=lead)
    item = add_plan_action(case, lead, goal="출석 지도", action="아침 전화")
    db.session.commit()
    login(lead)
    page = text(client.get(f"/cases/{case.uid}"))
    assert 'name="ps-status" value="done@open"' in page and 'value="cancelled@open"' in page
    set_action_status(item, case, staff, "done")  # the colleague, first
    db.session.commit()
    response = client.post(f"/cases/{case.uid}/plan/{item.uid}/status", data={"ps-status": "cancelled@open"})
    assert response.status_code == 400 and "다른 사용자가 먼저 처리했습니다" in text(response)
    db.session.expire_all()
    assert item.status == "done"
    assert len(audit(db, "plan_action_status")) == 1


def test_add_note_shows_in_the_chronology(client, login, build, db):
    case = build.case(status="screening")
    login(build.user("school_staff", organisation=case.school))
    response = client.post(f"/cases/{case.uid}/notes", data={"note-kind": "observation", "note-body": "쉬는 시간에 혼자 있음"})
    assert response.status_code == 302
    page = client.get(f"/cases/{case.uid}?kind=note").get_data(as_text=True)
    assert "기록을 추가했습니다." in page and "[관찰] 쉬는 시간에 혼자 있음" in page
    [note] = db.session.execute(select(CaseNote)).scalars()
    assert note.body == "쉬는 시간에 혼자 있음"


@pytest.mark.parametrize("data,message", [({"note-kind": "observation", "note-body": " "}, "내용을 입력해 주세요."),
                                          ({"note-kind": "gossip", "note-body": "x"}, "올바르지 않은 선택값입니다.")])
def test_note_refuses_bad_input(client, login, build, db, data, message):
    case = build.case()
    login(build.user("school_staff", organisation=case.school))
    before = count(db, CaseEvent)
    response = client.post(f"/cases/{case.uid}/notes", data=data)
    assert response.status_code == 400 and message in text(response)
    assert count(db, CaseNote) == 0 and count(db, CaseEvent) == before


def test_escalation_and_reply(app, build, db):
    case = build.case(status="in_support")
    staff = build.user("school_staff", organisation=case.school)
    client = sign_in(app, staff)
    url = f"/cases/{case.uid}/escalate"
    assert client.post(url, data={"esc-reason": ""}).status_code == 400
    assert client.post(url, data={"esc-reason": "가정 위기, 지역 연계 필요"}).status_code == 302
    response = client.post(url, data={"esc-reason": "다시"})
    assert response.status_code == 400 and "이미 교육지원청에 요청한 상태입니다." in text(response)
    [escalation] = db.session.execute(select(CaseEscalation)).scalars()
    reply_url = f"/cases/{case.uid}/escalation/{escalation.uid}/reply"
    # the school team cannot answer its own request; another district does not see the case
    assert client.post(reply_url, data={"reply-reply": "x"}).status_code == 403
    stranger = build.user("district_coordinator", organisation=other_office(build))
    assert sign_in(app, stranger).post(reply_url, data={"reply-reply": "x"}).status_code == 404
    coordinator = build.user("district_coordinator", organisation=build.organisation("district_office"))
    client = sign_in(app, coordinator)
    response = client.post(reply_url, data={"reply-reply": ""})
    assert response.status_code == 400 and "회신 내용을 입력해 주세요." in text(response)
    assert client.post(reply_url, data={"reply-reply": "통합사례회의 안건으로 올림"}).status_code == 302
    db.session.expire_all()
    assert escalation.reply == "통합사례회의 안건으로 올림" and not fresh(db, case).escalation_open
    page = client.get(f"/cases/{case.uid}").get_data(as_text=True)
    assert "회신을 기록했습니다." in page and "통합사례회의 안건으로 올림" in page
    assert 'data-testid="form-reply"' not in page
    # the coordinator reads, never writes case content
    assert client.post(f"/cases/{case.uid}/notes", data={"note-kind": "other", "note-body": "x"}).status_code == 403


def test_reply_to_an_escalation_of_another_case_is_404(app, build, db):
    school = build.school()
    lead = build.user("school_lead", organisation=school)
    case, other = build.case(school, status="in_support", lead=lead), build.case(school, status="in_support", lead=lead)
    case_notes.escalate_case(case, lead, reason="a")
    foreign = case_notes.escalate_case(other, lead, reason="b")
    db.session.commit()
    coordinator = build.user("district_coordinator", organisation=build.organisation("district_office"))
    response = sign_in(app, coordinator).post(f"/cases/{case.uid}/escalation/{foreign.uid}/reply",
                                              data={"reply-reply": "x"})
    assert response.status_code == 404
    db.session.expire_all()
    assert foreign.replied_at is None


# -- who may post at all -----------------------------------------------------------------------

ENDPOINTS = ["transition/start_screening", "select", "not-select", "close", "reopen", "consent", "plan", "notes",
             "escalate"]


@pytest.mark.parametrize("endpoint", ENDPOINTS)
@pytest.mark.parametrize("role", ["guardian", "agency_coordinator", "auditor", "admin", "other_school_staff"])
def test_outsiders_get_404_and_never_the_name(client, login, build, db, role, endpoint):
    case = build.case(status="requested")
    name = case.student.name
    user = build.user("school_staff") if role == "other_school_staff" else build.user(role)
    login(user)
    before = (count(db, CaseEvent), fresh(db, case).status)
    response = client.post(f"/cases/{case.uid}/{endpoint}", data={"note-kind": "other", "note-body": "x"})
    assert response.status_code == 404
    assert name not in response.get_data(as_text=True)
    assert (count(db, CaseEvent), fresh(db, case).status) == before
    denied = db.session.execute(select(AuditEvent).filter_by(action="permission_denied")).scalars().all()
    assert [(e.actor_id, e.object_id) for e in denied] == [(user.id, case.uid)]


def test_anonymous_posts_go_to_login(client, build):
    case = build.case()
    response = client.post(f"/cases/{case.uid}/notes", data={"note-kind": "other", "note-body": "x"})
    assert response.status_code == 302 and response.headers["Location"].startswith("/login")
