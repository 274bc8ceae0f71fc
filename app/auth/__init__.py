"""Users, organisations, login, lockout and the account lifecycle."""
from flask import Blueprint

bp = Blueprint("auth", __name__)

from . import views  # noqa: E402,F401
from .cli import register_cli  # noqa: E402,F401
