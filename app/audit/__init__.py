"""Audit trail (접속기록): events, hash chain, verification, access review and exports."""
from flask import Blueprint

bp = Blueprint("audit", __name__, url_prefix="/audit")
