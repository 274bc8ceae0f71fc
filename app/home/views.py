"""Role home pages: / sends each user to the page of their role."""
from flask import redirect, render_template, url_for
from flask_login import current_user, login_required

from .. import permissions as p
from ..audit.services import record
from ..cases import queries as q
from ..db import today_kst
from ..extensions import db
from ..agencies.referral_queries import overdue_referrals_for
from ..lifecycle import home_sections
from ..guardians.panels import guardian_figures, open_concerns
from ..guardians.portal import portal_for
from ..notifications.services import unread_count, unread_for
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


def _alerts() -> dict:
    """The newest unread alerts (at most 5) and how many there are in all."""
    return {"notifications": unread_for(current_user), "unread_total": unread_count(current_user)}


def _school_panels() -> dict:
    """Open concerns first, my open cases, overdue plan actions, cases waiting, unread alerts."""
    return {"concerns": open_concerns(current_user), "my_cases": q.my_open_cases(current_user),
            "overdue": q.overdue_actions(current_user), "waiting": q.waiting_cases(current_user),
            "today": today_kst(), **_alerts()}


def _district_panels() -> dict:
    """Open concerns, escalated cases, overdue plan actions and referrals, guardian figures."""
    return {"concerns": open_concerns(current_user), "escalated": q.escalated_cases(current_user),
            "overdue": q.overdue_actions(current_user, with_school=True), "overdue_referrals": overdue_referrals_for(current_user),
            "guardian_figures": guardian_figures(current_user), "today": today_kst(), **_alerts()}


def _guardian_panels() -> dict:
    """The guardian's own students with minimal fields (each view audited), or why they are paused."""
    return {"portal": portal_for(current_user), **_alerts()}


def _agency_panels() -> dict:
    """Referrals to the agency waiting for an answer (overdue first), those in service, unread alerts."""
    from ..agencies.inbox import agency_panels
    return {**agency_panels(current_user), **_alerts()}


#: role -> the lists its home page shows (roles not named here show their page as it is)
PANELS = {p.ADMIN: _alerts, p.AUDITOR: _alerts,
          p.SCHOOL_STAFF: _school_panels, p.SCHOOL_LEAD: _school_panels, p.DISTRICT_COORDINATOR: _district_panels,
          p.GUARDIAN: _guardian_panels, p.AGENCY_COORDINATOR: _agency_panels}

#: roles whose home page also shows the conference panels
CONFERENCE_ROLES = (p.SCHOOL_STAFF, p.SCHOOL_LEAD, p.DISTRICT_COORDINATOR, p.GUARDIAN, p.AGENCY_COORDINATOR)


def _home(role: str, segment: str):
    @p.roles_required(role)
    def view():
        builder = PANELS.get(role)
        panels = builder() if builder else {}
        if role in CONFERENCE_ROLES:
            from ..conferences.panels import conference_panels
            panels.update(conference_panels(current_user))
        shown = sum(len(v) for v in panels.values() if isinstance(v, list))
        panels["home_sections"] = sections = home_sections(current_user)
        shown += sum(section.context.get("rows_shown", 0) for section in sections)
        if shown:
            # the panels list students by name: a view of personal data, recorded like a list page
            record("home_viewed", object_type="home", object_id=segment, details={"rows_shown": shown})
        html = render_template(f"home/{segment}.html", **panels)
        db.session.commit()  # after rendering, so the listed rows are not expired and reloaded
        return html
    view.__name__ = segment
    view.__doc__ = f"Home page of the {role} role."
    bp.add_url_rule(f"/home/{segment}", segment, view)


for _role, _segment in HOMES.items():
    _home(_role, _segment)
