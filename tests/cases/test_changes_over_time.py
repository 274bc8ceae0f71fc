"""A case changes over time: one open case per student, withdrawn requests, needs added and resolved,
risk re-rated, plan actions ended by closing, consent expiry, and the plan owner never stored as text."""
import datetime as dt
import html as htmllib

import pytest
from freezegun import freeze_time
from sqlalchemy import func, select

from app import signals
from app.audit.models import AuditEvent
from app.cases import needs as n
from app.cases import services as s
from app.cases.consent import record_consent
from app.cases.models import CaseEvent, CaseNeed, Consent, PlanAction, SupportCase
from app.cases.plan import add_plan_action, set_action_status
from app.db import today_kst
from app.domain import DomainError, NotPermitted
from tests.factories import consent_both


def text(response) -> str:
    return htmllib.unescape(response.get_data(as_text=True))


def events(db, case) -> list[str]:
    return [e.text for e in db.session.execute(select(CaseEvent).where(CaseEvent.case_id == case.id)
                                               .order_by(CaseEvent.id)).scalars()]


def actions(db, name) -> list[AuditEvent]:
    return list(db.session.execute(select(AuditEvent).where(AuditEvent.action == name)).scalars())


# -- one open case per student --------------------------------------------------------------------

def test_second_request_for_a_student_with_an_open_case_is_refused_with_the_case(build, db):
    case = build.case(status="planning")
    lead = db.session.get(type(case.owner), case.owner_id)
    with pytest.raises(s.OpenCaseExists) as refused:
        s.create_request(lead, case.student, requested_by="parent", needs=[("welfare", "돌봄 공백")],
                         risk_level="general", summary="")
    assert refused.value.case is case and refused.value.field == "student"
    assert "이미 진행 중인 지원 사례" in refused.value.message


@pytest.mark.parametrize("status", ["closed", "not_selected", "withdrawn"])
def test_a_finished_case_does_not_block_a_new_request(build, db, status):
    case = build.case(status=status)
    lead = db.session.get(type(case.owner), case.owner_id)
    new = s.create_request(lead, case.student, requested_by="staff", needs=[("welfare", "돌봄 공백")],
                           risk_level="general", summary="")
    assert new.id != case.id and new.status == "requested"


def test_request_screen_links_the_open_case_and_can_add_to_it(client, login, build, db):
    case = build.case(status="in_support")
    lead = db.session.get(type(case.owner), case.owner_id)
    login(lead)
    data = {"student_mode": "existing", "student": case.student.uid, "requested_by": "parent",
            "needs": ["welfare", "learning"], "desc_welfare": "방과 후 돌봄 공백", "desc_learning": "읽기 보충",
            "risk_level": "general"}
    refused = client.post("/cases/new", data=data)
    page = text(refused)
    assert refused.status_code == 400 and "이미 진행 중인 지원 사례" in page
    assert f'href="/cases/{case.uid}"' in page and 'data-testid="open-case"' in page
    assert db.session.scalar(select(func.count(SupportCase.id))) == 1
    added = client.post("/cases/new", data={**data, "add_to_open_case": "y"})
    assert added.status_code == 302 and added.headers["Location"] == f"/cases/{case.uid}"
    db.session.expire_all()
    assert db.session.scalar(select(func.count(SupportCase.id))) == 1
    needs = {need.domain: need for need in db.session.get(SupportCase, case.id).needs}
    assert set(needs) == {"learning", "welfare"}
    assert needs["learning"].description.endswith("읽기 보충") and needs["welfare"].added_on == today_kst()
    assert any("추가 지원 요청 (보호자 요청" in line for line in events(db, case))
    assert [e.object_id for e in actions(db, "case_request_merged")] == [case.uid]


# -- withdrawing a request --------------------------------------------------------------------------

