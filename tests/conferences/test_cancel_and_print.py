"""The cancel screen, the invite list naming who is refused, and the "학교 내부용" printout marks."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select

from app.conferences import services as cs
from app.conferences.models import Conference
from app.extensions import db as _db
from app.notifications.models import Notification

from .conftest import in_days, start


@pytest.mark.parametrize("who, status", [("lead", 200), ("staff", 200), ("coordinator", 403),
                                         ("guardian_user", 403), ("agent", 403), ("other_lead", 404)])
def test_cancel_page_by_role(db, client, login, conference_world, make_conference, who, status):
    w = conference_world
    conf = make_conference()
    login(getattr(w, who))
    page = client.get(f"/conferences/{conf.uid}")
    assert ('data-testid="cancel-link"' in page.get_data(as_text=True)) == (status == 200)
    assert client.get(f"/conferences/{conf.uid}/cancel").status_code == status
    posted = client.post(f"/conferences/{conf.uid}/cancel", data={"reason": "일정 변경"})
    assert posted.status_code == (302 if status == 200 else status)
    _db.session.expire_all()
    assert (conf.status == "cancelled") == (status == 200)


def test_cancel_through_the_screen(db, client, login, conference_world, make_conference):
    w = conference_world
    conf = make_conference()
    login(w.lead)
    response = client.post(f"/conferences/{conf.uid}/cancel", data={"reason": "  "})
    html = response.get_data(as_text=True)
    assert response.status_code == 400 and "취소 사유를 입력해 주세요." in html and 'id="reason-error"' in html
    _db.session.expire_all()
    assert conf.status == "scheduled" and conf.cancelled_at is None
    response = client.post(f"/conferences/{conf.uid}/cancel", data={"reason": "보호자 요청으로 연기"})
    assert response.status_code == 302
    _db.session.expire_all()
    assert conf.status == "cancelled" and conf.cancel_reason == "보호자 요청으로 연기"
    page = client.get(f"/conferences/{conf.uid}").get_data(as_text=True)
    assert 'data-testid="cancelled"' in page and "보호자 요청으로 연기" in page
    assert 'data-testid="cancel-link"' not in page and 'data-testid="record-link"' not in page
    # cancelled: no recording, no second cancel
    assert client.get(f"/conferences/{conf.uid}/record").status_code == 302
    assert client.get(f"/conferences/{conf.uid}/cancel").status_code == 302
    alerts = _db.session.execute(select(Notification).where(Notification.dedupe_key.like("conf-cancel:%"))).scalars()
    assert {n.user_id for n in alerts} == {w.staff.id, w.guardian_user.id, w.agent.id, w.coordinator.id}
    # a participant who sees only their own case learns of the cancellation, not the reason
    client.post("/logout")
    login(w.guardian_user)
    page = client.get(f"/conferences/{conf.uid}").get_data(as_text=True)
    assert 'data-testid="cancelled"' in page and "보호자 요청으로 연기" not in page


def test_a_held_conference_cannot_be_cancelled(db, client, login, conference_world, make_conference):
    w = conference_world
    conf = make_conference(started=True)
    cs.record_meeting(conf, w.lead, attended_participant_ids=[], minutes="m", decisions={
        cc.case_id: dict(decision="continue", actions=[]) for cc in conf.cases})
    _db.session.commit()
    login(w.lead)
    response = client.post(f"/conferences/{conf.uid}/cancel", data={"reason": "실수"})
    assert response.status_code == 302
    _db.session.expire_all()
    assert conf.status == "held" and conf.cancel_reason is None


def test_the_invite_refusal_names_the_person(db, client, login, conference_world):
    w = conference_world
    login(w.lead)
    response = client.post("/conferences/new", data={
        "kind": "school_meeting", "date": in_days(5).date().isoformat(), "time": "15:00", "place": "상담실",
        "case_ids": [w.referral_case.id], "participant_user_ids": [w.agent.id, w.guardian_user.id]})
    html = response.get_data(as_text=True)
    assert response.status_code == 400
    assert f"{w.guardian_user.display_name}님은 이 회의의 사례와 관계가 없어 초대할 수 없습니다." in html
    assert 'id="participant_user_ids-error"' in html
    assert _db.session.execute(select(func.count()).select_from(Conference)).scalar_one() == 0


def test_the_school_printout_marks_school_only_cases(db, client, login, conference_world, make_conference):
    w = conference_world
    conf = make_conference(cases=[w.guardian_case, w.private_case], users=[w.staff, w.coordinator])
    start(conf)
    cs.record_meeting(conf, w.lead, attended_participant_ids=[], minutes="두 사례 논의", decisions={
        w.guardian_case.id: dict(decision="continue", actions=[]),
        w.private_case.id: dict(decision="modify", note="학교 안에서만", actions=[])})
    _db.session.commit()
    login(w.lead)
    printed = client.get(f"/conferences/{conf.uid}/print").get_data(as_text=True)
    sections = printed.split('data-testid="conference-case"')[1:]
    private = next(s for s in sections if w.private_case.student.name in s)
    shared = next(s for s in sections if w.guardian_case.student.name in s)
    assert 'data-testid="school-internal"' in private and "[학교 내부용]" in private
    assert 'data-testid="school-internal"' not in shared
    assert 'data-testid="minutes-internal"' in printed  # the minutes speak of the school-only case too
    page = client.get(f"/conferences/{conf.uid}").get_data(as_text=True)
    assert "학교 내부용" in page
    # outside the school the case is withheld altogether, so nothing is marked
    client.post("/logout")
    login(w.coordinator)
    printed = client.get(f"/conferences/{conf.uid}/print").get_data(as_text=True)
    assert w.private_case.student.name not in printed and "학교 내부용" not in printed
    assert "학생 정보 비공개" in printed
