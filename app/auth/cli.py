"""flask users create / deactivate."""
import click
from flask.cli import AppGroup
from sqlalchemy import select

from ..domain import DomainError
from ..extensions import db
from ..permissions import ROLES
from .models import User
from .services import create_user, deactivate_user, find_organisation

users = AppGroup("users", help="계정 관리 (create, deactivate)")


@users.command("create")
@click.option("--role", required=True, type=click.Choice(sorted(ROLES)))
@click.option("--org", "org_code", default=None, help="소속 기관 코드 (교육후견인은 생략)")
@click.option("--login", required=True)
@click.option("--name", "display_name", default=None, help="표시 이름 (기본: 아이디)")
@click.password_option("--password", prompt="비밀번호", confirmation_prompt="비밀번호 확인",
                       help="생략하면 입력을 요청합니다 (화면에 표시되지 않음)")
def create_command(role, org_code, login, display_name, password):
    """Create a user; asks for the password without echoing it."""
    organisation = None
    if org_code:
        organisation = find_organisation(org_code)
        if organisation is None:
            raise click.ClickException(f"기관 코드를 찾을 수 없습니다: {org_code}")
    try:
        user = create_user(login=login, display_name=display_name or login, role=role,
                           organisation=organisation, password=password)
    except DomainError as err:
        db.session.rollback()
        raise click.ClickException(err.message) from None
    db.session.commit()
    click.echo(f"계정을 만들었습니다: {user.login} ({role})")


@users.command("deactivate")
@click.argument("login")
def deactivate_command(login):
    """Deactivate a user; their sessions end on the next request."""
    user = db.session.execute(select(User).filter_by(login=login)).scalar_one_or_none()
    if user is None:
        raise click.ClickException(f"계정을 찾을 수 없습니다: {login}")
    try:
        deactivate_user(user)
    except DomainError as err:
        raise click.ClickException(err.message) from None
    db.session.commit()
    click.echo(f"계정을 비활성화했습니다: {login}")


def register_cli(app) -> None:
    app.cli.add_command(users)
