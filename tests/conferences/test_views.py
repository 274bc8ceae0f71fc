"""Conference screens: who sees which conference and which of its cases, scheduling and recording
through the forms, action item status, audited views of minutes, the print layout, home panels."""
from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import func, select

from app.audit.models import AuditEvent
from app.conferences import services as cs
from app.conferences.models import ActionItem, Conference
from app.db import today_kst
from app.extensions import db as _db

from .conftest import in_days, start


def page(client, url: str, status: int = 200) -> str:
    response = client.get(url)
    assert response.status_code == status, (url, response.status_code)
    return response.get_data(as_text=True)


def events(action: str) -> list[AuditEvent]:
    return list(_db.session.execute(select(AuditEvent).filter_by(action=action)).scalars())


def count(model) -> int:
    return _db.session.execute(select(func.count()).select_from(model)).scalar_one()


def held(w, conference, minutes: str = "두 사례 모두 지원 유지, 다음 달 점검"):
    """Record the meeting through the service (started first): one action item each, reviews soon."""
    start(conference)
    due = today_kst() + dt.timedelta(days=7)
    cs.record_meeting(conference, w.lead, attended_participant_ids=[p.id for p in conference.participants],
                      minutes=minutes, decisions={
                          w.guardian_case.id: dict(decision="continue", note="학습 지원 유지",
                                                   next_review_on=today_kst() + dt.timedelta(days=10), actions=[
                                                       dict(description="주 2회 학습 멘토링", owner_kind="user",
                                                            owner_user_id=w.guardian_user.id, due_on=due)]),
                          w.referral_case.id: dict(decision="modify", note="상담 횟수 조정", next_review_on=None,
                                                   actions=[dict(description="상담 결과 회신", owner_kind="agency",
                                                                 owner_agency_id=w.agency.id, due_on=due)])})
    _db.session.commit()


@pytest.mark.parametrize("who, status", [("lead", 200), ("staff", 200), ("coordinator", 200),
                                         ("guardian_user", 200), ("agent", 200), ("other_lead", 404)])
def test_conference_page_matrix(db, client, login, conference_world, make_conference, who, status):
    w = conference_world
    conference = make_conference()
    login(getattr(w, who))
    page(client, f"/conferences/{conference.uid}", status)
    page(client, f"/conferences/{conference.uid}/print", status)
    listing = page(client, "/conferences/")
    assert (conference.uid in listing) == (status == 200)
    if status == 404:
        assert events("permission_denied")[-1].object_type == "conference"


@pytest.mark.parametrize("who, status", [("lead", 200), ("staff", 200), ("coordinator", 403),
                                         ("guardian_user", 403), ("agent", 403), ("other_lead", 404)])
def test_record_page_matrix(db, client, login, conference_world, make_conference, who, status):
    w = conference_world
    conference = make_conference(started=True)
    login(getattr(w, who))
    page(client, f"/conferences/{conference.uid}/record", status)
    assert client.post(f"/conferences/{conference.uid}/record", data={}).status_code == (
        400 if status == 200 else status)


@pytest.mark.parametrize("who, status", [("lead", 200), ("staff", 200), ("coordinator", 200),
                                         ("guardian_user", 403), ("agent", 403)])
def test_schedule_page_by_role(db, client, login, conference_world, who, status):
    login(getattr(conference_world, who))
    page(client, "/conferences/new", status)


def test_guardian_sees_only_their_students_case_in_district_conference(db, client, login, conference_world,
                                                                         make_conference):
    w = conference_world
    conference = make_conference(actor=w.coordinator, kind="district", cases=[w.guardian_case, w.referral_case],
                                 users=[w.guardian_user, w.agent, w.lead], started=True)
    cs.record_meeting(conference, w.coordinator, attended_participant_ids=[], minutes="두 학생 모두 논의",
                      decisions={w.guardian_case.id: dict(decision="continue", note="후견인 활동 유지", actions=[]),
                                 w.referral_case.id: dict(decision="modify", note="기관 상담 조정", actions=[])})
    db.session.commit()
    mine, other = w.guardian_case.student.name, w.referral_case.student.name
    login(w.guardian_user)
    for url in (f"/conferences/{conference.uid}", f"/conferences/{conference.uid}/print"):
        html = page(client, url)
        # the guardian's projection, as on their portal: the given name, never the full name or the note
        assert w.guardian_case.student.given_name in html and mine not in html and "후견인 활동 유지" not in html
        assert other not in html and "기관 상담 조정" not in html and "두 학생 모두 논의" not in html
    assert not events("conference_minutes_viewed")
    viewed = events("conference_case_viewed")
    assert {e.subject_ref for e in viewed} == {w.guardian_case.student.uid}

    client.post("/logout")
    login(w.agent)
    html = page(client, f"/conferences/{conference.uid}")
    # the referral shared the needs only: no name, no decision note
    assert "이름 비공개 학생" in html and other not in html and "기관 상담 조정" not in html
    assert mine not in html and "후견인 활동 유지" not in html