def test_staff_withdraw_a_request_with_a_reason(build, db):
    case = build.case()
    staff = build.user("school_staff", organisation=case.school)
    with pytest.raises(DomainError) as empty:
        s.withdraw_request(case, staff, reason="  ")
    assert empty.value.field == "reason" and case.status == "requested"
    received = []

    def listen(sender, **kwargs):
        received.append(sender)
    signals.case_withdrawn.connect(listen)
    try:
        s.withdraw_request(case, staff, reason="동명이인으로 잘못 접수")
    finally:
        signals.case_withdrawn.disconnect(listen)
    db.session.commit()
    assert (case.status, case.withdraw_reason, case.closed_on) == ("withdrawn", "동명이인으로 잘못 접수", today_kst())
    assert received == [case]
    assert actions(db, "case_withdraw_request")[0].subject_ref == case.student.uid
    assert "동명이인" not in str(actions(db, "case_withdraw_request")[0].details)  # reason stays encrypted


def test_only_a_request_not_yet_reviewed_can_be_withdrawn(build, db):
    case = build.case(status="screening")
    with pytest.raises(DomainError):
        s.withdraw_request(case, db.session.get(type(case.owner), case.owner_id), reason="실수")
    other = build.user("school_lead")
    fresh = build.case()
    with pytest.raises(NotPermitted):
        s.withdraw_request(fresh, other, reason="실수")


def test_withdraw_form_on_the_case_page(client, login, build, db):
    case = build.case()
    login(build.user("school_staff", organisation=case.school))
    page = text(client.get(f"/cases/{case.uid}"))
    assert 'data-testid="form-withdraw-request"' in page
    empty = client.post(f"/cases/{case.uid}/withdraw-request", data={"wr-reason": ""})
    assert empty.status_code == 400 and "철회 사유를 입력해 주세요." in text(empty)
    done = client.post(f"/cases/{case.uid}/withdraw-request", data={"wr-reason": "잘못 접수"}, follow_redirects=True)
    assert "지원 요청을 철회했습니다." in text(done) and "요청 철회" in text(done)
    db.session.expire_all()
    assert db.session.get(SupportCase, case.id).status == "withdrawn"


# -- needs and risk over time ------------------------------------------------------------------------

def test_add_resolve_need_and_rerate_risk(build, db):
    case = build.case(status="in_support")
    staff = build.user("school_staff", organisation=case.school)
    need = n.add_need(case, staff, domain="health", description="수면 부족")
    with pytest.raises(DomainError) as twice:
        n.add_need(case, staff, domain="health", description="또")
    assert "이미 '건강' 영역" in twice.value.message
    with pytest.raises(DomainError) as no_outcome:
        n.resolve_need(need, case, staff, outcome="", note="")
    assert no_outcome.value.field == "outcome"
    n.resolve_need(need, case, staff, outcome="resolved", note="수면 습관 회복")
    with pytest.raises(DomainError):
        n.resolve_need(need, case, staff, outcome="resolved")
    with pytest.raises(DomainError) as no_reason:
        n.rerate_risk(case, staff, risk_level="crisis", reason="")
    assert no_reason.value.field == "reason" and case.risk_level == "general"
    n.rerate_risk(case, staff, risk_level="crisis", reason="가정 방문에서 방임 정황 확인")
    db.session.commit()
    assert (case.risk_level, case.urgency) == ("crisis", 1)
    assert (need.outcome, need.resolved_on) == ("resolved", today_kst())
    lines = events(db, case)
    assert any(line.startswith("지원 영역 추가: 건강") for line in lines)
    assert any(line.startswith("지원 영역 마무리: 건강 (해결)") for line in lines)
    assert any(line.startswith("위기 수준 변경: 일반 → 위기") for line in lines)
    assert {e.action for e in db.session.execute(select(AuditEvent)).scalars()} >= {
        "case_need_added", "case_need_resolved", "case_risk_rerated"}


def test_needs_and_risk_refused_for_other_schools_and_closed_cases(build, db):
    case = build.case(status="closed")
    lead = db.session.get(type(case.owner), case.owner_id)
    with pytest.raises(DomainError):
        n.add_need(case, lead, domain="health", description="수면")
    with pytest.raises(DomainError):
        n.rerate_risk(case, lead, risk_level="crisis", reason="악화")
    open_case = build.case(status="planning")
    with pytest.raises(NotPermitted):
        n.add_need(open_case, build.user("school_lead"), domain="health", description="수면")


