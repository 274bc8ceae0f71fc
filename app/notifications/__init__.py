"""In-app notifications: alerts that reach a user's home page (concerns, expiring checks)."""
from flask import Blueprint

bp = Blueprint("notifications", __name__, url_prefix="/notifications")
