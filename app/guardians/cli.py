"""Daily guardian commands: `flask guardians check-expiry` (record checks: warn, then suspend) and
`flask guardians escalate-concerns` (concerns unacknowledged after one business day)."""
from __future__ import annotations

import datetime as dt

import click
from flask.cli import with_appcontext
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, exists, or_, select

from ..audit.services import record
from ..db import today_kst
from ..extensions import db
from ..i18n import date_words
from .concerns import escalate_concern, overdue_concerns
from .eligibility import eligible_condition
from .models import CHECK_KINDS, Assignment, Guardian, GuardianConcern, RecordCheck
from .services import office_coordinators, suspend_guardian

#: days before a check lapses on which the coordinators are warned (largest first)
WARN_DAYS = (30, 7)


@click.group("guardians")
def guardians():
    """교육후견인 관리 명령."""


def _warn_checks(guardian: Guardian, today: dt.date) -> dict[int, int]:
    """Warn the office's coordinators about each current clear check lapsing within 30 / 7 days."""
    sent = {}
    coordinators = None
    for check in guardian.checks:
        if check.result != "clear" or check.valid_until is None or check.valid_until < today:
            continue
        renewed = any(c.kind == check.kind and c.result == "clear" and c.valid_until and c.valid_until > check.valid_until
                      for c in guardian.checks)
        left = (check.valid_until - today).days
        window = min((d for d in WARN_DAYS if left <= d), default=None)
        if renewed or window is None:
            continue
        coordinators = coordinators if coordinators is not None else office_coordinators(guardian.office_code)
        new = [user for user in coordinators if notify_expiry(user, guardian, check, window)]
        if new:
            record("record_check_expiry_warned", obj=check, actor=None,
                   details={"guardian": guardian.uid, "days": window, "notified": len(new)})
            sent[window] = sent.get(window, 0) + 1
    return sent


def notify_expiry(user, guardian: Guardian, check: RecordCheck, window: int):
    """One warning per check, window and coordinator (dedupe key), however often the command runs."""
    from ..notifications.services import notify, object_key
    return notify(user.id, "check_expiring",
                  _l("교육후견인 %(name)s님의 %(check)s 유효기간이 %(day)s에 끝납니다 (%(n)d일 이내). "
                     "재조회를 요청해 주세요.", name=guardian.name, check=CHECK_KINDS[check.kind],
                     day=check.valid_until, n=window),
                  link=f"/guardians/{guardian.uid}", guardian_id=guardian.id, deadline=check.valid_until,
                  about=object_key("record_check", check), dedupe_key=f"check-expiry-{window}:{check.id}:{user.id}")


def _reason(guardian: Guardian, today: dt.date) -> str:
    """Why an ineligible guardian must stop: a not-clear result, a lapsed check, or other."""
    if any(c.result == "not_clear" for c in guardian.checks):
        return "check_not_clear"
    if any(not any(c.kind == kind and c.valid_on(today) for c in guardian.checks) for kind in CHECK_KINDS):
        return "check_lapsed"
    return "guardian_suspended" if guardian.status != "active" else "other"


def _candidates(today: dt.date):
    """Ids of guardians to look at: a check near its end, or serving while no longer eligible."""
    soon = today + dt.timedelta(days=max(WARN_DAYS))
    expiring = exists().where(RecordCheck.guardian_id == Guardian.id, RecordCheck.result == "clear",
                              RecordCheck.valid_until >= today, RecordCheck.valid_until <= soon)
    serving = or_(Guardian.status == "active", exists().where(Assignment.guardian_id == Guardian.id,
                                                              Assignment.status == "active"))
    return list(db.session.execute(select(Guardian.id).where(
        Guardian.status != "retired", or_(expiring, and_(serving, ~eligible_condition(today))))
        .order_by(Guardian.id)).scalars())


@guardians.command("check-expiry")
@with_appcontext
def check_expiry():
    """매일 실행: 범죄경력 조회 만료 30일·7일 전 알림, 만료·결격 시 활동 중지."""
    today = today_kst()
    ids = _candidates(today)
    warned = {d: 0 for d in WARN_DAYS}
    stopped = paused = 0
    with click.progressbar(ids, label=_("교육후견인 확인"), show_pos=True) as bar:
        for guardian_id in bar:
            guardian = db.session.get(Guardian, guardian_id)
            for window, count in _warn_checks(guardian, today).items():
                warned[window] += count
            serving = guardian.status == "active" or db.session.execute(select(Assignment.id).where(
                Assignment.guardian_id == guardian.id, Assignment.status == "active")).first()
            if serving and not db.session.execute(select(Guardian.id).where(
                    Guardian.id == guardian.id, eligible_condition(today))).first():
                paused += len(suspend_guardian(guardian, _reason(guardian, today)))
                stopped += 1
            db.session.commit()  # one guardian at a time: a stopped run resumes where it was
    click.echo(_("%(day)s: 확인 %(checked)d명, 30일 전 알림 %(w30)d건, 7일 전 알림 %(w7)d건, 활동 중지 %(stopped)d명, "
                 "배정 일시 중지 %(paused)d건", day=date_words(today), checked=len(ids), w30=warned[30], w7=warned[7],
                 stopped=stopped, paused=paused))


@guardians.command("escalate-concerns")
@with_appcontext
def escalate_concerns():
    """매일(또는 매시간) 실행: 1영업일 넘게 확인되지 않은 우려 보고를 교육지원청 담당자 전원과 교감에게 알림."""
    ids = overdue_concerns()
    notified = 0
    with click.progressbar(ids, label=_("미확인 우려 보고"), show_pos=True) as bar:
        for concern_id in bar:
            notified += escalate_concern(db.session.get(GuardianConcern, concern_id))
            db.session.commit()  # one concern at a time: escalated_at makes a rerun skip it
    click.echo(_("%(day)s: 미확인 우려 보고 %(n)d건, 알림 %(sent)d건", day=date_words(today_kst()), n=len(ids),
                 sent=notified))


def register_cli(app) -> None:
    app.cli.add_command(guardians)