def test_need_and_risk_forms(client, login, build, db):
    case = build.case(status="planning")
    login(build.user("school_staff", organisation=case.school))
    bad = client.post(f"/cases/{case.uid}/needs", data={"need-domain": "", "need-description": ""})
    assert bad.status_code == 400 and "지원 영역을 선택해 주세요." in text(bad)
    assert client.post(f"/cases/{case.uid}/needs", data={"need-domain": "career", "need-description": "진로 상담"}
                       ).status_code == 302
    need = db.session.execute(select(CaseNeed).where(CaseNeed.domain == "career")).scalar_one()
    assert client.post(f"/cases/{case.uid}/needs/{need.uid}/resolve",
                       data={"rn-outcome": "improved", "rn-note": ""}).status_code == 302
    risk = client.post(f"/cases/{case.uid}/risk", data={"risk-risk_level": "emergency", "risk-reason": ""})
    assert risk.status_code == 400 and "바꾸는 이유를 입력해 주세요." in text(risk)
    assert client.post(f"/cases/{case.uid}/risk", data={"risk-risk_level": "emergency",
                                                        "risk-reason": "자해 시도"}).status_code == 302
    db.session.expire_all()
    assert db.session.get(SupportCase, case.id).risk_level == "emergency"
    assert db.session.get(CaseNeed, need.id).outcome == "improved"
    # a district coordinator reads the case but changes nothing
    coordinator = build.user("district_coordinator", organisation=build.organisation("district_office"))
    client.post("/logout")
    login(coordinator)
    assert client.post(f"/cases/{case.uid}/risk", data={"risk-risk_level": "general",
                                                        "risk-reason": "x"}).status_code in (403, 404)


# -- closing ends the plan; receivers may refuse --------------------------------------------------

def test_closing_ends_open_plan_actions_and_reopening_restores_nothing(build, db):
    with freeze_time("2026-11-01 03:00"):
        case = build.case(status="in_support")
        lead = db.session.get(type(case.owner), case.owner_id)
        late = add_plan_action(case, lead, goal="주 1회 면담", action="상담교사 면담", owner_id=lead.id,
                               due_on=dt.date(2026, 11, 3))
        done = add_plan_action(case, lead, goal="보호자 상담", action="전화 상담")
        set_action_status(done, case, lead, "done")
        db.session.commit()
    with freeze_time("2026-11-20 03:00"):
        assert late.overdue_on(today_kst())
        s.close_case(case, lead, reason="goals_met", outcomes={need.id: ("resolved", "") for need in case.needs})
        db.session.commit()
        assert (late.status, done.status) == ("case_closed", "done")
        assert not late.overdue_on(today_kst())
        with pytest.raises(DomainError):
            set_action_status(late, case, lead, "open")
        s.reopen_case(case, lead, reason="다시 결석")
        db.session.commit()
        assert late.status == "case_closed"
        assert any("자동으로 되살아나지 않습니다" in line for line in events(db, case))


def test_a_refusing_receiver_rolls_the_whole_close_back(build, db):
    """Fault injection: a receiver of case_closed raises; nothing of the close stays."""
    case = build.case(status="in_support")
    lead = db.session.get(type(case.owner), case.owner_id)
    action = add_plan_action(case, lead, goal="면담", action="주 1회")
    db.session.commit()
    counts = (db.session.scalar(select(func.count(CaseEvent.id))), db.session.scalar(select(func.count(AuditEvent.id))))

    def refuse(sender, **kwargs):
        raise DomainError("연결된 기능이 종결을 거부했습니다.", "reason")
    signals.case_closed.connect(refuse)
    try:
        with pytest.raises(DomainError):
            s.close_case(case, lead, reason="goals_met", outcomes={need.id: ("resolved", "") for need in case.needs})
        db.session.rollback()
    finally:
        signals.case_closed.disconnect(refuse)
    db.session.expire_all()
    assert db.session.get(SupportCase, case.id).status == "in_support"
    assert db.session.get(PlanAction, action.id).status == "open"
    assert (db.session.scalar(select(func.count(CaseEvent.id))),
            db.session.scalar(select(func.count(AuditEvent.id)))) == counts


