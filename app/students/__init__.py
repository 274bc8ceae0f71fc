"""Students and schools."""
from flask import Blueprint

bp = Blueprint("students", __name__, url_prefix="/students")

from . import views  # noqa: E402,F401
