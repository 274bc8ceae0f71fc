"""`flask notifications send`: the e-mail worker (long-running, or --once for a timer)."""
from __future__ import annotations

import logging
import signal
import time

import click
from flask.cli import with_appcontext
from flask_babel import gettext as _
from sqlalchemy.exc import SQLAlchemyError

from ..extensions import db

from .mail_outbox import mail_configured
from .mail_worker import deliver_due, new_worker_id

log = logging.getLogger(__name__)


@click.group("notifications")
def notifications():
    """알림 메일 명령."""


@notifications.command("send")
@click.option("--once", is_flag=True, help="보낼 메일을 모두 보내고 끝냄 (타이머용)")
@click.option("--poll", default=30, show_default=True, type=click.IntRange(1, 3600), help="새 메일을 확인하는 간격(초)")
@with_appcontext
def send(once: bool, poll: int):
    """알림 메일 보내기: 보낼 때가 된 메일을 보내고, 실패하면 간격을 늘려 다시 시도."""
    if not mail_configured():
        raise click.ClickException(_("메일 서버가 설정되지 않았습니다 (IEUM_MAIL_HOST, IEUM_MAIL_SENDER)."))
    worker = new_worker_id()
    stopping = []
    previous = signal.signal(signal.SIGTERM, lambda *_args: stopping.append(True))
    totals = {"sent": 0, "retry": 0, "failed": 0}
    try:
        while not stopping:
            try:
                counts = deliver_due(worker)
            except SQLAlchemyError as error:
                # a database still locked or a lost connection: the worker waits and goes on
                db.session.rollback()
                if once:
                    raise
                log.warning("outbox not read (%s); trying again in %d s", type(error).__name__, poll)
                time.sleep(poll)
                continue
            for key, value in counts.items():
                totals[key] += value
            if not any(counts.values()):
                if once:
                    break
                time.sleep(poll)  # nothing due: a quiet outbox costs one query per poll
    finally:
        signal.signal(signal.SIGTERM, previous)
    click.echo(_("보냄 %(sent)d건, 다시 시도 예정 %(retry)d건, 실패 %(failed)d건", **totals))


def register_cli(app) -> None:
    app.cli.add_command(notifications)
