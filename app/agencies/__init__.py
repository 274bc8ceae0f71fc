"""Agency directory and closed-loop referrals."""
from flask import Blueprint

bp = Blueprint("agencies", __name__, url_prefix="/agencies")
