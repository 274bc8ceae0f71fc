"""Integrated case conferences (통합사례협의회)."""
from flask import Blueprint

bp = Blueprint("conferences", __name__, url_prefix="/conferences")
