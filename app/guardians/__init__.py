"""Education guardians (교육후견인): vetting, matching, assignments and activity logs."""
from flask import Blueprint

bp = Blueprint("guardians", __name__, url_prefix="/guardians")
