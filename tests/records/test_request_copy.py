"""The 열람 copy holds every encrypted value about the student, and nothing of another student.

The encrypted fields are found by walking the SQLAlchemy mappers (every model with a student or
case key), so an encrypted column added later by any feature is checked without editing this test:
the test fails until the fixture below gives it a row (and the copy prints it)."""
from __future__ import annotations

import datetime as dt
import json

import pytest
from sqlalchemy import inspect as sa_inspect, select

from app.agencies import referrals as r
from app.agencies.models import ServiceRecord
from app.audit.models import AuditEvent
from app.cases import notes as case_notes
from app.cases.plan import add_plan_action
from app.cases.satisfaction import CaseSatisfaction
from app.conferences import services as cs
from app.db import EncryptedDate, EncryptedJSON, encrypted_fields_of, today_kst
from app.extensions import db
from app.guardians.activity import log_activity
from app.notifications.services import notify
from app.records.request_copy import tied_models
from app.students.models import Student
from app.words import date_text

from ..agencies.conftest import agency_with_service  # noqa: F401  (fixture)
from ..conferences.conftest import conference_world, make_conference  # noqa: F401  (fixtures)
from ..factories import consent_both
from ..guardians.conftest import coordinator, eligible_guardian  # noqa: F401  (fixtures)
from .request_helpers import get, make_request, sign_in


def rows_of(model, student):
    """The rows of ``model`` that belong to ``student`` (by student key, or by their cases' key)."""
    from app.cases.models import SupportCase
    from app.records.request_copy import belongs_to
    case_ids = list(db.session.scalars(select(SupportCase.id).where(SupportCase.student_id == student.id)))
    return db.session.scalars(select(model).where(belongs_to(model, student.id, case_ids))).all()


def fill_missing(student, case, user) -> list[str]:
    """A row (required columns filled plainly) for every model with encrypted fields that
    ``student`` has no row of yet: a table added by another feature is covered the day it lands."""
    import sqlalchemy as sa
    from app.db import utcnow
    made = []
    for model in tied_models():
        if not encrypted_fields_of(model) or rows_of(model, student):
            continue
        values = {}
        for column in sa_inspect(model).columns:
            own_key = column.primary_key and column.autoincrement is not False and not column.foreign_keys
            if column.key == "uid" or own_key:
                continue
            if column.nullable or column.default is not None or column.server_default is not None:
                continue
            target = next(iter(column.foreign_keys)).column.table.name if column.foreign_keys else None
            if target:
                values[column.key] = {"student": student.id, "support_case": case.id, "organisation": student.school_id,
                                      "user_account": user.id}[target]
            elif isinstance(column.type, sa.DateTime):
                values[column.key] = utcnow()
            elif isinstance(column.type, sa.Date):
                values[column.key] = today_kst()
            elif isinstance(column.type, sa.Boolean):
                values[column.key] = False
            elif isinstance(column.type, sa.Integer):
                values[column.key] = 1
            elif isinstance(column.type, sa.JSON):
                values[column.key] = {}
            else:
                values[column.key] = "x"
        db.session.add(model(**values))
        made.append(model.__tablename__)
    db.session.commit()
    return made


def mark(student, prefix: str) -> dict:
    """Give every encrypted field of every row of ``student`` a distinctive value; returns
    {(table, field): [the values as the copy writes them]}."""
    marks: dict = {}
    n = 0
    for model in [Student, *tied_models()]:
        rows = [student] if model is Student else rows_of(model, student)
        for name, descriptor in encrypted_fields_of(model).items():
            for row in rows:
                n += 1
                if isinstance(descriptor, EncryptedDate):
                    value = dt.date(2001, 1, 1) + dt.timedelta(days=n + (500 if prefix != "표식" else 0))
                    shown = date_text(value)
                elif isinstance(descriptor, EncryptedJSON):
                    shown = f"{prefix}-{model.__tablename__}-{name}-{n}"
                    value = {"needs": shown}
                else:
                    value = shown = f"{prefix}-{model.__tablename__}-{name}-{n}"
                setattr(row, name, value)
                marks.setdefault((model.__tablename__, name), []).append(shown)
    db.session.commit()
    return marks


