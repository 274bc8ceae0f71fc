"""`flask cases consent-expiry`: the daily consent watch (an expired consent stops sharing)."""
from __future__ import annotations

import click
from flask_babel import gettext
from flask.cli import with_appcontext

from ..db import today_kst
from ..extensions import db
from ..i18n import date_words
from .consent import handle_lapsed_consent, lapsed_consents
from .models import Consent


@click.group("cases")
def cases():
    """지원 사례 관리 명령."""


@cases.command("consent-expiry")
@with_appcontext
def consent_expiry():
    """매일 실행: 만료된 동의의 후속 조치(교육후견인 배정 중지, 의뢰 중단 등)를 한 번씩 실행."""
    today = today_kst()
    ids = lapsed_consents(today)
    with click.progressbar(ids, label=gettext("만료된 동의 처리"), show_pos=True) as bar:
        for consent_id in bar:
            handle_lapsed_consent(db.session.get(Consent, consent_id), today)
            db.session.commit()  # one consent at a time: a stopped run resumes where it was
    click.echo(gettext("%(day)s: 만료된 동의 %(n)d건 처리", day=date_words(today), n=len(ids)))


def register_cli(app) -> None:
    app.cli.add_command(cases)
