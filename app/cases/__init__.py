"""Support cases, consent, needs, plans, notes and the case state machine."""
from flask import Blueprint

bp = Blueprint("cases", __name__, url_prefix="/cases")
