"""Amending a recorded meeting: a reason, earlier versions kept, applied decisions left alone."""
from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import func, select

from app.audit.models import AuditEvent
from app.cases.chronology import case_events
from app.conferences import services as cs
from app.conferences.models import ConferenceAmendment
from app.db import today_kst
from app.domain import DomainError, NotPermitted
from app.extensions import db as _db


def amendments() -> list[ConferenceAmendment]:
    return list(_db.session.execute(select(ConferenceAmendment).order_by(ConferenceAmendment.id)).scalars())


@pytest.fixture
def held(conference_world, make_conference):
    """A held school meeting: the guardian case escalated, the referral case continued (review set)."""
    w = conference_world
    conf = make_conference(started=True)
    cs.record_meeting(conf, w.lead, attended_participant_ids=[], minutes="처음 적은 회의록", decisions={
        w.guardian_case.id: dict(decision="escalate", note="위기 수준 상향 필요", next_review_on=None, actions=[]),
        w.referral_case.id: dict(decision="continue", note="상담 유지", actions=[],
                                 next_review_on=today_kst() + dt.timedelta(days=10))})
    _db.session.commit()
    return conf


def same(w, conf, **over) -> dict:
    """The decisions as recorded, with ``over`` applied per case id."""
    out = {cc.case_id: dict(decision=cc.decision, note=cc.decision_note, next_review_on=cc.next_review_on)
           for cc in conf.cases}
    for case_id, values in over.items():
        out[int(case_id)].update(values)
    return out


def test_amend_keeps_the_earlier_version_and_leaves_a_trail(db, conference_world, held):
    w = conference_world
    conf = held
    g, r = w.guardian_case, w.referral_case
    review = today_kst() + dt.timedelta(days=20)
    cs.amend_meeting(conf, w.staff, reason="상담 횟수 오기 정정", minutes="고친 회의록", decisions=same(
        w, conf, **{str(r.id): dict(decision="modify", note="상담 주 2회로 조정", next_review_on=review),
                    str(g.id): dict(note="위기 수준 상향 필요(보호자 동의)")}))
    db.session.commit()
    assert conf.minutes == "고친 회의록"
    cc = {c.case_id: c for c in conf.cases}
    assert (cc[r.id].decision, cc[r.id].decision_note, cc[r.id].next_review_on) == ("modify", "상담 주 2회로 조정", review)
    assert cc[g.id].decision == "escalate" and cc[g.id].decision_note == "위기 수준 상향 필요(보호자 동의)"
    [first] = amendments()
    assert first.amended_by_id == w.staff.id and first.reason == "상담 횟수 오기 정정"
    assert "오기" not in first.reason_enc and "처음" not in first.previous_enc
    assert first.previous == {"minutes": "처음 적은 회의록", "cases": {
        g.uid: {"decision": "escalate", "note": "위기 수준 상향 필요", "next_review_on": None},
        r.uid: {"decision": "continue", "note": "상담 유지",
                "next_review_on": (today_kst() + dt.timedelta(days=10)).isoformat()}}}
    for case in (g, r):
        assert "사례회의 기록 수정: 상담 횟수 오기 정정" in [e.text for e in case_events(case, "conference")]
    event = db.session.execute(select(AuditEvent).filter_by(action="conference_amended")).scalar_one()
    assert event.object_id == conf.uid and event.actor_id == w.staff.id
    assert "오기" not in event.details and "고친" not in event.details and '"modify"' in event.details
    # a second amendment keeps the first version and the second
    cs.amend_meeting(conf, w.lead, reason="회의록 문장 다듬기", minutes="다시 고친 회의록", decisions=same(w, conf))
    db.session.commit()
    assert [a.previous["minutes"] for a in amendments()] == ["처음 적은 회의록", "고친 회의록"]
    assert amendments()[1].previous["cases"][r.uid]["decision"] == "modify"


def test_amend_refusals_change_nothing(db, conference_world, make_conference, held):
    w = conference_world
    conf = held
    g, r = w.guardian_case, w.referral_case
    attempts = [
        (dict(reason=" "), "수정 사유를 입력해 주세요."),
        (dict(minutes=""), "회의록을 입력해 주세요."),
        (dict(), "바뀐 내용이 없습니다"),
        (dict(decisions=same(w, conf, **{str(g.id): dict(decision="continue")})),
         f"{g.student.name} 학생 사례의 '교육지원청 요청' 결정은 이미 사례에 반영되어"),
        (dict(decisions=same(w, conf, **{str(r.id): dict(decision="close")})), "'종결' 결정은 기록 수정으로 새로 내릴 수 없습니다"),
        (dict(decisions=same(w, conf, **{str(r.id): dict(decision="escalate", note="요청")})), "'교육지원청 요청' 결정은"),
        (dict(decisions=same(w, conf, **{str(r.id): dict(next_review_on=today_kst() - dt.timedelta(days=1))})),
         "다음 점검일은 오늘 이후"),
        (dict(decisions=same(w, conf, **{str(r.id): dict(decision="maybe")})), "결정을 선택"),
        (dict(decisions={**same(w, conf), w.other_case.id: dict(decision="continue")}), "다루지 않은"),
    ]
    for over, message in attempts:
        values = dict(reason="정정", minutes=conf.minutes, decisions=same(w, conf))
        values.update(over)
        with pytest.raises(DomainError, match=message):
            cs.amend_meeting(conf, w.lead, **values)
        db.session.rollback()
    for outsider in (w.agent, w.guardian_user, w.coordinator, w.other_lead):
        with pytest.raises(NotPermitted):
            cs.amend_meeting(conf, outsider, reason="정정", minutes="x", decisions=same(w, conf))
    scheduled = make_conference(cases=[r])
    with pytest.raises(DomainError, match="결과가 기록된 회의만"):
        cs.amend_meeting(scheduled, w.lead, reason="정정", minutes="x", decisions={})
    db.session.rollback()
    assert amendments() == [] and conf.minutes == "처음 적은 회의록"
    assert db.session.execute(select(func.count()).select_from(AuditEvent)
                              .filter_by(action="conference_amended")).scalar_one() == 0


