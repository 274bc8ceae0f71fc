"""flask users create / deactivate."""
import click
from flask.cli import AppGroup
from flask_babel import gettext as _
from sqlalchemy import select

from ..domain import DomainError
from ..extensions import db
from ..permissions import ROLES
from .handling import approve_if_first_admin
from .models import User
from .services import create_user, deactivate_user, find_organisation, login_key

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
            raise click.ClickException(_("기관 코드를 찾을 수 없습니다: %(code)s", code=org_code))
    try:
        user = create_user(login=login, display_name=display_name or login, role=role,
                           organisation=organisation, password=password)
    except DomainError as err:
        db.session.rollback()
        raise click.ClickException(err.message) from None
    first_admin = approve_if_first_admin(user)  # nobody else could approve the first admin
    db.session.commit()
    click.echo(_("계정을 만들었습니다: %(login)s (%(role)s)", login=user.login, role=role))
    if first_admin:
        click.echo(_("첫 관리자로 취급승인했습니다. 교육 이수일을 기록하세요: %(command)s",
                     command=f"flask users record-training {user.login} --on YYYY-MM-DD"))


@users.command("deactivate")
@click.argument("login")
def deactivate_command(login):
    """Deactivate a user; their sessions end on the next request."""
    user = db.session.execute(select(User).filter_by(login_key=login_key(login))).scalar_one_or_none()
    if user is None:
        raise click.ClickException(_("계정을 찾을 수 없습니다: %(login)s", login=login))
    try:
        deactivate_user(user)
    except DomainError as err:
        raise click.ClickException(err.message) from None
    db.session.commit()
    click.echo(_("계정을 비활성화했습니다: %(login)s", login=login))


@users.command("totp-reset")
@click.argument("login")
@click.option("--reason", required=True, help="초기화 사유 (권한 변경 이력에 남습니다)")
def totp_reset_command(login, reason):
    """Reset a user's second factor (e.g. a sole admin who lost their phone); sessions end."""
    from .totp import reset_totp
    user = db.session.execute(select(User).filter_by(login_key=login_key(login))).scalar_one_or_none()
    if user is None:
        raise click.ClickException(_("계정을 찾을 수 없습니다: %(login)s", login=login))
    try:
        reset_totp(user, None, reason)
    except DomainError as err:
        db.session.rollback()
        raise click.ClickException(err.message) from None
    db.session.commit()
    click.echo(_("2단계 인증을 초기화했습니다: %(login)s (다음 로그인 때 다시 등록)", login=user.login))


def register_cli(app) -> None:
    app.cli.add_command(users)


from . import handling_cli  # noqa: E402,F401  (training-reminders, approve, withdraw-approval, record-training)