def test_case_without_sharing_consent_is_withheld_and_the_screen_says_so(db, client, login, conference_world,
                                                                      make_conference):
    w = conference_world
    conference = make_conference(cases=[w.guardian_case, w.private_case], users=[w.staff, w.coordinator])
    login(w.coordinator)
    html = page(client, f"/conferences/{conference.uid}")
    assert "학생 정보 비공개 (사례회의 공유 동의 없음)" in html
    assert w.private_case.student.name not in html and w.guardian_case.student.name in html
    client.post("/logout")
    login(w.lead)
    html = page(client, f"/conferences/{conference.uid}")
    assert w.private_case.student.name in html and "학교 지원팀만 논의할 수 있습니다" in html


def test_minutes_views_are_audited_and_print_has_no_navigation(db, client, login, conference_world,
                                                               make_conference):
    w = conference_world
    conference = make_conference()
    held(w, conference)
    login(w.staff)
    html = page(client, f"/conferences/{conference.uid}")
    assert "두 사례 모두 지원 유지" in html and "주 2회 학습 멘토링" in html
    printed = page(client, f"/conferences/{conference.uid}/print")
    assert "주 메뉴" not in printed and "print.css" in printed and "ieum-nav" not in printed
    assert "두 사례 모두 지원 유지" in printed and w.guardian_case.student.name in printed
    minutes = events("conference_minutes_viewed")
    assert len(minutes) == 2 and all(e.object_id == conference.uid and e.actor_id == w.staff.id for e in minutes)
    assert {e.subject_ref for e in events("conference_case_viewed")} == {
        w.guardian_case.student.uid, w.referral_case.student.uid}


def test_schedule_through_the_form(db, client, login, conference_world):
    w = conference_world
    login(w.lead)
    when = in_days(5)
    response = client.post("/conferences/new", data={
        "kind": "school_meeting", "date": when.date().isoformat(), "time": "15:30", "place": "상담실",
        "case_ids": [w.guardian_case.id, w.referral_case.id],
        "participant_user_ids": [w.guardian_user.id, w.agent.id], "ext1_name": "홍길동", "ext1_org": "주민센터"})
    assert response.status_code == 302, response.get_data(as_text=True)
    conference = db.session.execute(select(Conference)).scalar_one()
    assert len(conference.cases) == 2 and len(conference.participants) == 3
    assert conference.starts_at == dt.datetime.combine(when.date(), dt.time(6, 30))  # 15:30 KST in UTC
    html = page(client, response.headers["Location"])
    assert "15:30" in html and "홍길동" in html


@pytest.mark.parametrize("data, field, message", [
    ({"place": ""}, "place", "장소나 온라인 회의 링크 중 하나는 입력해 주세요."),
    ({"case_ids": []}, "case_ids", "논의할 사례를 하나 이상 골라 주세요."),
    ({"date": "2001-01-01"}, "date", "지난 시간으로는 회의를 잡을 수 없습니다."),
    ({"online_link": "zoom"}, "online_link", "https:// 로 시작하는 주소를 입력해 주세요."),
])
def test_schedule_form_errors_save_nothing(db, client, login, conference_world, data, field, message):
    w = conference_world
    login(w.lead)
    form = {"kind": "school_meeting", "date": in_days(5).date().isoformat(), "time": "15:00", "place": "상담실",
            "case_ids": [w.guardian_case.id]}
    form.update(data)
    response = client.post("/conferences/new", data=form)
    html = response.get_data(as_text=True)
    assert response.status_code == 400 and message in html and f'id="{field}-error"' in html
    assert count(Conference) == 0


