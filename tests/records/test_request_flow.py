"""열람·정정 requests: recording (with bad input refused), correcting through the student service,
answering or refusing, the 10-day deadline on the lead's home, and who may do any of it."""
from __future__ import annotations

import datetime as dt
import json
from types import SimpleNamespace

import pytest
from freezegun import freeze_time
from sqlalchemy import func, select

from app.audit.models import AuditEvent
from app.cases.models import CaseEvent
from app.extensions import db
from app.records.request_models import SubjectRequest
from app.db import today_kst

from .request_helpers import get, make_request, post, sign_in


@pytest.fixture
def rw(build):
    """A school with its lead and staff, a student with a case, and another school's lead."""
    school = build.school()
    lead = build.user("school_lead", organisation=school, display_name="박교감")
    staff = build.user("school_staff", organisation=school)
    student = build.student(school, actor=lead, name="이하늘", address="서울 마포구 옛길 1")
    case = build.case(school=school, status="planning", student=student, lead=lead)
    other_school = build.school()
    return SimpleNamespace(school=school, lead=lead, staff=staff, student=student, case=case,
                           other_lead=build.user("school_lead", organisation=other_school))


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def events(action: str) -> list[AuditEvent]:
    return list(db.session.scalars(select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)))


def lines(case) -> list[str]:
    return [e.text for e in db.session.scalars(select(CaseEvent).where(CaseEvent.case_id == case.id)
                                              .order_by(CaseEvent.id))]


def form(**kw) -> dict:
    data = {"kind": "access", "requested_by": "parent", "requested_on": "2026-03-02",
            "identity_method": "parent_record", "identity_note": "", "correction_asked": ""}
    data.update(kw)
    return data


@freeze_time("2026-03-03 01:00:00")
def test_a_lead_records_a_request_with_its_legal_deadline(app, rw):
    client = sign_in(app, rw.lead)
    page = get(client, f"/records/requests/new/{rw.student.uid}")
    assert page.status_code == 200 and "본인 확인 방법" in page.get_data(as_text=True)
    response = post(client, f"/records/requests/new/{rw.student.uid}", form())
    assert response.status_code == 302
    req = db.session.scalars(select(SubjectRequest)).one()
    assert (req.kind, req.status, req.requested_on, req.due_on) == ("access", "open", dt.date(2026, 3, 2),
                                                                    dt.date(2026, 3, 12))
    assert req.recorded_by_id == rw.lead.id and req.school_id == rw.school.id
    [event] = events("subject_request_recorded")
    assert event.subject_ref == rw.student.uid and req.uid in event.reason and "이하늘" not in (event.details or "")
    assert any("열람 요청 접수" in line for line in lines(rw.case))
    shown = get(client, f"/records/requests/{req.uid}").get_data(as_text=True)
    assert "2026. 3. 12." in shown and "학부모 등록 정보 대조" in shown


@freeze_time("2026-03-03 01:00:00")
@pytest.mark.parametrize("data, field_message", [
    (form(requested_on="2026-03-04"), "오늘 이후일 수 없습니다"),
    (form(identity_method=""), "본인 확인 방법을 선택해 주세요"),
    (form(identity_method="other"), "어떻게 확인했는지"),
    (form(kind="correction"), "정정을 요청한 내용을 입력해 주세요"),
    (form(kind="delete"), "요청 종류"),
    (form(requested_on="2024-01-01"), "1년 이내"),
])
def test_bad_input_is_refused_beside_its_field_and_changes_nothing(app, rw, data, field_message):
    client = sign_in(app, rw.lead)
    before = (count(SubjectRequest), count(CaseEvent))
    response = post(client, f"/records/requests/new/{rw.student.uid}", data)
    assert response.status_code == 400
    assert field_message in response.get_data(as_text=True)
    assert (count(SubjectRequest), count(CaseEvent)) == before and not events("subject_request_recorded")


def student_form(student, **changes) -> dict:
    data = {"name": student.name, "birth_date": student.birth_date.isoformat(), "grade": student.grade,
            "class_no": student.class_no, "number": student.number, "neis_number": student.neis_number or "",
            "phone": student.phone or "", "address": student.address or "", "parent_name": student.parent_name or "",
            "parent_relation": student.parent_relation or "", "parent_phone": student.parent_phone or "",
            "home_language": ""}
    data.update(changes)
    return data


