"""A "close" decision through the record form asks what closing from the case page asks."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select

from app.audit.models import AuditEvent
from app.conferences.models import ActionItem
from app.extensions import db as _db


def base(conference) -> dict:
    data = {"attended": [p.id for p in conference.participants], "minutes": "두 사례 종결 논의"}
    for cc in conference.cases:
        data[f"c{cc.case_id}_decision"] = "continue"
    return data


def close_fields(case, reason="other", outcome="unchanged", **items) -> dict:
    p = f"c{case.id}-close-"
    data = {f"{p}reason": reason, f"{p}outcomes": ""}
    for need in case.needs:
        data[f"{p}outcome_{need.id}"] = outcome
        data[f"{p}note_{need.id}"] = "학기 말 재확인"
    data.update({f"{p}{key}": value for key, value in items.items()})
    data[f"c{case.id}_decision"] = "close"
    return data


def closed_count() -> int:
    return _db.session.execute(select(func.count()).select_from(AuditEvent).filter_by(action="case_close")).scalar_one()


def test_the_form_asks_the_lead_every_closing_question(db, client, login, conference_world, make_conference):
    w = conference_world
    conf = make_conference(started=True)
    login(w.lead)
    html = client.get(f"/conferences/{conf.uid}/record").get_data(as_text=True)
    assert f'data-testid="close-{w.referral_case.uid}"' in html and f'data-testid="close-{w.guardian_case.uid}"' in html
    assert f'name="c{w.guardian_case.id}-close-assignment_{w.assignment.id}"' in html
    assert f'name="c{w.referral_case.id}-close-referral_{w.referral.id}"' in html
    assert "배정 종료 사유" in html and "취소 사유" in html
    client.post("/logout")
    login(w.staff)
    html = client.get(f"/conferences/{conf.uid}/record").get_data(as_text=True)
    assert "-close-reason" not in html and "종결 결정은 학교 지원팀장(교감)이 기록합니다." in html


@pytest.mark.parametrize("which, over, message", [
    ("referral", {"reason": ""}, "종결 사유를 선택해 주세요."),
    ("referral", {"outcome": ""}, "영역의 결과를 선택해 주세요."),
    ("referral", {}, "의뢰를 먼저 마무리하거나 취소 사유를 입력해 주세요."),  # open referral, no cancel reason
    ("guardian", {}, "배정 종료 사유를 선택해 주세요."),
])
def test_missing_answers_record_nothing(db, client, login, conference_world, make_conference, which, over, message):
    w = conference_world
    conf = make_conference(started=True)
    case = w.referral_case if which == "referral" else w.guardian_case
    login(w.lead)
    data = {**base(conf), **close_fields(case, **over)}
    response = client.post(f"/conferences/{conf.uid}/record", data=data)
    html = response.get_data(as_text=True)
    assert response.status_code == 400 and message in html, html[:2000]
    _db.session.expire_all()
    assert conf.status == "scheduled" and conf.minutes is None and closed_count() == 0
    assert case.status == "in_support" and w.assignment.status == "active" and w.referral.status == "accepted"
    assert {n.outcome for n in case.needs} == {None}  # no made-up outcome
    assert _db.session.execute(select(func.count()).select_from(ActionItem)).scalar_one() == 0


def test_closing_both_cases_through_the_form(db, client, login, conference_world, make_conference):
    w = conference_world
    conf = make_conference(started=True)
    login(w.lead)
    data = {**base(conf),
            **close_fields(w.guardian_case, "transferred", "referred",
                           **{f"assignment_{w.assignment.id}": "student_moved"}),
            **close_fields(w.referral_case, **{f"referral_{w.referral.id}": "학교 지원 종결로 의뢰 취소"})}
    response = client.post(f"/conferences/{conf.uid}/record", data=data)
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    _db.session.expire_all()
    assert conf.status == "held" and {cc.decision for cc in conf.cases} == {"close"}
    assert (w.guardian_case.status, w.guardian_case.close_reason) == ("closed", "transferred")
    assert (w.referral_case.status, w.referral_case.close_reason) == ("closed", "other")
    assert {n.outcome for n in w.guardian_case.needs} == {"referred"}
    assert {n.outcome_note for n in w.referral_case.needs} == {"학기 말 재확인"}
    assert (w.assignment.status, w.assignment.close_reason) == ("closed", "student_moved")
    assert w.referral.status == "cancelled"
    assert closed_count() == 2


def test_staff_choosing_close_is_told_who_records_it(db, client, login, conference_world, make_conference):
    w = conference_world
    conf = make_conference(started=True)
    login(w.staff)
    data = {**base(conf), f"c{w.referral_case.id}_decision": "close"}
    response = client.post(f"/conferences/{conf.uid}/record", data=data)
    assert response.status_code == 400
    assert "종결 결정은 학교 지원팀장(교감)이 기록해야 합니다." in response.get_data(as_text=True)
    _db.session.expire_all()
    assert conf.status == "scheduled" and w.referral_case.status == "in_support"
