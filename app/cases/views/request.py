"""Case screens: request — 지원 요청 on one screen, with the student picked or created inline."""
from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _, lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import select

from ... import permissions as p
from ...audit.services import record
from ... import submissions
from ...domain import DomainError, NotPermitted, attach_to_form
from ...extensions import db
from ...navigation import add_nav
from ...students.models import Student
from ...students.services import DuplicateStudent, create_student, grade_top, student_field_errors
from ...students.queries import ORDER, search_students
from .. import bp
from ..forms.request import NEW_STUDENT_FIELDS, RequestForm, desc_field
from ..loaders import load_student_or_404
from ..models import DOMAINS
from ..needs import add_request_to_case
from ..services import OpenCaseExists, create_request, open_case_of

#: the picker lists at most this many students; a bigger school searches by name first
PICK_LIMIT = 300

school_team = p.roles_required(*p.SCHOOL_ROLES)

add_nav("cases.new", _l("지원 요청"), p.SCHOOL_STAFF, p.SCHOOL_LEAD)


#: the submit button that searches the picker and shows the form again, saving nothing
FIND = "find"
#: the form's first (hidden) button, the one Enter presses when no script stops it: show the form again
STAY = "stay"


def _student_choices(q: str, picked: Student | None) -> tuple[list[tuple[str, str]], bool, list[str]]:
    """(uid, label) of the school's students for the picker, whether the list was cut short, and
    the uids the search found (partial names: see students.queries)."""
    query = select(Student).where(p.student_scope(current_user))
    if q:
        students, more = search_students(query, q, PICK_LIMIT)
    else:
        students = list(db.session.execute(query.order_by(*ORDER).limit(PICK_LIMIT + 1)).scalars())
        more = len(students) > PICK_LIMIT
        students = students[:PICK_LIMIT]
    found = [s.uid for s in students]
    if picked is not None and picked not in students:
        students.insert(0, picked)
    unset = _("학년·반 미입력")
    return [(s.uid, f"{s.name} ({s.class_label or unset})") for s in students], more, found


def _student_errors(form: RequestForm, valid: bool) -> bool:
    """Beside the form's own messages, the service's rules for the inline student's fields
    (grade range of the school level …), so every message comes in one round; True when the
    form and those rules are satisfied."""
    if form.student_mode.data != "new":
        return valid
    fields = {key: form[name].data for name, key in NEW_STUDENT_FIELDS.items() if not form[name].errors}
    errors = student_field_errors(fields, current_user.organisation, partial=True)
    for error in errors:
        attach_to_form(form, _field_for(error, True))
    return valid and not errors


def _field_for(error: DomainError, inline_student: bool) -> DomainError:
    """create_student names its own fields; on this screen they carry the new_ prefix."""
    if inline_student:
        names = {key: name for name, key in NEW_STUDENT_FIELDS.items()}
        if error.field in names:
            error.field = names[error.field]
    return error


@bp.route("/new", methods=["GET", "POST"])
@school_team
def new():
    """Log a request for support (법 10②) on one screen; a new student and the case are saved together."""
    form = RequestForm()
    form.new_grade.render_kw = {**form.new_grade.render_kw, "max": grade_top(current_user.organisation)}
    if request.form.get("use_existing"):
        # "this is the registered student" from the duplicate warning: pick them instead
        form.student_mode.data, form.student.data = "existing", request.form["use_existing"]
    uid = form.student.data if request.method == "POST" else request.args.get("student")
    picked = load_student_or_404(uid) if uid else None  # another school's uid: audited 404
    # the search text is only ever posted (the 찾기 button sends it with everything typed so far):
    # never a name in a URL
    action = request.form.get("action") if request.method == "POST" else None
    finding = action in (FIND, STAY)
    q = (request.form.get("q") or "").strip()[:50] if request.method == "POST" else ""
    duplicates: list[Student] = []
    open_case = None
    if finding:  # nothing is saved or checked: the form comes back with the picker searched
        if action == FIND:
            form.student_mode.data = "existing"
    elif request.method == "POST" and _student_errors(form, form.validate_on_submit()):
        inline = form.student_mode.data == "new"
        submissions.once(form)  # a repeat goes where the first went, changing nothing
        try:
            student = (create_student(current_user, current_user.organisation, form.new_student_fields(),
                                      allow_duplicate=form.confirm_duplicate.data) if inline else picked)
            existing = open_case_of(student) if not inline and form.add_to_open_case.data else None
            if existing is not None:  # one open case per student: the request joins it
                add_request_to_case(existing, current_user, requested_by=form.requested_by.data,
                                    needs=form.need_list(), summary=form.summary.data or "")
                case = existing
            else:
                case = create_request(current_user, student, requested_by=form.requested_by.data,
                                      needs=form.need_list(), risk_level=form.risk_level.data,
                                      summary=form.summary.data or "")
        except NotPermitted:
            abort(403)
        except OpenCaseExists as refused:
            db.session.rollback()
            open_case = refused.case
            attach_to_form(form, refused)
        except DuplicateStudent as duplicate:
            db.session.rollback()
            duplicates = duplicate.existing
            attach_to_form(form, _field_for(duplicate, True))
        except DomainError as error:
            db.session.rollback()  # the inline student goes with the refused case
            attach_to_form(form, _field_for(error, inline))
        else:
            db.session.commit()
            flash(_("진행 중인 사례에 요청을 더했습니다.") if existing is not None else _("지원 요청을 등록했습니다."),
                  "success")
            return redirect(url_for("cases.view", uid=case.uid))
    elif request.method == "GET" and picked is not None:
        form.student_mode.data, form.student.data = "existing", picked.uid
    choices, more, found = _student_choices(q, picked)
    if (request.method == "GET" or finding) and (picked is None or finding):
        if q and len(found) == 1:
            form.student.data = found[0]
        if not choices and not q:
            form.student_mode.data = "new"
    form.student.choices = [("", _("학생을 선택해 주세요")), *choices]
    # the picker shows names: a view of personal data, recorded without the search text
    record("student_list_viewed", object_type="student",
           details={"screen": "case_request", "searched": bool(q), "shown": len(choices)})
    html = render_template("cases/new.html", form=form, duplicates=duplicates, q=q, more=more, open_case=open_case,
                           found=found, finding=finding,
                           domains=[(d, label, desc_field(d)) for d, label in DOMAINS.items()])
    db.session.commit()
    return html, (400 if form.errors else 200)