def _amend_data(w, conf, **over) -> dict:
    data = {"reason": "결정 내용 정정", "minutes": conf.minutes}
    for cc in conf.cases:
        p = f"c{cc.case_id}"
        data.update({f"{p}_decision": cc.decision, f"{p}_note": cc.decision_note or "",
                     f"{p}_review": cc.next_review_on.isoformat() if cc.next_review_on else ""})
    data.update(over)
    return data


def test_a_held_conference_leads_to_the_amend_form_not_a_bare_403(db, client, login, conference_world, held):
    w = conference_world
    login(w.lead)
    response = client.get(f"/conferences/{held.uid}/record")
    assert response.status_code == 302 and response.headers["Location"].endswith(f"/conferences/{held.uid}/amend")
    html = client.get(f"/conferences/{held.uid}/amend").get_data(as_text=True)
    assert "처음 적은 회의록" in html and 'data-testid="form-amend"' in html
    assert "이미 사례에 반영되어 바꿀 수 없습니다" in html  # the escalated case says so up front
    assert db.session.execute(select(AuditEvent).filter_by(action="conference_minutes_viewed")).scalars().all()


@pytest.mark.parametrize("who, status", [("lead", 200), ("staff", 200), ("coordinator", 403),
                                         ("guardian_user", 403), ("agent", 403), ("other_lead", 404)])
def test_amend_and_version_pages_by_role(db, client, login, conference_world, held, who, status):
    w = conference_world
    cs.amend_meeting(held, w.lead, reason="정정", minutes="고친 회의록", decisions=same(w, held))
    db.session.commit()
    amendment = amendments()[0]
    login(getattr(w, who))
    assert client.get(f"/conferences/{held.uid}/amend").status_code == status
    assert client.get(f"/conferences/{held.uid}/versions/{amendment.uid}").status_code == status
    posted = client.post(f"/conferences/{held.uid}/amend", data=_amend_data(w, held, minutes="몰래 고침"))
    assert posted.status_code == (302 if status == 200 else status)
    db.session.expire_all()
    assert (held.minutes == "몰래 고침") == (status == 200)


def test_amend_through_the_form_and_read_the_history(db, client, login, conference_world, held):
    w = conference_world
    r = w.referral_case
    login(w.staff)
    response = client.post(f"/conferences/{held.uid}/amend", data=_amend_data(w, held, reason=""))
    assert response.status_code == 400 and "수정 사유를 입력해 주세요." in response.get_data(as_text=True)
    response = client.post(f"/conferences/{held.uid}/amend", data=_amend_data(
        w, held, **{f"c{w.guardian_case.id}_decision": "continue"}))
    assert response.status_code == 400 and "이미 사례에 반영되어" in response.get_data(as_text=True)
    db.session.expire_all()
    assert amendments() == []
    response = client.post(f"/conferences/{held.uid}/amend", data=_amend_data(
        w, held, minutes="고친 회의록", **{f"c{r.id}_decision": "refer", f"c{r.id}_note": "가족센터 추가 의뢰"}))
    assert response.status_code == 302
    page = client.get(f"/conferences/{held.uid}").get_data(as_text=True)
    amendment = amendments()[0]
    assert 'data-testid="amendments"' in page and "결정 내용 정정" in page and w.staff.display_name in page
    assert f"/conferences/{held.uid}/versions/{amendment.uid}" in page and "고친 회의록" in page
    version = client.get(f"/conferences/{held.uid}/versions/{amendment.uid}").get_data(as_text=True)
    assert "처음 적은 회의록" in version and "상담 유지" in version and "고친 회의록" not in version
    assert db.session.execute(select(AuditEvent).filter_by(action="conference_version_viewed")).scalar_one()
    # a participant who sees only one of the cases sees who amended when, but not the reason
    client.post("/logout")
    login(w.guardian_user)
    page = client.get(f"/conferences/{held.uid}").get_data(as_text=True)
    assert 'data-testid="amendments"' in page and "결정 내용 정정" not in page and "/versions/" not in page
    printed = client.get(f"/conferences/{held.uid}/print").get_data(as_text=True)
    assert "이 기록은 1회 수정되었습니다" in printed
