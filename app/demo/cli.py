"""flask demo seed: demo organisations, users and (per feature) realistic data."""
from __future__ import annotations

import importlib
import importlib.util
import secrets

import click
from flask.cli import AppGroup
from flask import current_app
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
        raise click.ClickException("IEUM_ENV=production 에서는 데모 데이터를 만들 수 없습니다.")
    if db.session.execute(select(User.id).filter_by(login="demo-admin")).first():
        click.echo("데모 데이터가 이미 있습니다. 바꾼 것은 없습니다.")
        return
    passwords = {login: password or secrets.token_urlsafe(12)
                 for login, *_ in organisations.DEMO_USERS}
    names = [n for n in FEATURE_SEEDERS if importlib.util.find_spec(f"{__package__}.{n}")]
    try:
        organisations.seed(passwords)
        with click.progressbar(names, label="데모 데이터", show_pos=True) as bar:
            for name in bar:
                importlib.import_module(f".{name}", __package__).seed()
    except DomainError as err:  # e.g. a --password the policy refuses: nothing is kept
        db.session.rollback()
        raise click.ClickException(err.message) from None
    db.session.commit()
    for login, *_ in organisations.DEMO_USERS:
        click.echo(f"{login} {passwords[login]}")
