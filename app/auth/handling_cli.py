"""Handling approval on the command line (added to the `flask users` group):

- `flask users training-reminders` (daily): 30 days before an account's 개인정보 training lapses,
  alert the account and every active admin; rerunning sends nothing twice (dedupe keys).
- `flask users approve LOGIN --reason …`, `flask users withdraw-approval LOGIN --reason …`,
  `flask users record-training LOGIN --on YYYY-MM-DD`: the operator's way (grant changes with no
  actor) for the first admin and for a sole admin whose training lapsed.
"""
from __future__ import annotations

import datetime as dt

import click
from flask_babel import gettext as _, lazy_gettext as _l
from sqlalchemy import select

from ..audit.services import record
from ..db import today_kst
from ..domain import DomainError
from ..extensions import db
from ..conferences.common import due_message, short_day_message
from ..i18n import date_words
from ..permissions import ADMIN
from .cli import users
from .handling import (REMIND_DAYS, TRAINING_KEY, approve_handling, record_training, training_valid_until,
                       valid_days, who_decides, withdraw_handling)
from .models import User
from .services import login_key


def _expiring_ids(today: dt.date) -> list[int]:
    """Active accounts whose training lapses within REMIND_DAYS (and has not lapsed yet)."""
    first = today - dt.timedelta(days=valid_days())     # trained on this day: the last valid day is today
    last = first + dt.timedelta(days=REMIND_DAYS)       # trained on this day: lapses in REMIND_DAYS days
    return list(db.session.execute(select(User.id).where(
        User.active.is_(True), User.training_on >= first, User.training_on <= last).order_by(User.id)).scalars())


def _admins() -> list[User]:
    return list(db.session.execute(
        select(User).where(User.role == ADMIN, User.active.is_(True)).order_by(User.id)).scalars())


def remind_training(user: User, admins: list[User], today: dt.date) -> int:
    """Alert the account and each active admin once about this training date; returns how many were new."""
    from ..notifications.services import notify, object_key
    until = training_valid_until(user.training_on)
    left = due_message(until, today)
    day = short_day_message(until)
    about = object_key(TRAINING_KEY, user.id)
    key = f"training-expiring:{user.id}:{user.training_on:%Y%m%d}"
    sent = [notify(user.id, "training_expiring",
                   _l("개인정보 보호 교육의 유효기간이 %(day)s에 끝납니다(%(left)s). 그 전에 교육을 다시 받고 "
                      "%(who)s에게 이수일 기록을 요청해 주세요. 기간이 지나면 학생 정보를 열 수 없습니다.", day=day,
                      left=left, who=who_decides(user)), link="/account/clearance", about=about,
                   dedupe_key=f"{key}:{user.id}")]
    for admin in admins:
        if admin.id != user.id:
            sent.append(notify(admin.id, "training_expiring",
                               _l("%(name)s(%(login)s) 계정의 개인정보 보호 교육 유효기간이 %(day)s에 끝납니다"
                                  "(%(left)s). 새 이수일을 기록해 주세요.", name=user.display_name, login=user.login,
                                  day=day, left=left),
                               link=f"/handling/{user.uid}", about=about, dedupe_key=f"{key}:{admin.id}"))
    new = sum(1 for note in sent if note is not None)
    if new:
        record("training_expiry_warned", obj=user, actor=None,
               details={"valid_until": until.isoformat(), "notified": new})
    return new


@users.command("training-reminders")
def training_reminders():
    """매일 실행: 개인정보 교육 만료 30일 전에 본인과 시스템 관리자 전원에게 알림 (다시 실행해도 한 번만)."""
    today = today_kst()
    ids = _expiring_ids(today)
    admins = _admins()
    notified = 0
    with click.progressbar(ids, label=_("교육 만료 예정"), show_pos=True) as bar:
        for user_id in bar:
            notified += remind_training(db.session.get(User, user_id), admins, today)
            db.session.commit()  # one account at a time: a stopped run resumes, dedupe keys skip the rest
    click.echo(_("%(day)s: 교육 만료 예정 %(n)d명, 새 알림 %(sent)d건", day=date_words(today), n=len(ids), sent=notified))


def _user(login: str) -> User:
    user = db.session.execute(select(User).filter_by(login_key=login_key(login))).scalar_one_or_none()
    if user is None:
        raise click.ClickException(_("계정을 찾을 수 없습니다: %(login)s", login=login))
    return user


def _run(change, done: str) -> None:
    try:
        change()
    except DomainError as err:
        db.session.rollback()
        raise click.ClickException(err.message) from None
    db.session.commit()
    click.echo(done)


@users.command("approve")
@click.argument("login")
@click.option("--reason", required=True, help="승인 근거 (예: 보안 서약서 확인)")
def approve_command(login, reason):
    """계정을 취급승인합니다 (명령줄 운영자, 변경 이력에 남음)."""
    user = _user(login)
    _run(lambda: approve_handling(user, None, reason), _("취급승인했습니다: %(login)s", login=user.login))


@users.command("withdraw-approval")
@click.argument("login")
@click.option("--reason", required=True, help="철회 사유")
def withdraw_command(login, reason):
    """계정의 취급승인을 철회합니다; 그 계정의 로그인은 모두 끝납니다."""
    user = _user(login)
    _run(lambda: withdraw_handling(user, None, reason), _("취급승인을 철회했습니다: %(login)s", login=user.login))


@users.command("record-training")
@click.argument("login")
@click.option("--on", "day", required=True, type=click.DateTime(formats=["%Y-%m-%d"]), help="교육 이수일 (YYYY-MM-DD)")
@click.option("--reason", default=None, help="메모 (예: 2026년 개인정보 보호 교육)")
def record_training_command(login, day, reason):
    """계정의 개인정보 보호 교육 이수일을 기록합니다."""
    user = _user(login)
    _run(lambda: record_training(user, None, day.date(), reason=reason),
         _("교육 이수일을 기록했습니다: %(login)s %(day)s (유효기간 %(until)s까지)", login=user.login,
           day=date_words(day.date()), until=date_words(training_valid_until(day.date()))))
