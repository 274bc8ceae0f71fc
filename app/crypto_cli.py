"""flask keys init | status | rotate | retire.

Registered as a ``flask.commands`` entry point (setup.cfg) rather than on ``app.cli``, so that
``flask keys init`` works before a key ring exists (create_app refuses to start without one).
"""
from __future__ import annotations

import os
from pathlib import Path

import click
from flask.cli import with_appcontext

from .crypto import KeyRing

keys = click.Group("keys", help="암호화 키 관리 (init, status, rotate, retire)")


def default_key_file() -> Path:
    if os.environ.get("IEUM_KEYS_FILE"):
        return Path(os.environ["IEUM_KEYS_FILE"])
    instance = os.environ.get("IEUM_INSTANCE_PATH") or Path(__file__).resolve().parent.parent / "instance"
    return Path(instance) / "keys.json"


@keys.command("init")
@click.option("--path", type=click.Path(path_type=Path), default=None, help="기본: instance/keys.json")
def init_command(path: Path | None):
    """Create a new key ring (mode 0600); refuses to overwrite an existing one."""
    path = path or default_key_file()
    if path.exists():
        raise click.ClickException(f"key ring already exists at {path}; it was left unchanged")
    path.parent.mkdir(parents=True, exist_ok=True)
    KeyRing.generate(path).save()
    click.echo(f"created key ring {path} (mode 0600). Back it up: losing it loses the encrypted data.")


def register(group: click.Group) -> None:
    """Feature issue 3 adds status / rotate / retire here."""


register(keys)
