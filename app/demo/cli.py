"""flask demo seed: demo organisations, users and (per feature) realistic data."""
from __future__ import annotations

import importlib
import importlib.util
import secrets

import click
from flask.cli import AppGroup
from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import select

from ..auth.models import User
from ..domain import DomainError
from ..extensions import db
from . import organisations

#: feature seeders run after organisations and users, in this order; each module has seed()
#: (handling last: it approves and trains every account the others made)
FEATURE_SEEDERS = ("students", "cases", "guardians", "agencies", "referrals", "conferences", "handling")

demo = AppGroup("demo", help="데모 데이터")


@demo.command("seed")
@click.option("--password", default=None, help="모든 데모 계정에 쓸 비밀번호 (기본: 계정마다 무작위)")
def seed_command(password: str | None):
    """Load demo data once, in one transaction; refuses in production."""
    if current_app.config["IEUM_ENV"] == "production":
        raise click.ClickException(_("IEUM_ENV=production 에서는 데모 데이터를 만들 수 없습니다."))
    if db.session.execute(select(User.id).filter_by(login="demo-admin")).first():
        click.echo(_("데모 데이터가 이미 있습니다. 바꾼 것은 없습니다."))
        return
    passwords = {login: password or secrets.token_urlsafe(12)
                 for login, *_rest in organisations.DEMO_USERS}
    names = [n for n in FEATURE_SEEDERS if importlib.util.find_spec(f"{__package__}.{n}")]
    try:
        organisations.seed(passwords)
        with click.progressbar(names, label=_("데모 데이터"), show_pos=True) as bar:
            for name in bar:
                importlib.import_module(f".{name}", __package__).seed()
    except DomainError as err:  # e.g. a --password the policy refuses: nothing is kept
        db.session.rollback()
        raise click.ClickException(err.message) from None
    db.session.commit()
    for login, *_rest in organisations.DEMO_USERS:
        click.echo(f"{login} {passwords[login]}")


@demo.command("scale")
@click.option("--scale", "size", type=click.FloatRange(min=0.0005, max=10.0), default=1.0, show_default=True,
              help="서울 규모(학교 1,400곳, 학생 60,000명, 접속기록 5,000,000건)에 곱할 배율")
@click.option("--seed", type=int, default=1, show_default=True, help="난수 시드 (같은 시드면 같은 데이터 규모)")
@click.option("--password", default="ieum-bench-2026!", show_default=True, help="모든 계정에 쓸 비밀번호")
def scale_command(size: float, seed: int, password: str):
    """Build a Seoul-scale data set on an empty database (refused in production)."""
    from . import scale

    if current_app.config["IEUM_ENV"] == "production":
        raise click.ClickException(_("IEUM_ENV=production 에서는 규모 데이터를 만들 수 없습니다."))
    try:
        result = scale.build(size, seed, password)
    except scale.ScaleError as err:
        db.session.rollback()
        raise click.ClickException(str(err)) from None
    except DomainError as err:  # a --password the policy refuses
        db.session.rollback()
        raise click.ClickException(err.message) from None
    for label, seconds in result.timings.items():
        click.echo(f"{_(label):<10} " + _("%(s)s초", s=f"{seconds:8.1f}"))
    click.echo(f"{_('합계'):<10} " + _("%(s)s초", s=f"{sum(result.timings.values()):8.1f}"))
    for model, rows in sorted(result.writer.tables.items(), key=lambda kv: kv[1].name):
        click.echo(f"{rows.name:<26} {rows.count:>10,}")
    click.echo(f"{'audit_event':<26} {result.chain.done:>10,}")
    click.echo(_("로그인 정보: %(path)s (비밀번호: %(password)s)", path=result.logins["path"], password=password))
    for role, info in result.logins["users"].items():
        totp = " (TOTP)" if info["totp_secret"] else ""
        click.echo(f"{role:<22} {info['login']}{totp}")
