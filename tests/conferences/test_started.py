"""Results can be recorded only once the meeting has started (time frozen with freezegun)."""
from __future__ import annotations

import datetime as dt

import pytest
from freezegun import freeze_time

from app.conferences import services as cs
from app.domain import DomainError
from app.extensions import db as _db


def decisions(w) -> dict:
    return {w.guardian_case.id: dict(decision="continue", note="", next_review_on=None, actions=[]),
            w.referral_case.id: dict(decision="continue", note="", next_review_on=None, actions=[])}


def test_the_service_refuses_before_the_start_and_records_from_it(db, conference_world, make_conference):
    w = conference_world
    conf = make_conference()
    starts = conf.starts_at
    label = cs.kst_label(starts)
    with freeze_time(starts - dt.timedelta(minutes=1)):
        with pytest.raises(DomainError, match=f"회의가 시작된 뒤에 결과를 기록할 수 있습니다. 이 회의는 {label}에 시작합니다."):
            cs.record_meeting(conf, w.lead, attended_participant_ids=[p.id for p in conf.participants],
                              minutes="회의록", decisions=decisions(w))
        _db.session.rollback()
    assert conf.status == "scheduled" and conf.minutes is None
    assert all(p.attended is None for p in conf.participants)
    with freeze_time(starts):
        cs.record_meeting(conf, w.lead, attended_participant_ids=[], minutes="회의록", decisions=decisions(w))
        _db.session.commit()
    assert conf.status == "held" and conf.held_at == starts


def test_the_record_page_says_when_it_opens(db, client, login, conference_world, make_conference):
    w = conference_world
    conf = make_conference()
    label = cs.kst_label(conf.starts_at)
    with freeze_time(conf.starts_at - dt.timedelta(hours=2)):
        login(w.lead)
        page = client.get(f"/conferences/{conf.uid}").get_data(as_text=True)
        assert 'data-testid="record-link"' not in page
        assert f"회의 결과는 회의가 시작되는 {label}부터 기록할 수 있습니다." in page
        response = client.get(f"/conferences/{conf.uid}/record")
        html = response.get_data(as_text=True)
        assert response.status_code == 200 and 'data-testid="record-not-yet"' in html
        assert f"이 회의는 {label}(한국 시간)에 시작합니다." in html and 'data-testid="form-record"' not in html
        g = f"c{w.guardian_case.id}"
        response = client.post(f"/conferences/{conf.uid}/record", data={
            "minutes": "미리 적은 회의록", f"{g}_decision": "continue", "attended": [p.id for p in conf.participants]})
        assert response.status_code == 400 and "회의가 시작된 뒤에" in response.get_data(as_text=True)
        client.post("/logout")
    _db.session.expire_all()
    assert conf.status == "scheduled" and conf.minutes is None
    with freeze_time(conf.starts_at + dt.timedelta(minutes=5)):
        login(w.lead)
        page = client.get(f"/conferences/{conf.uid}").get_data(as_text=True)
        assert 'data-testid="record-link"' in page and 'data-testid="record-opens"' not in page
        html = client.get(f"/conferences/{conf.uid}/record").get_data(as_text=True)
        assert 'data-testid="form-record"' in html
