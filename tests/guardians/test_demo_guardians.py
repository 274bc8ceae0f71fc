"""flask demo seed gives the guardian programme something in every state."""
import datetime as dt

from sqlalchemy import func, select

from app.auth.models import User
from app.db import today_kst
from app.guardians.models import ASSIGNMENT_STATUSES, GUARDIAN_STATUSES, ActivityLog, Assignment, Guardian, RecordCheck
from app.notifications.models import Notification


def test_demo_seed_guardians_in_every_state(app, db):
    result = app.test_cli_runner().invoke(args=["demo", "seed", "--password", "Demo-pass-2026!"])
    assert result.exit_code == 0, result.output
    assert set(db.session.scalars(select(Guardian.status))) == set(GUARDIAN_STATUSES)
    assert set(db.session.scalars(select(Assignment.status))) == set(ASSIGNMENT_STATUSES)
    demo = db.session.execute(select(User).filter_by(login="demo-guardian")).scalar_one()
    mine = db.session.execute(select(Guardian).filter_by(user_id=demo.id)).scalar_one()
    assert db.session.scalar(select(func.count(Assignment.id)).filter_by(guardian_id=mine.id, status="active")) == 1
    soon = today_kst() + dt.timedelta(days=7)
    assert db.session.scalar(select(func.count(RecordCheck.id)).where(
        RecordCheck.result == "clear", RecordCheck.valid_until >= today_kst(), RecordCheck.valid_until <= soon)) >= 1
    assert db.session.scalar(select(func.count(ActivityLog.id)).where(ActivityLog.concern.is_(True))) == 1
    # the concern reached the school team and the coordinator
    assert db.session.scalar(select(func.count(Notification.id)).filter_by(kind="concern")) >= 2
