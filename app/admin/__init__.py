"""Admin screens (system administrators only): users and organisations, never case content."""
from flask import Blueprint

bp = Blueprint("admin", __name__, url_prefix="/admin")
