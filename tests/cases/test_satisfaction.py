"""The satisfaction survey of a closed case (issue 14): the school team records a score of 1-5 and
an encrypted comment per party, once per party (a second entry corrects the first), only after the
support has ended; refusals change nothing; the comment is sealed at rest."""
from __future__ import annotations

import datetime as dt
import json

import pytest
from freezegun import freeze_time
from sqlalchemy import func, select, text

from app.cases.models import CaseEvent
from app.cases.satisfaction import CaseSatisfaction, record_satisfaction
from app.db import today_kst
from app.domain import DomainError, NotPermitted
from app.extensions import db

from .test_page_views import audit, sign_in


@pytest.fixture
def closed(build):
    school = build.school()
    lead = build.user("school_lead", organisation=school)
    return build.case(school=school, status="closed", lead=lead), lead


def surveys() -> int:
    return db.session.scalar(select(func.count()).select_from(CaseSatisfaction))


def form(party="student", score="4", comment="선생님이 잘 도와주셨어요", day=None) -> dict:
    return {"sat-party": party, "sat-score": score, "sat-comment": comment,
            "sat-surveyed_on": (day or today_kst()).isoformat()}


def test_the_team_records_both_parties_and_a_second_entry_corrects(app, closed):
    case, lead = closed
    client = sign_in(app, lead)
    assert client.post(f"/cases/{case.uid}/satisfaction", data=form()).status_code == 302
    assert client.post(f"/cases/{case.uid}/satisfaction", data=form("parent", "5", "")).status_code == 302
    assert client.post(f"/cases/{case.uid}/satisfaction", data=form("student", "2", "")).status_code == 302
    rows = {s.party: s for s in db.session.scalars(select(CaseSatisfaction))}
    assert {p: s.score for p, s in rows.items()} == {"student": 2, "parent": 5}
    assert rows["student"].comment is None and surveys() == 2
    events = audit(db, "case_satisfaction_recorded")
    assert [json.loads(e.details)["corrected"] for e in events] == [False, False, True]
    assert all("선생님" not in str(e.details) for e in events)
    page = client.get(f"/cases/{case.uid}").get_data(as_text=True)
    assert 'data-testid="satisfaction-parent"' in page and "5점" in page
    kinds = db.session.scalars(select(CaseEvent.kind).filter_by(case_id=case.id)).all()
    assert kinds.count("satisfaction") == 3


def test_the_comment_is_encrypted_at_rest(app, closed):
    case, lead = closed
    record_satisfaction(case, lead, party="parent", score=3, comment="비밀 의견 내용")
    db.session.commit()
    raw = db.session.execute(text("SELECT comment_enc FROM case_satisfaction")).scalar_one()
    assert raw and "비밀" not in raw
    assert db.session.scalar(select(CaseSatisfaction)).comment == "비밀 의견 내용"


@pytest.mark.parametrize("data, field, message", [
    (form(score="6"), "sat-score", "1점부터 5점"),
    (form(score=""), "sat-score", "1점부터 5점"),
    (form(party="teacher"), "sat-party", "학생 또는 보호자"),
    (form(comment="가" * 1001), "sat-comment", "1,000자 이내"),
])
def test_bad_input_gets_a_message_and_saves_nothing(app, closed, data, field, message):
    case, lead = closed
    response = sign_in(app, lead).post(f"/cases/{case.uid}/satisfaction", data=data)
    assert response.status_code == 400 and message in response.get_data(as_text=True)
    assert surveys() == 0


def test_a_future_or_pre_closure_survey_day_is_refused(app, closed):
    case, lead = closed
    client = sign_in(app, lead)
    future = client.post(f"/cases/{case.uid}/satisfaction", data=form(day=today_kst() + dt.timedelta(days=1)))
    before = client.post(f"/cases/{case.uid}/satisfaction", data=form(day=today_kst() - dt.timedelta(days=3)))
    assert future.status_code == before.status_code == 400
    assert "오늘이나 그 전" in future.get_data(as_text=True)
    assert "종결일과 같거나 그 뒤" in before.get_data(as_text=True)
    assert surveys() == 0


def test_only_a_case_whose_support_ended_can_be_surveyed(app, build):
    school = build.school()
    lead = build.user("school_lead", organisation=school)
    case = build.case(school=school, status="in_support", lead=lead)
    with pytest.raises(DomainError, match="종결"):
        record_satisfaction(case, lead, party="student", score=5)
    page = sign_in(app, lead).get(f"/cases/{case.uid}").get_data(as_text=True)
    assert "form-satisfaction" not in page and 'data-testid="case-satisfaction"' not in page


def test_other_schools_and_other_roles_are_refused(app, build, closed):
    case, _lead = closed
    stranger = build.user("school_lead", organisation=build.school())
    assert sign_in(app, stranger).post(f"/cases/{case.uid}/satisfaction", data=form()).status_code == 404
    coordinator = build.user("district_coordinator", organisation=build.organisation("district_office"))
    assert sign_in(app, coordinator).post(f"/cases/{case.uid}/satisfaction", data=form()).status_code == 403
    with pytest.raises(NotPermitted):
        record_satisfaction(case, coordinator, party="student", score=5)
    assert surveys() == 0


def test_the_survey_day_is_kst(app, closed):
    case, lead = closed
    case.closed_on = dt.date(2026, 12, 1)  # before the frozen day, whatever day the suite runs on
    with freeze_time("2026-12-02 15:30:00"):  # already 3 December in Seoul
        survey = record_satisfaction(case, lead, party="student", score=4)
    assert survey.surveyed_on == dt.date(2026, 12, 3)
