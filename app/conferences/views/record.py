"""Recording a meeting (once it has started) and amending the record afterwards, with a reason."""
from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext
from flask_login import current_user, login_required
from sqlalchemy import select

from ... import permissions as p
from ...agencies.models import Referral
from ...audit.services import record
from ...auth.models import Organisation
from ...cases.forms.actions import close_choices, close_outcomes
from ...cases.services import check_transition
from ...domain import DomainError, attach_to_form
from ...extensions import db
from ...form_actions import save_or_show
from .. import access, bp
from .. import services as s
from ..forms import ACTION_ROWS, amend_form_class, case_prefix, close_form_for, record_form_class
from ..models import Conference
from ..recording import has_started
from .pages import LABELS, _field_for, _participant_label, _user_label, load_conference_or_404

LINKED_REFERRALS = ("accepted", "in_service")


def _record_form(conference: Conference):
    case_ids = [cc.case_id for cc in conference.cases]
    participants = [(part.id, _participant_label(part)) for part in conference.participants]
    users = {part.user.id: _user_label(part.user) for part in conference.participants if part.user}
    users.setdefault(current_user.id, _user_label(current_user))
    agency_ids = {part.user.organisation_id for part in conference.participants
                  if part.user and part.user.role == p.AGENCY_COORDINATOR}
    agency_ids |= set(db.session.execute(select(Referral.agency_id).where(
        Referral.case_id.in_(case_ids or [-1]), Referral.status.in_(LINKED_REFERRALS))).scalars())
    agencies = db.session.execute(select(Organisation).where(Organisation.id.in_(agency_ids or {-1}))
                                  .order_by(Organisation.name)).scalars()
    cls = record_form_class(case_ids, participants, list(users.items()), [(a.id, a.name) for a in agencies])
    return cls()


def _may_close(case) -> bool:
    try:
        check_transition(case, "close", current_user)
    except DomainError:  # NotPermitted included: the form then offers no closing questions
        return False
    return True


def _close_forms(conference: Conference) -> dict:
    """{case id: close form} for the cases the user could close at this meeting."""
    return {cc.case_id: close_form_for(cc.case) for cc in conference.cases if _may_close(cc.case)}


def _closings(form, close_forms: dict, conference: Conference) -> dict | None:
    """The closing answers of every case decided "close", or None when one of them is incomplete."""
    closings, complete = {}, True
    for cc in conference.cases:
        if form[f"{case_prefix(cc.case_id)}_decision"].data != "close" or cc.case_id not in close_forms:
            continue  # without a close form the service refuses the decision with its own message
        close_form = close_forms[cc.case_id]
        if not close_form.validate():
            form.form_errors.append(gettext("%(name)s 학생 사례를 종결하려면 사유, 영역별 결과, 배정·의뢰 정리를 모두 "
                                            "골라 주세요.", name=cc.case.student.name))
            complete = False
            continue
        closings[cc.case_id] = dict(reason=close_form.reason.data, outcomes=close_outcomes(close_form, cc.case),
                                    choices=close_choices(close_form, cc.case))
    return closings if complete else None


def _render_record(conference, form, close_forms, status: int):
    html = render_template("conferences/record.html", conference=conference, form=form, labels=LABELS,
                           action_rows=ACTION_ROWS, prefix=case_prefix, close_forms=close_forms,
                           started=has_started(conference))
    # the form names every case's student (and, once held, the minutes): an audited view
    for cc in conference.cases:
        record("conference_case_viewed", obj=conference, subject=cc.case.student,
               details={"case": cc.case.uid, "record": True})
    db.session.commit()
    return html, status


@bp.route("/<uid>/record", methods=["GET", "POST"])
@login_required
def record_meeting(uid: str):
    """Record attendance, minutes and, per case, the decision, action items and next review."""
    conference = load_conference_or_404(uid)
    if not access.is_organiser_side(current_user, conference):
        abort(403)
    if conference.status == "held":  # a correction goes through an amendment with its reason
        flash(gettext("이미 기록된 회의입니다. 고칠 내용은 사유와 함께 '회의 기록 수정'에서 고칩니다."), "info")
        return redirect(url_for("conferences.amend", uid=conference.uid))
    if conference.status != "scheduled":
        flash(gettext("취소된 회의는 결과를 기록할 수 없습니다."), "error")
        return redirect(url_for("conferences.view", uid=conference.uid))
    if not has_started(conference):
        return _render_record(conference, None, {}, 400 if request.method == "POST" else 200)
    form, close_forms = _record_form(conference), _close_forms(conference)
    if request.method == "GET":
        if conference.minutes is None:
            form.attended.data = [part.id for part in conference.participants]
        return _render_record(conference, form, close_forms, 200)
    valid = form.validate()
    closings = _closings(form, close_forms, conference)
    if valid and closings is not None:
        try:
            s.record_meeting(conference, current_user, attended_participant_ids=list(form.attended.data or []),
                             minutes=form.minutes.data, decisions=form.decisions_data(), closings=closings)
        except DomainError as error:  # NotPermitted too: the organiser side chose a decision only the
            db.session.rollback()        # case's school team or lead may record, so say so on the form
            attach_to_form(form, _field_for(error, {"attended_participant_ids": "attended"}))
        else:
            db.session.commit()
            flash(gettext("회의 결과를 기록했습니다."), "success")
            return redirect(url_for("conferences.view", uid=conference.uid))
    return _render_record(conference, form, close_forms, 400)


@bp.route("/<uid>/amend", methods=["GET", "POST"])
@login_required
def amend(uid: str):
    """Correct a recorded meeting's minutes and decisions with a reason; the earlier version is kept."""
    conference = load_conference_or_404(uid)
    if not access.is_organiser_side(current_user, conference):
        abort(403)
    if conference.status != "held":
        flash(gettext("결과가 기록된 회의만 수정할 수 있습니다."), "error")
        return redirect(url_for("conferences.view", uid=conference.uid))
    form = amend_form_class([cc.case_id for cc in conference.cases])()
    if request.method == "GET":
        form.minutes.data = conference.minutes
        for cc in conference.cases:
            fields = form.case_fields(cc.case_id)
            fields["decision"].data, fields["note"].data = cc.decision, cc.decision_note
            fields["next_review_on"].data = cc.next_review_on
    status = 200
    if request.method == "POST":
        status = 400
        if form.validate():
            saved, _ = save_or_show(form, lambda: s.amend_meeting(
                conference, current_user, reason=form.reason.data, minutes=form.minutes.data,
                decisions=form.decisions_data()))
            if saved:
                flash(gettext("회의 기록을 수정했습니다. 수정 전 기록은 수정 이력에 남아 있습니다."), "success")
                return redirect(url_for("conferences.view", uid=conference.uid) + "#amendments")
    html = render_template("conferences/amend.html", conference=conference, form=form, labels=LABELS,
                           prefix=case_prefix)
    # the form shows the whole record (minutes, every case's decision): a view of personal data
    record("conference_minutes_viewed", obj=conference, details={"amend": True})
    for cc in conference.cases:
        record("conference_case_viewed", obj=conference, subject=cc.case.student,
               details={"case": cc.case.uid, "amend": True})
    db.session.commit()
    return html, status
