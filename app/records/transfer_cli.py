"""`flask records transfers-overdue` (daily): transfers the new school has not answered within 5
business days reach the leads of both schools and the coordinators of both offices, once."""
from __future__ import annotations

import click
from flask.cli import with_appcontext
from flask_babel import gettext as _

from ..db import today_kst
from ..extensions import db
from ..i18n import date_words
from .transfer_alerts import escalate_overdue
from .transfer_models import CaseTransfer
from .transfer_queries import overdue_transfer_ids


@click.group("records")
def records():
    """학생 기록 명령 (전학 이관, 보존 기간)."""


@records.command("transfers-overdue")
@with_appcontext
def transfers_overdue():
    """매일 실행: 회신 기한이 지난 전학 이관을 두 학교 관리자와 두 교육지원청 담당자에게 알림(한 번씩)."""
    today = today_kst()
    ids = overdue_transfer_ids(today)
    sent = 0
    with click.progressbar(ids, label=_("회신 기한이 지난 전학 이관"), show_pos=True) as bar:
        for transfer_id in bar:
            sent += escalate_overdue(db.session.get(CaseTransfer, transfer_id), today)
            db.session.commit()  # one at a time: overdue_alerted_on and dedupe keys make a rerun skip the done ones
    click.echo(_("%(day)s: 회신 기한이 지난 전학 이관 %(n)d건, 알림 %(sent)d건", day=date_words(today), n=len(ids), sent=sent))


def register_cli(app) -> None:
    """Add ``flask records transfers-overdue``."""
    app.cli.add_command(records)
