"""The answer day (5 business days, Korean holidays excluded) and `flask records transfers-overdue`:
both schools' leads and both offices' coordinators are alerted once, whatever the number of runs;
overdue transfers show on both schools' homes and both offices' coordinator homes (freezegun)."""
from __future__ import annotations

import datetime as dt

from freezegun import freeze_time
from sqlalchemy import select

from app.audit.models import AuditEvent
from app.extensions import db
from app.notifications.models import Notification
from app.records.transfer_services import accept_transfer

from .transfer_helpers import client_for, make_world, send


def _alerts():
    return list(db.session.execute(select(Notification).filter_by(kind="transfer_overdue")
                                   .order_by(Notification.user_id)).scalars())


def _run(app):
    result = app.test_cli_runner().invoke(args=["records", "transfers-overdue"])
    assert result.exit_code == 0, result.output
    return result.output


def _audits(action):
    return db.session.execute(select(AuditEvent).where(AuditEvent.action == action)).scalars().all()


def test_the_answer_day_skips_weekends_and_christmas(app, build):
    with freeze_time("2026-12-21 01:00:00"):  # Mon 10:00 KST; Fri 25 Dec is a holiday
        w = make_world(build)
        assert send(w).due_on == dt.date(2026, 12, 29)


def test_overdue_alerts_both_schools_and_both_offices_once(app, build):
    with freeze_time("2026-12-21 01:00:00"):
        w = make_world(build)
        transfer = send(w)
    with freeze_time("2026-12-29 08:00:00"):  # the last day (17:00 KST) is still in time
        _run(app)
        assert _alerts() == []
        home = client_for(app, w.new_coord).get("/home/district").get_data(as_text=True)
        assert 'data-testid="home-transfers-overdue"' not in home
    with freeze_time("2026-12-30 00:30:00"):  # 09:30 KST the next day: overdue
        output = _run(app)
        assert "1" in output
        alerts = _alerts()
        assert {a.user_id for a in alerts} == {w.old_lead.id, w.new_lead.id, w.old_coord.id, w.new_coord.id}
        assert all(a.link == f"/records/transfers/{transfer.uid}" for a in alerts)
        assert len(_audits("transfer_overdue_alerted")) == 1
        for user, home_url in ((w.old_lead, "/home/lead"), (w.new_lead, "/home/lead"),
                               (w.old_coord, "/home/district"), (w.new_coord, "/home/district")):
            home = client_for(app, user).get(home_url).get_data(as_text=True)
            assert 'data-testid="home-transfer-overdue"' in home, user.login
            assert w.student.name in home
        third = client_for(app, w.third_lead).get("/home/lead").get_data(as_text=True)
        assert w.student.name not in third
        overdue_list = client_for(app, w.new_coord).get("/records/transfers?view=overdue").get_data(as_text=True)
        assert transfer.uid in overdue_list
    with freeze_time("2026-12-31 00:30:00"):  # a second run: nothing new
        _run(app)
        assert len(_alerts()) == 4
        assert len(_audits("transfer_overdue_alerted")) == 1
    with freeze_time("2026-12-31 02:00:00"):  # the answer resolves the overdue alerts for everyone
        accept_transfer(db.session.merge(transfer), w.new_lead)
        db.session.commit()
        assert all(a.resolved_at is not None for a in _alerts())
        home = client_for(app, w.new_coord).get("/home/district").get_data(as_text=True)
        assert 'data-testid="home-transfer-overdue"' not in home


def test_an_answered_transfer_is_never_overdue(app, build):
    with freeze_time("2026-12-21 01:00:00"):
        w = make_world(build, consent=False)
        transfer = send(w)
    with freeze_time("2026-12-22 01:00:00"):
        accept_transfer(transfer, w.new_lead)
        db.session.commit()
    with freeze_time("2027-01-05 01:00:00"):
        _run(app)
        assert _alerts() == []
