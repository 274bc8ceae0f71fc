"""Conference screens: the list, scheduling, the conference page, action item status and the
printable minutes.  Everything shown is cut to what the reader may see."""
from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import lazy_gettext as _l
from flask_babel import gettext
from flask_login import current_user, login_required
from sqlalchemy import case as sql_case
from sqlalchemy import select
from sqlalchemy.orm import joinedload, selectinload

from ... import permissions as p
from ...audit.services import record
from ...auth.models import User
from ...cases.loaders import UID_MAX, deny_not_found
from ...cases.models import OPEN_STATUSES, SupportCase
from ...db import today_kst, utcnow
from ... import submissions
from ...domain import DomainError, NotPermitted, attach_to_form
from ...extensions import db
from ...navigation import add_nav
from ...pagination import page_arg
from ...words import particle
from .. import access, bp
from .. import services as s
from ..amendments import amendments_of
from ..recording import has_started
from ..forms import EXTERNAL_ROWS, ScheduleForm, StatusForm
from ..models import (ACTION_ITEM_STATUSES, ACTION_OWNER_KINDS, CONFERENCE_KINDS, CONFERENCE_STATUSES, DECISIONS,
                     ActionItem, Conference, ConferenceParticipant)

add_nav("conferences.index", _l("사례회의"), p.SCHOOL_STAFF, p.SCHOOL_LEAD, p.DISTRICT_COORDINATOR, p.GUARDIAN,
        p.AGENCY_COORDINATOR)

PER_PAGE = 20
ORGANISERS = (*p.SCHOOL_ROLES, p.DISTRICT_COORDINATOR)
LINKED_REFERRALS = ("accepted", "in_service")
LABELS = {"kind": CONFERENCE_KINDS, "status": CONFERENCE_STATUSES, "decision": DECISIONS,
          "owner": ACTION_OWNER_KINDS, "item_status": ACTION_ITEM_STATUSES}


def load_conference_or_404(uid) -> Conference:
    """The conference if the current user may see it; otherwise an audited 404."""
    conference = None
    if uid and len(str(uid)) <= UID_MAX:
        conference = db.session.execute(select(Conference).where(Conference.uid == str(uid)).options(
            joinedload(Conference.organiser),  # the participants with their accounts and organisations: one query
            selectinload(Conference.participants).joinedload(ConferenceParticipant.user).joinedload(User.organisation))
        ).scalar_one_or_none()
    if conference is None or not access.can_view_conference(current_user, conference):
        deny_not_found(Conference.__tablename__, uid)
    return conference


@bp.get("/")
@p.roles_required(*ORGANISERS, p.GUARDIAN, p.AGENCY_COORDINATOR)
def index():
    """The conferences the user organises or takes part in, upcoming first."""
    now = utcnow()
    upcoming = Conference.starts_at >= now
    query = access.conferences_visible_to(current_user).options(joinedload(Conference.organiser)).order_by(None).order_by(
        sql_case((upcoming, 0), else_=1), sql_case((upcoming, Conference.starts_at)).asc(),
        Conference.starts_at.desc(), Conference.id.desc())
    page = db.paginate(query, page=page_arg(), per_page=PER_PAGE, error_out=False)
    html = render_template("conferences/list.html", page=page, now=now, labels=LABELS,
                           can_schedule=current_user.role in ORGANISERS)
    db.session.commit()
    return html


# -- scheduling -------------------------------------------------------------------------------

def _open_cases(user) -> list[SupportCase]:
    return list(db.session.execute(p.cases_visible_to(user).where(SupportCase.status.in_(OPEN_STATUSES))
                                   .order_by(SupportCase.id.desc())).scalars())


def _user_label(u: User) -> str:
    org = f" · {u.organisation.name}" if u.organisation else ""
    return f"{u.display_name} ({p.role_label(u.role)}{org})"


@bp.route("/new", methods=["GET", "POST"])
@p.roles_required(*ORGANISERS)
def new():
    """Schedule a conference: kind, when, where, the cases and the participants."""
    cases = _open_cases(current_user)
    form = ScheduleForm()
    form.case_ids.choices = [(c.id, f"{c.student.name} ({c.student.class_label} · {c.status_label})") for c in cases]
    form.participant_user_ids.choices = [
        (u.id, _user_label(u)) for u in access.eligible_users(current_user.organisation.office_code, cases)
        if u.id != current_user.id]
    status = 200
    if request.method == "POST":
        status = 400
        if form.validate():
            submissions.once(form)  # a repeat goes where the first went, changing nothing
            try:
                conference = s.schedule_conference(
                    current_user, kind=form.kind.data, starts_at=form.starts_at(), place=form.place.data or None,
                    online_link=form.online_link.data or None, case_ids=list(form.case_ids.data),
                    participant_user_ids=list(form.participant_user_ids.data or []), externals=form.externals())
            except NotPermitted:
                db.session.rollback()
                abort(403)
            except DomainError as error:
                db.session.rollback()
                attach_to_form(form, _field_for(error, SCHEDULE_FIELDS))
            else:
                db.session.commit()
                flash(gettext("사례회의를 예약했습니다."), "success")
                return redirect(url_for("conferences.view", uid=conference.uid))
    html = render_template("conferences/new.html", form=form, external_rows=EXTERNAL_ROWS, has_cases=bool(cases))
    # the case picker names each open case's student: one view event per student shown
    for case in cases:
        record("case_viewed", obj=case, subject=case.student, details={"page": "conference_new"})
    db.session.commit()
    return html, status


