"""Role home pages: / sends each user to the page of their role."""
from flask import redirect, render_template, url_for
from flask_login import current_user, login_required

from .. import permissions as p
from . import bp

#: role -> (url segment, template)
HOMES = {
    p.SCHOOL_STAFF: "school",
    p.SCHOOL_LEAD: "lead",
    p.DISTRICT_COORDINATOR: "district",
    p.GUARDIAN: "guardian",
    p.AGENCY_COORDINATOR: "agency",
    p.AUDITOR: "auditor",
    p.ADMIN: "admin",
}


@bp.route("/")
@login_required
def index():
    """Send the user to their role's home page."""
    return redirect(url_for(f"home.{HOMES[current_user.role]}"))


def _home(role: str, segment: str):
    @p.roles_required(role)
    def view():
        return render_template(f"home/{segment}.html")
    view.__name__ = segment
    view.__doc__ = f"Home page of the {role} role."
    bp.add_url_rule(f"/home/{segment}", segment, view)


for _role, _segment in HOMES.items():
    _home(_role, _segment)
