"""`flask agencies escalate-overdue`: a referral past its answer day reaches the school's leads and
the office's coordinators (and reminds the agency) once, whatever the number of runs (freezegun)."""
from __future__ import annotations

import datetime as dt

from freezegun import freeze_time
from sqlalchemy import func, select

from app.agencies import referrals as r
from app.agencies.referral_queries import agency_student_label
from app.cases.models import CaseEvent
from app.notifications.models import Notification

from .test_referrals import audit, draft, make_world


def _alerts(db, kind="referral_overdue"):
    return list(db.session.execute(select(Notification).filter_by(kind=kind).order_by(Notification.user_id)).scalars())


def _run(app):
    result = app.test_cli_runner().invoke(args=["agencies", "escalate-overdue"])
    assert result.exit_code == 0, result.output
    return result.output


def test_overdue_referral_alerts_school_side_and_agency_once(app, db, build, agency_with_service):
    with freeze_time("2026-11-23 01:00:00"):  # Mon 10:00 KST; answer by Mon 30 Nov
        w = make_world(build, agency_with_service)
        referral = draft(w)
        r.send_referral(referral, w.staff)
        db.session.commit()
        assert referral.respond_by == dt.date(2026, 11, 30)
    with freeze_time("2026-11-30 08:00:00"):  # the last day is still in time
        _run(app)
        assert _alerts(db) == []
    with freeze_time("2026-12-01 00:30:00"):  # 09:30 KST on the next day: overdue
        output = _run(app)
        assert "1" in output
        alerts = _alerts(db)
        assert {a.user_id for a in alerts} == {w.lead.id, w.coordinator.id, w.agent.id}
        by_user = {a.user_id: a for a in alerts}
        assert by_user[w.lead.id].case_id == w.case.id
        assert by_user[w.agent.id].case_id is None  # the agency has no case
        assert by_user[w.lead.id].link == f"/agencies/referrals/{referral.uid}"
        assert by_user[w.agent.id].link == f"/agencies/inbox/{referral.uid}"
        # the agency's words name the student only as the referral shares them
        assert agency_student_label(referral) in str(by_user[w.agent.id].text)
        assert len(audit(db, "referral_overdue_escalated")) == 1
        events = db.session.execute(select(func.count(CaseEvent.id)).where(CaseEvent.case_id == w.case.id)).scalar_one()
    with freeze_time("2026-12-02 00:30:00"):  # a second day: nothing new
        _run(app)
        assert len(_alerts(db)) == 3
        assert len(audit(db, "referral_overdue_escalated")) == 1
        assert db.session.execute(select(func.count(CaseEvent.id)).where(
            CaseEvent.case_id == w.case.id)).scalar_one() == events


def test_answered_referral_is_not_escalated_and_answer_resolves_alerts(app, db, build, agency_with_service):
    with freeze_time("2026-11-23 01:00:00"):
        w = make_world(build, agency_with_service)
        answered, late = draft(w), draft(w)
        r.send_referral(answered, w.staff)
        r.send_referral(late, w.staff)
        r.accept_referral(answered, w.agent)
        db.session.commit()
    with freeze_time("2026-12-01 00:30:00"):
        _run(app)
        assert {a.object_key for a in _alerts(db)} == {f"referral:{late.id}"}
        r.accept_referral(late, w.agent)  # answering late resolves every overdue alert about it
        db.session.commit()
        assert all(a.resolved_at is not None for a in _alerts(db))
