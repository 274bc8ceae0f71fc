"""`flask agencies escalate-overdue`: referrals past their answer day reach the school's leads and
the office's coordinators (at once by e-mail) and remind the agency."""
from __future__ import annotations

import click
from flask.cli import with_appcontext
from flask_babel import gettext as _
from sqlalchemy import select

from ..db import today_kst
from ..extensions import db
from ..i18n import date_words
from .models import Referral
from .referral_alerts import escalate_overdue


@click.group("agencies")
def agencies():
    """유관기관·의뢰 명령."""


@agencies.command("escalate-overdue")
@with_appcontext
def escalate_overdue_referrals():
    """매일 실행: 회신 기한이 지난 의뢰를 학교 관리자·교육지원청 담당자에게 알리고 기관에 다시 알림(한 번씩)."""
    today = today_kst()
    ids = list(db.session.execute(select(Referral.id).where(
        Referral.status == "sent", Referral.respond_by < today).order_by(Referral.respond_by, Referral.id)).scalars())
    sent = 0
    with click.progressbar(ids, label=_("회신 기한이 지난 의뢰"), show_pos=True) as bar:
        for referral_id in bar:
            sent += escalate_overdue(db.session.get(Referral, referral_id), today)
            db.session.commit()  # one referral at a time: dedupe keys make a rerun skip the done ones
    click.echo(_("%(day)s: 회신 기한이 지난 의뢰 %(n)d건, 알림 %(sent)d건", day=date_words(today), n=len(ids), sent=sent))


def register_cli(app) -> None:
    app.cli.add_command(agencies)
