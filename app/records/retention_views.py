"""Retention screens for the school lead: students due within 90 days (and those with no date,
확인 필요), and one student's retention page with the legal-hold and 학업 중단 forms.  The student
page shows the date and rule through the ``retention_summary`` template global."""
from __future__ import annotations

import datetime as dt

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _, lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import func, select
from sqlalchemy.orm import joinedload

from .. import permissions as p
from ..audit.services import record
from ..cases.loaders import load_student_or_404
from ..db import today_kst
from ..domain import DomainError, NotPermitted, attach_to_form
from ..extensions import db
from ..navigation import add_nav
from . import bp
from ..students.models import Student
from .retention_forms import LeftSchoolForm, LegalHoldForm
from .retention_models import LegalHold, StudentRetention
from .retention_services import (DUE_WINDOW_DAYS, active_holds, record_left_school, retention_of, set_legal_hold)

RULE_LABELS = {"completion": _l("고등학교 졸업 예정"), "age19": _l("학업 중단: 만 19세"), "unknown": _l("확인 필요")}
MISSING_LABELS = {"grade": _l("학년 정보가 없습니다"), "level": _l("학교급 정보가 없습니다"),
                  "birth_date": _l("생년월일이 없습니다")}

add_nav("records.retention_due", _l("보존 기한"), p.SCHOOL_LEAD)
lead_only = p.roles_required(p.SCHOOL_LEAD)


@bp.app_template_global("retention_summary")
def retention_summary(student):
    """The date, rule and holds for the student page (the school team of the student's school)."""
    if not p.can_view_retention(current_user, student):
        return None
    row = retention_of(student)
    return {"row": row, "rule": RULE_LABELS.get(row.rule, row.rule), "missing": MISSING_LABELS.get(row.missing),
            "holds": active_holds(student), "can_manage": p.can_manage_retention(current_user, student)}


def _held_until(student_ids: list[int], today) -> dict[int, object]:
    if not student_ids:
        return {}
    rows = db.session.execute(select(LegalHold.student_id, func.max(LegalHold.ends_on))
                              .where(LegalHold.student_id.in_(student_ids), LegalHold.ends_on >= today)
                              .group_by(LegalHold.student_id))
    return dict(rows.all())


@bp.route("/retention")
@lead_only
def retention_due():
    """The school's students due within 90 days (or, with show=unknown, those with no date)."""

    show = "unknown" if request.args.get("show") == "unknown" else "due"
    today = today_kst()
    query = (select(StudentRetention).join(Student, Student.id == StudentRetention.student_id)
             .where(Student.school_id == current_user.organisation_id)
             .options(joinedload(StudentRetention.student)))
    if show == "unknown":
        query = query.where(StudentRetention.until.is_(None)).order_by(Student.grade, Student.class_no,
                                                                        Student.number, Student.id)
    else:
        query = query.where(StudentRetention.until <= today + dt.timedelta(days=DUE_WINDOW_DAYS))
        query = query.order_by(StudentRetention.until, Student.id)
    page = db.paginate(query, per_page=current_app.config["PAGE_SIZE"], error_out=False)
    held = _held_until([row.student_id for row in page.items], today)
    record("retention_list_viewed", object_type="student",
           details={"show": show, "page": page.page, "shown": len(page.items)})
    html = render_template("records/retention_due.html", page=page, show=show, held=held, today=today,
                           rules=RULE_LABELS, missing=MISSING_LABELS, window=DUE_WINDOW_DAYS)
    db.session.commit()
    return html


def _manage_page(student, hold_form=None, left_form=None, status=200):
    """The student's retention page; it names the student, so each rendering is recorded."""
    row = retention_of(student)
    hold_form = hold_form or LegalHoldForm(formdata=None)
    left_form = left_form or LeftSchoolForm(formdata=None, left_school_on=row.left_school_on)
    holds = db.session.execute(select(LegalHold).where(LegalHold.student_id == student.id)
                               .options(joinedload(LegalHold.set_by))
                               .order_by(LegalHold.ends_on.desc(), LegalHold.id.desc())).scalars().all()
    record("retention_viewed", obj=student, subject=student)
    html = render_template("records/retention_student.html", student=student, row=row, holds=holds,
                           today=today_kst(), rule=RULE_LABELS.get(row.rule, row.rule),
                           missing=MISSING_LABELS.get(row.missing), hold_form=hold_form, left_form=left_form)
    db.session.commit()
    return html, status


def _load(uid):
    student = load_student_or_404(uid)
    if not p.can_manage_retention(current_user, student):
        abort(403)
    return student


@bp.route("/retention/students/<uid>")
@lead_only
def retention_student(uid):
    """One student's retention date, rule and holds, with the lead's forms."""
    return _manage_page(_load(uid))


@bp.route("/retention/students/<uid>/hold", methods=["POST"])
@lead_only
def retention_hold(uid):
    """Set a legal hold that keeps the student's data until its end date."""
    student = _load(uid)
    form = LegalHoldForm()
    if form.validate_on_submit():
        try:
            set_legal_hold(current_user, student, form.reason.data, form.ends_on.data)
        except NotPermitted:
            abort(403)
        except DomainError as error:
            db.session.rollback()
            attach_to_form(form, error)
        else:
            db.session.commit()
            flash(_("보존 연장을 설정했습니다."), "success")
            return redirect(url_for(".retention_student", uid=student.uid))
    return _manage_page(student, hold_form=form, status=400)


@bp.route("/retention/students/<uid>/left-school", methods=["POST"])
@lead_only
def retention_left_school(uid):
    """Record (or clear) the day the student left school (학업 중단·자퇴·제적)."""
    student = _load(uid)
    form = LeftSchoolForm()
    if form.validate_on_submit():
        try:
            record_left_school(current_user, student, form.left_school_on.data)
        except NotPermitted:
            abort(403)
        except DomainError as error:
            db.session.rollback()
            attach_to_form(form, error)
        else:
            db.session.commit()
            flash(_("학업 중단일을 저장했습니다.") if form.left_school_on.data else _("학업 중단일을 지웠습니다."), "success")
            return redirect(url_for(".retention_student", uid=student.uid))
    return _manage_page(student, left_form=form, status=400)
