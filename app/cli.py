"""Registers the CLI groups that are not feature blueprints' own."""
import click
from flask.cli import AppGroup
from flask_babel import gettext as _

from .demo.cli import demo
from .extensions import db

maintenance = AppGroup("maintenance", help="데이터베이스 유지 관리")


@maintenance.command("analyze")
def analyze_command():
    """Refresh the query planner's statistics (daily timer; `flask db upgrade` runs it too)."""
    connection = db.session.connection()
    if connection.dialect.name == "sqlite":
        connection.exec_driver_sql("PRAGMA analysis_limit=1000")
    connection.exec_driver_sql("ANALYZE")
    db.session.commit()
    click.echo(_("통계를 갱신했습니다."))


def init_app(app) -> None:
    app.cli.add_command(demo)
    app.cli.add_command(maintenance)