@pytest.fixture
def full_world(conference_world, make_conference, build):  # noqa: F811
    """The conference world with one row of every kind for the guardian case's student, a
    conference about that student alone and one held together with another student."""
    w = conference_world
    case = w.guardian_case
    add_plan_action(case, w.lead, goal="출석 안정", action="주 1회 상담")
    case_notes.add_note(case, w.lead, kind="counselling", body="상담함")
    escalation = case_notes.escalate_case(case, w.lead, reason="학교만으로 어려움")
    db.session.commit()
    case_notes.reply_to_escalation(escalation, case, w.coordinator, reply="센터가 함께 봅니다")
    log_activity(w.assignment, w.guardian_user, occurred_on=today_kst(), minutes=40, kind="daily_life",
                 notes="함께 숙제", concern=True, concern_description="보호자가 자주 집을 비움")
    db.session.commit()
    consent_both(case, w.lead, purposes=("agency_referral",), agency_kinds=[w.agency.agency_kind])
    referral = r.create_referral(case, w.staff, agency=w.agency, service=w.service, reason="정서 상담",
                                 shared_items=["needs"])
    db.session.flush()
    db.session.add(ServiceRecord(referral_id=referral.id, occurred_on=today_kst(), kind="counselling",
                                 created_by_id=w.agent.id))
    db.session.add(CaseSatisfaction(case_id=case.id, party="student", score=4, surveyed_on=today_kst(),
                                    recorded_by_id=w.lead.id))
    notify(w.lead.id, "case", "사례 알림", case_id=case.id)
    w.assignment.end_request_note = "종료 요청"
    case.withdraw_reason = "철회 사유"
    case.needs[0].outcome_note = "결과"
    db.session.commit()
    soon = today_kst() + dt.timedelta(days=7)
    w.solo = make_conference(cases=[case], started=True, externals=[("외부인", "구청")])
    cs.record_meeting(w.solo, w.lead, attended_participant_ids=[], minutes="혼자 회의록", decisions={
        case.id: dict(decision="continue", note="유지", next_review_on=soon, actions=[
            dict(description="학교 회의", owner_kind="school_team", due_on=soon)])})
    db.session.commit()
    cs.amend_meeting(w.solo, w.lead, reason="오기 정정", minutes="혼자 회의록(고침)", decisions={
        str(case.id): dict(decision="continue", note="유지(고침)", next_review_on=soon)})
    w.joint = make_conference(started=True)
    cs.record_meeting(w.joint, w.lead, attended_participant_ids=[], minutes="함께 회의록", decisions={
        case.id: dict(decision="continue", note="", next_review_on=None, actions=[]),
        w.referral_case.id: dict(decision="continue", note="다른 학생 결정", next_review_on=None, actions=[])})
    db.session.commit()
    w.request = make_request(w.lead, case.student, kind="access")
    make_request(w.lead, case.student, kind="correction")
    w.student = case.student
    w.solo.minutes = "표식-혼자-회의록"
    w.joint.minutes = "타학생표식-함께-회의록"
    db.session.commit()
    return w


def test_the_copy_has_every_encrypted_value_of_the_student_and_nothing_of_another(app, full_world):
    w = full_world
    fill_missing(w.student, w.guardian_case, w.lead)
    marks = mark(w.student, "표식")
    mark(w.referral_case.student, "타학생표식")  # in the joint conference
    mark(w.private_case.student, "타학생표식")  # same school, another case
    missing_rows = [f"{model.__tablename__}.{name}" for model in [Student, *tied_models()]
                    for name in encrypted_fields_of(model) if (model.__tablename__, name) not in marks]
    assert not missing_rows, f"give these encrypted fields a row in full_world: {missing_rows}"
    # an alert naming the guardian: the text is in the copy, the guardian's name masked
    notify(w.lead.id, "case", f"교육후견인 {w.guardian.name}님이 일정 변경을 알렸습니다", case_id=w.guardian_case.id)
    db.session.commit()
    client = sign_in(app, w.lead)
    html = get(client, f"/records/requests/{w.request.uid}/copy")
    assert html.status_code == 200
    page = html.get_data(as_text=True)
    download = get(client, f"/records/requests/{w.request.uid}/copy.json")
    assert download.status_code == 200 and "attachment" in download.headers["Content-Disposition"]
    document = json.loads(download.get_data(as_text=True))
    text = json.dumps(document, ensure_ascii=False)
    absent = {key: values for key, values in marks.items()
              if any(v not in page for v in values) or any(v not in text for v in values)}
    assert not absent, f"missing from the copy: {absent}"
    assert "표식-혼자-회의록" in page and "표식-혼자-회의록" in text
    assert "혼자 회의록(고침)" not in page and "혼자 회의록" in page  # the version before the amendment
    assert "타학생표식" not in page and "타학생표식" not in text
    assert w.referral_case.student.name not in page
    withheld = " ".join(item["what"] + item["why"] for item in document["withheld"])
    assert "회의록" in withheld and "서비스 제공 기록" in withheld and "외부 참석자" in withheld
    assert "교육후견인" in withheld
    assert "교육후견인 ○○○님이 일정 변경을 알렸습니다" in page and w.guardian.name not in page
    assert w.guardian.name not in text and "가렸습니다" in withheld


def test_each_copy_is_audited_with_the_request_as_reason(app, full_world):
    w = full_world
    client = sign_in(app, w.lead)
    get(client, f"/records/requests/{w.request.uid}/copy")
    get(client, f"/records/requests/{w.request.uid}/copy.json")
    events = db.session.scalars(select(AuditEvent).where(AuditEvent.object_id == w.request.uid,
                                                         AuditEvent.action.like("subject_copy_%"))).all()
    assert [e.action for e in events] == ["subject_copy_viewed", "subject_copy_exported"]
    for event in events:
        assert event.subject_ref == w.student.uid and w.request.uid in event.reason
        assert w.student.name not in (event.details or "") and w.student.name not in event.reason
