"""The case state machine: every transition from every status, for every role."""
import datetime as dt

import pytest
from freezegun import freeze_time
from sqlalchemy import select

from app.audit.models import AuditEvent
from app.cases import services as s
from app.cases.models import STATUSES, CaseEvent
from app.domain import DomainError, NotPermitted
from app.db import today_kst
from tests.factories import PATH_TO, consent_both


def run(name, case, actor):
    """Call the service of transition ``name`` with valid inputs."""
    today = today_kst()
    if name == "select":
        return s.select_case(case, actor, meeting_on=today, members="교감, 담임", teacher_opinions="필요")
    if name == "not_select":
        return s.not_select_case(case, actor, meeting_on=today, members="교감, 담임", reason="해당 없음")
    if name == "close":
        return s.close_case(case, actor, reason="goals_met", outcomes={n.id: ("resolved", "") for n in case.needs})
    if name == "reopen":
        return s.reopen_case(case, actor, reason="다시 어려움 호소")
    if name == "withdraw_request":
        return s.withdraw_request(case, actor, reason="다른 학생으로 잘못 입력")
    return getattr(s, name)(case, actor)


@pytest.mark.parametrize("status", list(STATUSES))
@pytest.mark.parametrize("name", list(s.TRANSITIONS))
def test_transition_table(build, db, status, name):
    """Allowed exactly from its source statuses; everything else refused with nothing changed."""
    school = build.school()
    lead = build.user("school_lead", organisation=school)
    case = build.case(school, status=status, lead=lead)
    if name == "start_support" and status not in ("closed", "not_selected", "monitoring", "in_support", "follow_up"):
        consent_both(case, lead)
        db.session.commit()
    events_before = db.session.scalar(select(db.func.count(CaseEvent.id)))
    rule = s.TRANSITIONS[name]
    if status in rule.sources:
        run(name, case, lead)
        db.session.commit()
        assert case.status == rule.target
        last = db.session.execute(select(AuditEvent).order_by(AuditEvent.id.desc()).limit(1)).scalar_one()
        assert (last.action, last.object_id, last.subject_ref) == (f"case_{name}", case.uid, case.student.uid)
    else:
        with pytest.raises(DomainError) as refused:
            run(name, case, lead)
        db.session.rollback()
        assert str(STATUSES[status]) in refused.value.message
        assert db.session.get(type(case), case.id).status == status
        assert db.session.scalar(select(db.func.count(CaseEvent.id))) == events_before


@pytest.mark.parametrize("name", list(s.TRANSITIONS))
@pytest.mark.parametrize("role", ["school_staff", "district_coordinator", "auditor", "admin"])
def test_transition_roles(build, db, name, role):
    """Lead-only transitions refuse staff; no transition is open to other roles or schools."""
    school = build.school()
    source = s.TRANSITIONS[name].sources[0]
    lead = build.user("school_lead", organisation=school)
    case = build.case(school, status=source, lead=lead)
    if name == "start_support":
        consent_both(case, lead)
    actor = build.user(role, organisation=school if role == "school_staff" else None)
    if role == "school_staff" and role in s.TRANSITIONS[name].roles:
        run(name, case, actor)
        assert case.status == s.TRANSITIONS[name].target
    else:
        with pytest.raises(NotPermitted):
            run(name, case, actor)


def test_other_school_lead_refused(build):
    case = build.case(status="screening")
    stranger = build.user("school_lead")
    with pytest.raises(NotPermitted):
        run("select", case, stranger)


def test_in_support_needs_both_consents(build, db):
    school = build.school()
    lead = build.user("school_lead", organisation=school)
    case = build.case(school, status="planning", lead=lead)
    from app.cases.consent import record_consent
    record_consent(case, lead, party="student", purposes=["guardian_matching"],
                   given_on=today_kst(), method="written")
    with pytest.raises(DomainError) as refused:
        s.start_support(case, lead)
    assert "보호자" in refused.value.message and case.status == "planning"


def test_selection_requires_evidence(build):
    case = build.case(status="screening")
    lead = build.user("school_lead", organisation=case.school)
    with pytest.raises(DomainError) as refused:
        s.select_case(case, lead, meeting_on=today_kst(), members="", teacher_opinions="x")
    assert refused.value.field == "members"
    with pytest.raises(DomainError) as refused:
        s.select_case(case, lead, meeting_on=today_kst() + dt.timedelta(days=2), members="교감", teacher_opinions="x")
    assert refused.value.field == "meeting_on"
    assert case.status == "screening"


@freeze_time("2026-05-10 03:00:00")
def test_close_requires_outcome_per_need(build):
    case = build.case(status="in_support", needs=(("learning", "학습"), ("welfare", "복지")))
    lead = build.user("school_lead", organisation=case.school)
    first = case.needs[0]
    with pytest.raises(DomainError) as refused:
        s.close_case(case, lead, reason="goals_met", outcomes={first.id: ("resolved", "")})
    assert "복지" in refused.value.message and case.status == "in_support"
    s.close_case(case, lead, reason="goals_met", outcomes={n.id: ("resolved", "좋아짐") for n in case.needs})
    assert case.closed_on == dt.date(2026, 5, 10) and case.needs[1].outcome_note == "좋아짐"


def test_paths_reach_every_status(build):
    for status in PATH_TO:
        assert build.case(status=status).status == status


@pytest.mark.parametrize("status, name, expected", [
    ("requested", "reopen", "'요청 접수' 상태에서는 '재개'를 할 수 없습니다."),        # 재개: no final consonant
    ("requested", "close", "'요청 접수' 상태에서는 '종결'을 할 수 없습니다."),         # 종결: ends in ㄹ
    ("closed", "start_monitoring", "'종결' 상태에서는 '점검 단계로'를 할 수 없습니다."),
    ("closed", "start_screening", "'종결' 상태에서는 '검토 시작'을 할 수 없습니다."),
])
def test_a_refused_transition_takes_the_particle_of_its_label(build, db, status, name, expected):
    school = build.school()
    lead = build.user("school_lead", organisation=school)
    case = build.case(school, status=status, lead=lead)
    with pytest.raises(DomainError) as refused:
        run(name, case, lead)
    db.session.rollback()
    assert refused.value.message == expected


def test_an_open_case_is_named_with_a_korean_date(build, db):
    case = build.case(status="requested")
    lead = build.user("school_lead", organisation=case.school)
    with pytest.raises(s.OpenCaseExists) as refused:
        s.create_request(lead, case.student, needs=[("learning", "학습")], risk_level="general", requested_by="staff",
                         summary="다시 요청")
    day = case.requested_on
    assert f"{day.year}. {day.month}. {day.day}. 요청" in refused.value.message
    assert day.isoformat() not in refused.value.message and "그 사례를 열어 지원 영역을 더해 주세요" in refused.value.message