def test_close_form_shows_a_refusal_next_to_its_field(client, login, build, db):
    """A receiver's DomainError names a close-form field: the page shows it there, nothing saved."""
    case = build.case(status="in_support")
    lead = db.session.get(type(case.owner), case.owner_id)
    login(lead)

    def refuse(sender, **kwargs):
        raise DomainError("종결 사유와 맞지 않습니다.", "reason")
    signals.case_closed.connect(refuse)
    try:
        response = client.post(f"/cases/{case.uid}/close", data={
            "close-reason": "goals_met", **{f"close-outcome_{need.id}": "resolved" for need in case.needs}})
    finally:
        signals.case_closed.disconnect(refuse)
    assert response.status_code == 400 and "종결 사유와 맞지 않습니다." in text(response)
    db.session.expire_all()
    assert db.session.get(SupportCase, case.id).status == "in_support"


# -- consent expiry ------------------------------------------------------------------------------

def test_consent_expiry_command_sends_consent_expired_once(app, build, db):
    with freeze_time("2026-10-01 03:00"):
        case = build.case(status="planning")
        lead = db.session.get(type(case.owner), case.owner_id)
        consent = record_consent(case, lead, party="parent", purposes=["guardian_matching"],
                                 given_on=dt.date(2026, 9, 1), method="written", expires_on=dt.date(2026, 10, 31))
        db.session.commit()
    received = []

    def listen(sender, **kwargs):
        received.append((sender.id, kwargs["party"], kwargs["purposes"], kwargs["actor"]))
    signals.consent_expired.connect(listen)
    try:
        runner = app.test_cli_runner()
        with freeze_time("2026-10-31 03:00"):  # still valid on its last day
            assert "만료된 동의 0건" in runner.invoke(args=["cases", "consent-expiry"]).output
        with freeze_time("2026-11-01 03:00"):
            first = runner.invoke(args=["cases", "consent-expiry"])
            second = runner.invoke(args=["cases", "consent-expiry"])
    finally:
        signals.consent_expired.disconnect(listen)
    assert first.exit_code == 0 and "만료된 동의 1건" in first.output and "만료된 동의 0건" in second.output
    assert received == [(case.id, "parent", ["guardian_matching"], None)]
    db.session.expire_all()
    assert db.session.get(Consent, consent.id).lapse_handled_on == dt.date(2026, 11, 1)
    assert any(line.startswith("보호자 동의 만료 (2026. 10. 31.)") for line in events(db, case))
    [audit] = actions(db, "consent_expired")
    assert audit.actor_id is None and audit.subject_ref == case.student.uid


def test_withdrawal_sends_consent_withdrawn_with_its_purposes(build, db):
    case = build.case(status="planning")
    lead = db.session.get(type(case.owner), case.owner_id)
    consent_both(case, lead)
    db.session.commit()
    consent = db.session.execute(select(Consent).where(Consent.party == "student")).scalar_one()
    received = []

    def listen(sender, **kwargs):
        received.append((sender, kwargs["party"], kwargs["purposes"]))
    signals.consent_withdrawn.connect(listen)
    try:
        from app.cases.consent import withdraw_consent
        withdraw_consent(consent, case, lead)
    finally:
        signals.consent_withdrawn.disconnect(listen)
    assert received == [(case, "student", ["conference_sharing", "guardian_matching"])]


# -- plan owners are never stored as text ---------------------------------------------------------

def test_plan_owner_label_is_derived_not_stored(build, db):
    case = build.case(status="planning")
    lead = db.session.get(type(case.owner), case.owner_id)
    agency = build.agency()
    coordinator = build.user("district_coordinator", organisation=build.organisation("district_office"))
    mine = add_plan_action(case, lead, goal="면담", action="주 1회", owner_id=lead.id)
    theirs = add_plan_action(case, lead, goal="상담", action="기관 상담", owner_agency_id=agency.id, outside_owner=True)
    with pytest.raises(DomainError):  # outside owners only through a conference decision
        add_plan_action(case, lead, goal="점검", action="방문", owner_id=coordinator.id)
    db.session.commit()
    assert (mine.owner_name, theirs.owner_name) == (lead.display_name, agency.name)
    assert "owner_label" not in PlanAction.__table__.columns