# -- the conference page and its print layout -----------------------------------------------

def page_context(conference: Conference) -> dict:
    """What the reader may see of ``conference``: visible cases, withheld ones, minutes or not."""
    user = current_user
    rows = access.visible_cases(user, conference)
    organiser = access.is_organiser_side(user, conference)
    shown = [row for row in rows if not row.withheld]
    # a guardian or agency reads each case only through their projection (access.projection_for):
    # the minutes and the free texts about the meeting go beyond it
    projected = any(row.projection is not None for row in shown)
    # the minutes cover every case discussed: a reader who may not see all of them gets none
    show_minutes = conference.minutes is not None and not projected and (
        organiser or len(shown) == len(conference.cases))
    items = db.session.execute(select(ActionItem).where(
        ActionItem.conference_id == conference.id, ActionItem.case_id.in_([r.case.id for r in shown] or [-1]))
        .order_by(ActionItem.due_on, ActionItem.id)).scalars().all()
    by_case: dict[int, list] = {}
    for item in items:
        by_case.setdefault(item.case_id, []).append(item)
    # a reader who sees every case discussed also reads the free texts about the whole meeting
    # (amendment and cancel reasons); the others see who changed what when
    full = organiser or (len(shown) == len(conference.cases) and not projected)
    can_record = access.can_record_conference(user, conference)
    school_only = [row for row in shown if not row.sharing_allowed]
    return {"conference": conference, "rows": rows, "shown": shown, "organiser": organiser,
            "can_record": can_record, "recording_open": can_record and has_started(conference),
            "can_amend": access.can_amend_conference(user, conference),
            "can_cancel": organiser and conference.status == "scheduled",
            "amendments": amendments_of(conference), "full_view": full, "school_only": school_only,
            "show_minutes": show_minutes, "projected": projected, "items": by_case, "labels": LABELS,
            "today": today_kst(),
            "can_change": lambda item: _may_change(user, item, organiser)}


def _may_change(user, item: ActionItem, organiser: bool) -> bool:
    return item.status == "open" and (organiser or item.owner_user_id == user.id or (
        item.owner_kind == "agency" and item.owner_agency_id == user.organisation_id))


def _audit_view(conference: Conference, context: dict, printed: bool = False) -> None:
    details = {"print": True} if printed else None
    if context["show_minutes"]:
        record("conference_minutes_viewed", obj=conference, details=details)
    for row in context["shown"]:
        record("conference_case_viewed", obj=conference, subject=row.case.student,
               details={"case": row.case.uid, **(details or {})})


def render_conference(conference: Conference, status: int = 200):
    context = page_context(conference)
    html = render_template("conferences/view.html", status_form=StatusForm(formdata=None), **context)
    _audit_view(conference, context)
    db.session.commit()
    return html, status


@bp.get("/<uid>")
@login_required
def view(uid: str):
    """One conference: when, who, the cases the reader may see, decisions, action items, minutes."""
    return render_conference(load_conference_or_404(uid))


@bp.get("/<uid>/print")
@login_required
def print_view(uid: str):
    """A clean print layout of one conference, with only what the reader may see."""
    conference = load_conference_or_404(uid)
    context = page_context(conference)
    html = render_template("conferences/print.html", printed_at=utcnow(), **context)
    _audit_view(conference, context, printed=True)
    db.session.commit()
    return html


def _participant_label(part) -> str:
    if part.user:
        return _user_label(part.user)
    org = f" ({part.external_organisation})" if part.external_organisation else ""
    return gettext("%(name)s%(org)s · 외부", name=part.external_name, org=org)


#: service field -> form field, where the form names it differently
SCHEDULE_FIELDS = {"starts_at": "date", "externals": "ext1_name"}


def _field_for(error: DomainError, names: dict) -> DomainError:
    """The same error, attached to the form's name for the service's field."""
    return DomainError(error.message, names.get(error.field, error.field))



@bp.post("/<uid>/actions/<item_uid>/status")
@login_required
def action_status(uid: str, item_uid: str):
    """Mark an action item done, cancelled or open again."""
    conference = load_conference_or_404(uid)
    item = None
    if item_uid and len(item_uid) <= UID_MAX:
        item = db.session.execute(select(ActionItem).where(ActionItem.uid == item_uid)).scalar_one_or_none()
    visible = {row.case.id for row in access.visible_cases(current_user, conference) if not row.withheld}
    if item is None or item.conference_id != conference.id or item.case_id not in visible:
        deny_not_found(ActionItem.__tablename__, item_uid)
    if not s.can_update_item(current_user, item, conference):  # the role first, the form after
        abort(403)
    form = StatusForm()
    if form.validate():
        try:
            s.set_action_item_status(item, current_user, form.status.data)
        except NotPermitted:
            db.session.rollback()
            abort(403)
        except DomainError as error:
            db.session.rollback()
            flash(error.message, "error")
        else:
            db.session.commit()
            label = ACTION_ITEM_STATUSES[form.status.data]
            flash(gettext("실행 과제를 '%(status)s'%(ro)s 바꿨습니다.", status=label,
                          ro=particle(f"'{label}'", "으로/로")), "success")
    else:
        flash(gettext("상태를 골라 주세요."), "error")
    return redirect(url_for("conferences.view", uid=conference.uid) + "#actions")
