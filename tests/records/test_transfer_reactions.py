"""``student_transferred``: guardian assignments and referrals that travel with the case are
reviewed by the coordinators of both offices (alerted once), and the case's review date follows
it to the new school (conferences' case_review)."""
from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from app.audit.models import AuditEvent
from app.conferences import services as cs
from app.conferences.models import CaseReview
from app.db import today_kst
from app.extensions import db
from app.notifications.models import Notification
from app.records.transfer_services import accept_transfer, send_transfer

from ..agencies.conftest import agency_with_service  # noqa: F401  (fixture)
from ..conferences.conftest import conference_world, make_conference  # noqa: F401  (fixtures)
from ..factories import consent_both
from ..guardians.conftest import coordinator, eligible_guardian  # noqa: F401  (fixtures)


def _move(w, build, case):
    new = build.school(gu="강남구", name="역삼전입초등학교")
    new_lead = build.user("school_lead", organisation=new)
    new_coord = build.user("district_coordinator", organisation=build.organisation("district_office", "강남구"))
    consent_both(case, w.lead, purposes=("transfer",))
    transfer = send_transfer(case, w.lead, to_school=new)
    db.session.commit()
    accept_transfer(transfer, new_lead)
    db.session.commit()
    return transfer, new, new_coord


def _review_alerts(case):
    return list(db.session.execute(select(Notification).where(
        Notification.kind == "transfer", Notification.case_id == case.id)).scalars())


def test_guardian_assignments_are_reviewed_by_both_offices(app, build, conference_world):  # noqa: F811  (fixtures)
    w = conference_world
    transfer, new, new_coord = _move(w, build, w.guardian_case)
    alerts = _review_alerts(w.guardian_case)
    assert {a.user_id for a in alerts} == {w.coordinator.id, new_coord.id}
    by_user = {a.user_id: a for a in alerts}
    assert by_user[new_coord.id].link == f"/cases/{w.guardian_case.uid}"
    assert by_user[w.coordinator.id].link == f"/guardians/{w.guardian.uid}"  # the old office manages the guardian
    assert "교육후견인 배정 1건" in str(by_user[new_coord.id].text)
    event = db.session.execute(select(AuditEvent).where(AuditEvent.action == "transfer_review_requested")).scalar_one()
    assert '"kind":"assignments"' in event.details
    assert w.assignment.status == "active"  # nothing is ended by the move itself


def test_open_referrals_are_reviewed_by_both_offices(app, build, conference_world):  # noqa: F811  (fixtures)
    w = conference_world
    _transfer, _new, new_coord = _move(w, build, w.referral_case)
    alerts = _review_alerts(w.referral_case)
    assert {a.user_id for a in alerts} == {w.coordinator.id, new_coord.id}
    assert all("기관 의뢰 1건" in str(a.text) for a in alerts)


def test_a_case_without_assignments_or_referrals_alerts_nobody(app, build, conference_world):  # noqa: F811  (fixtures)
    w = conference_world
    _move(w, build, build.case(school=w.school, status="in_support", lead=w.lead))
    assert not db.session.execute(select(AuditEvent).where(AuditEvent.action == "transfer_review_requested")).all()


def test_the_review_date_follows_the_case(app, build, conference_world, make_conference):  # noqa: F811  (fixtures)
    w = conference_world
    conference = make_conference(started=True)
    cs.record_meeting(conference, w.lead, attended_participant_ids=[], minutes="회의록", decisions={
        w.guardian_case.id: dict(decision="continue", note="", next_review_on=None, actions=[]),
        w.referral_case.id: dict(decision="continue", note="", actions=[],
                                 next_review_on=today_kst() + dt.timedelta(days=10))})
    db.session.commit()
    review = db.session.get(CaseReview, w.referral_case.id)
    assert review.school_id == w.school.id
    _transfer, new, _coord = _move(w, build, w.referral_case)
    db.session.expire_all()
    review = db.session.get(CaseReview, w.referral_case.id)
    assert (review.school_id, review.office_code) == (new.id, new.office_code)