def test_a_correction_goes_through_the_student_service_with_before_and_after(app, rw):
    req = make_request(rw.lead, rw.student, kind="correction")
    client = sign_in(app, rw.lead)
    assert "주소가 바뀌었습니다" in get(client, f"/records/requests/{req.uid}").get_data(as_text=True)
    # nothing changed: refused, nothing written
    unchanged = post(client, f"/records/requests/{req.uid}/correct", student_form(rw.student))
    assert unchanged.status_code == 400 and "바뀐 항목이 없습니다" in unchanged.get_data(as_text=True)
    assert not events("student_updated")
    # completing before any correction is refused too
    early = post(client, f"/records/requests/{req.uid}/complete", {"complete-completed_on": "2026-01-01"})
    assert early.status_code == 400
    response = post(client, f"/records/requests/{req.uid}/correct",
                    student_form(rw.student, address="서울 마포구 새길 2"))
    assert response.status_code == 302
    db.session.refresh(rw.student)
    assert rw.student.address == "서울 마포구 새길 2"
    [updated] = events("student_updated")
    assert json.loads(updated.details)["fields"] == ["address"] and req.uid in updated.reason
    [corrected] = events("subject_request_corrected")
    assert json.loads(corrected.details)["fields"] == ["address"]
    for event in (updated, corrected):
        assert "새길" not in (event.details or "") and "옛길" not in (event.details or "")
    chronicle = " ".join(lines(rw.case))
    assert "서울 마포구 옛길 1" in chronicle and "서울 마포구 새길 2" in chronicle and "주소" in chronicle
    done = post(client, f"/records/requests/{req.uid}/complete",
                {"complete-completed_on": today_kst().isoformat()})
    assert done.status_code == 302
    db.session.refresh(req)
    assert req.status == "completed" and req.completed_by_id == rw.lead.id and req.completed_on is not None
    assert events("subject_request_completed")
    # an answered request takes no more changes
    again = post(client, f"/records/requests/{req.uid}/correct", student_form(rw.student, address="또 다른 곳"))
    assert again.status_code == 400 and "이미 처리가 끝난" in again.get_data(as_text=True)


def test_a_refusal_needs_and_keeps_its_reason(app, rw):
    req = make_request(rw.lead, rw.student, kind="correction")
    client = sign_in(app, rw.lead)
    today = today_kst().isoformat()
    empty = post(client, f"/records/requests/{req.uid}/refuse", {"refuse-reason": " ", "refuse-completed_on": today})
    assert empty.status_code == 400 and "거절 사유를 입력해 주세요" in empty.get_data(as_text=True)
    db.session.refresh(req)
    assert req.status == "open" and not events("subject_request_refused")
    response = post(client, f"/records/requests/{req.uid}/refuse",
                    {"refuse-reason": "성적 처리 기록은 다른 법령에 따라 정정 대상이 아님", "refuse-completed_on": today})
    assert response.status_code == 302
    db.session.refresh(req)
    assert req.status == "refused" and req.decision_reason.startswith("성적 처리")
    [event] = events("subject_request_refused")
    assert "성적" not in (event.details or "") and req.uid in event.reason
    assert any("정정 요청 거절: 성적 처리" in line for line in lines(rw.case))


def test_an_access_request_is_answered_only_once_a_copy_was_made(app, rw):
    req = make_request(rw.lead, rw.student, kind="access")
    client = sign_in(app, rw.lead)
    today = today_kst().isoformat()
    early = post(client, f"/records/requests/{req.uid}/complete", {"complete-completed_on": today})
    assert early.status_code == 400 and "사본을 먼저" in early.get_data(as_text=True)
    partly = post(client, f"/records/requests/{req.uid}/complete",
                  {"complete-completed_on": today, "complete-partly": "y"})
    assert partly.status_code == 400 and "일부만 처리한 이유" in partly.get_data(as_text=True)
    assert get(client, f"/records/requests/{req.uid}/copy").status_code == 200
    done = post(client, f"/records/requests/{req.uid}/complete", {
        "complete-completed_on": today, "complete-partly": "y", "complete-reason": "다른 학생이 함께 적힌 회의록 제외"})
    assert done.status_code == 302
    db.session.refresh(req)
    assert req.status == "partly" and events("subject_request_partly")


def test_the_deadline_shows_on_the_lead_home_until_answered(app, rw):
    with freeze_time("2026-03-02 01:00:00"):
        req = make_request(rw.lead, rw.student, kind="access", requested_on=dt.date(2026, 3, 2))
        assert req.due_on == dt.date(2026, 3, 12)
    with freeze_time("2026-03-12 01:00:00"):
        client = sign_in(app, rw.lead)
        home = get(client, "/home/lead").get_data(as_text=True)
        assert 'data-testid="home-subject-requests"' in home and "이하늘" in home
        assert 'data-testid="request-overdue"' not in home and "오늘까지" in home
    with freeze_time("2026-03-13 01:00:00"):
        client = sign_in(app, rw.lead)
        home = get(client, "/home/lead").get_data(as_text=True)
        assert 'data-testid="request-overdue"' in home and "1일 지남" in home and "기한 지남 1건" in home
        listing = get(client, "/records/requests?status=open").get_data(as_text=True)
        assert req.uid in listing and 'data-overdue="1"' in listing
        assert get(client, f"/records/requests/{req.uid}/copy.json").status_code == 200
        answered = post(client, f"/records/requests/{req.uid}/complete", {"complete-completed_on": "2026-03-13"})
        assert answered.status_code == 302
        home = get(client, "/home/lead").get_data(as_text=True)
        assert 'data-testid="home-subject-requests"' not in home
    [done] = events("subject_request_completed")
    assert json.loads(done.details)["late"] is True
    # the staff home has no such block
    staff_home = get(sign_in(app, rw.staff), "/home/school").get_data(as_text=True)
    assert "home-subject-requests" not in staff_home


