"""Registers the CLI groups that are not feature blueprints' own."""
from .demo.cli import demo


def init_app(app) -> None:
    app.cli.add_command(demo)