def _record_data(w, conference, **over) -> dict:
    g, r = f"c{w.guardian_case.id}", f"c{w.referral_case.id}"
    due = (today_kst() + dt.timedelta(days=7)).isoformat()
    data = {"attended": [p.id for p in conference.participants], "minutes": "지원 유지 결정",
            f"{g}_decision": "continue", f"{g}_note": "멘토링 유지",
            f"{g}_review": (today_kst() + dt.timedelta(days=10)).isoformat(),
            f"{g}_a1_description": "주 2회 학습 멘토링", f"{g}_a1_owner_kind": "user",
            f"{g}_a1_owner_user_id": w.guardian_user.id, f"{g}_a1_due_on": due,
            f"{r}_decision": "modify", f"{r}_note": "상담 조정",
            f"{r}_a1_description": "상담 결과 회신", f"{r}_a1_owner_kind": "agency",
            f"{r}_a1_owner_agency_id": w.agency.id, f"{r}_a1_due_on": due}
    data.update(over)
    return data


def test_record_through_the_form_and_mark_item_done(db, client, login, conference_world, make_conference):
    w = conference_world
    conference = make_conference(started=True)
    login(w.lead)
    response = client.post(f"/conferences/{conference.uid}/record", data=_record_data(w, conference))
    assert response.status_code == 302, response.get_data(as_text=True)
    db.session.expire_all()
    assert conference.status == "held" and conference.minutes == "지원 유지 결정"
    assert {cc.decision for cc in conference.cases} == {"continue", "modify"}
    assert count(ActionItem) == 2

    item = db.session.execute(select(ActionItem).filter_by(owner_kind="agency")).scalar_one()
    client.post("/logout")
    login(w.guardian_user)  # not the owner: the agency's item is not even visible to the guardian
    assert client.post(f"/conferences/{conference.uid}/actions/{item.uid}/status",
                       data={"status": "done"}).status_code == 404
    client.post("/logout")
    login(w.agent)
    home = page(client, "/home/agency")
    assert "상담 결과 회신" in home
    response = client.post(f"/conferences/{conference.uid}/actions/{item.uid}/status", data={"status": "done"})
    assert response.status_code == 302
    assert "실행 과제를 &#39;완료&#39;로 바꿨습니다." in page(client, response.headers["Location"])  # 완료: 로, never (으)로
    db.session.expire_all()
    assert item.status == "done"


@pytest.mark.parametrize("over, message", [
    ({"minutes": ""}, "회의록을 입력해 주세요."),
    ({"c{g}_decision": ""}, "결정을 골라 주세요."),
    ({"c{g}_a1_due_on": "2001-01-01"}, "실행 과제의 기한은 오늘 이후여야 합니다."),
    ({"c{g}_a1_owner_user_id": ""}, "담당자를 골라 주세요."),
    ({"c{g}_review": "2001-01-01"}, "다음 점검일은 오늘 이후여야 합니다."),
])
def test_record_form_errors_save_nothing(db, client, login, conference_world, make_conference, over, message):
    w = conference_world
    conference = make_conference(started=True)
    login(w.lead)
    over = {k.replace("{g}", str(w.guardian_case.id)): v for k, v in over.items()}
    response = client.post(f"/conferences/{conference.uid}/record", data=_record_data(w, conference, **over))
    assert response.status_code == 400 and message in response.get_data(as_text=True)
    db.session.expire_all()
    assert conference.status == "scheduled" and conference.minutes is None and count(ActionItem) == 0


def test_home_panels_show_next_conference_overdue_items_and_reviews(db, client, login, conference_world,
                                                                    make_conference):
    w = conference_world
    upcoming = make_conference(starts_at=in_days(2))
    past = make_conference()
    held(w, past)
    item = db.session.execute(select(ActionItem).filter_by(owner_kind="user")).scalar_one()
    item.due_on = today_kst() - dt.timedelta(days=3)  # overdue, as time would have made it
    db.session.commit()
    login(w.guardian_user)
    home = page(client, "/home/guardian")
    assert upcoming.uid in home and "주 2회 학습 멘토링" in home and "3일 지남" in home
    client.post("/logout")
    login(w.lead)
    home = page(client, "/home/lead")
    assert "다가오는 사례회의" in home and upcoming.uid in home
    assert w.guardian_case.student.name in home and "사례 점검" in home