def test_the_list_filters_by_status_and_shows_only_the_school(app, rw, build):
    open_req = make_request(rw.lead, rw.student, kind="access")
    refused = make_request(rw.lead, rw.student, kind="correction")
    from app.records.request_services import refuse_request
    refuse_request(rw.lead, refused, reason="사유")
    elsewhere_student = build.student(rw.other_lead.organisation, actor=rw.other_lead)
    elsewhere = make_request(rw.other_lead, elsewhere_student)
    db.session.commit()
    client = sign_in(app, rw.lead)
    every = get(client, "/records/requests").get_data(as_text=True)
    assert open_req.uid in every and refused.uid in every and elsewhere.uid not in every
    only_refused = get(client, "/records/requests?status=refused").get_data(as_text=True)
    assert refused.uid in only_refused and open_req.uid not in only_refused
    assert events("subject_request_list_viewed")


@pytest.mark.parametrize("role", ["school_staff", "district_coordinator", "agency_coordinator", "guardian", "auditor"])
def test_other_roles_are_refused_everything(app, rw, build, role):
    req = make_request(rw.lead, rw.student, kind="access")
    user = rw.staff if role == "school_staff" else build.user(role)
    client = sign_in(app, user)
    before = (count(SubjectRequest), count(CaseEvent), count(AuditEvent))
    urls = ["/records/requests", f"/records/requests/new/{rw.student.uid}", f"/records/requests/{req.uid}",
            f"/records/requests/{req.uid}/copy", f"/records/requests/{req.uid}/copy.json"]
    for url in urls:
        assert get(client, url).status_code == 403, url
    for url, data in [(f"/records/requests/new/{rw.student.uid}", form()),
                      (f"/records/requests/{req.uid}/refuse", {"refuse-reason": "x",
                                                                "refuse-completed_on": "2026-01-01"})]:
        assert post(client, url, data).status_code == 403, url
    denied = events("permission_denied")
    assert len(denied) >= len(urls) + 2
    assert (count(SubjectRequest), count(CaseEvent)) == before[:2]
    assert count(AuditEvent) == before[2] + len(denied)
    db.session.refresh(req)
    assert req.status == "open"


def test_another_schools_lead_finds_nothing(app, rw):
    req = make_request(rw.lead, rw.student, kind="access")
    client = sign_in(app, rw.other_lead)
    for url in [f"/records/requests/new/{rw.student.uid}", f"/records/requests/{req.uid}",
                f"/records/requests/{req.uid}/copy", f"/records/requests/{req.uid}/copy.json"]:
        assert get(client, url).status_code == 404, url
    refused = post(client, f"/records/requests/{req.uid}/refuse",
                   {"refuse-reason": "x", "refuse-completed_on": "2026-01-01"})
    assert refused.status_code == 404
    assert post(client, f"/records/requests/new/{rw.student.uid}", form()).status_code == 404
    assert count(SubjectRequest) == 1 and not events("subject_copy_viewed") and not events("subject_copy_exported")
    assert req.uid not in get(client, "/records/requests").get_data(as_text=True)


def test_the_student_and_case_pages_lead_to_the_requests(app, rw):
    req = make_request(rw.lead, rw.student, kind="access")
    lead = sign_in(app, rw.lead)
    assert 'data-testid="subject-request-link"' in get(lead, f"/students/{rw.student.uid}").get_data(as_text=True)
    case_page = get(lead, f"/cases/{rw.case.uid}").get_data(as_text=True)
    assert 'data-testid="case-subject-requests"' in case_page and req.uid in case_page
    staff = sign_in(app, rw.staff)
    assert "subject-request-link" not in get(staff, f"/students/{rw.student.uid}").get_data(as_text=True)
    assert "case-subject-requests" not in get(staff, f"/cases/{rw.case.uid}").get_data(as_text=True)


def test_a_correction_request_has_no_copy_and_refuses_a_future_answer_date(app, rw):
    req = make_request(rw.lead, rw.student, kind="correction")
    client = sign_in(app, rw.lead)
    assert get(client, f"/records/requests/{req.uid}/copy").status_code == 404
    assert get(client, f"/records/requests/{req.uid}/copy.json").status_code == 404
    future = (today_kst() + dt.timedelta(days=3)).isoformat()
    response = post(client, f"/records/requests/{req.uid}/refuse", {"refuse-reason": "사유", "refuse-completed_on": future})
    assert response.status_code == 400 and "처리일은 요청일과 오늘 사이여야 합니다" in response.get_data(as_text=True)
    db.session.refresh(req)
    assert req.status == "open" and req.decision_reason is None
