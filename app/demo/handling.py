"""Demo 취급승인 and training: every demo account is approved and trained, so each printed login
opens its pages.  The admin is approved by the operator (as `flask users create` does for the
first admin), staff by the admin, guardian logins by their office's coordinator — each through
the real services, so the grant history shows who did it.  demo-school2's training lapses in 20
days: `flask users training-reminders` has something to say."""
from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from ..auth.handling import approve_handling, record_training, valid_days
from ..auth.models import User
from ..db import today_kst
from ..extensions import db
from ..guardians.models import Guardian
from ..guardians.recipients import office_coordinators

#: days since the last training, per demo login (the rest: TRAINED_DAYS_AGO)
TRAINED_DAYS_AGO = 60
LAPSING_SOON = {"demo-school2": 20}   # login -> days of training left


def _clear(user: User, actor: User | None, today: dt.date, guardian=None) -> None:
    if user.handling_approved_at is None:
        approve_handling(user, actor, "데모: 보안 서약서 확인", guardian=guardian)
    left = LAPSING_SOON.get(user.login)
    day = today - dt.timedelta(days=valid_days() - left) if left else today - dt.timedelta(days=TRAINED_DAYS_AGO)
    record_training(user, actor, day, reason="데모: 개인정보 보호 교육", guardian=guardian)


def seed() -> None:
    """Approve every demo account and record its training."""
    today = today_kst()
    admin = db.session.execute(select(User).filter_by(login="demo-admin")).scalar_one()
    _clear(admin, None, today)
    guardians = {g.user_id: g for g in db.session.execute(
        select(Guardian).where(Guardian.user_id.is_not(None))).scalars()}
    users = list(db.session.execute(select(User).where(User.active.is_(True), User.id != admin.id)
                                    .order_by(User.id)).scalars())
    for user in users:
        if user.id not in guardians:
            _clear(user, admin, today)
    for user in users:
        guardian = guardians.get(user.id)
        if guardian is not None:
            coordinator = next(iter(office_coordinators(guardian.office_code)), None)
            _clear(user, coordinator or admin, today, guardian if coordinator else None)
    db.session.flush()
