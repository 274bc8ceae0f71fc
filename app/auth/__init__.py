"""Users, organisations, login, lockout and the account lifecycle."""
from flask import Blueprint

bp = Blueprint("auth", __name__)
