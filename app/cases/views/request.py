"""Case screens: request — 지원 요청 on one screen, with the student picked or created inline."""
from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import select

from ... import permissions as p
from ... import searches
from ...audit.services import record
from ...domain import DomainError, NotPermitted, attach_to_form
from ...extensions import db
from ...navigation import add_nav
from ...students.models import Student
from ...students.services import DuplicateStudent, create_student
from ...students.queries import search_condition
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


def _student_choices(q: str, picked: Student | None) -> tuple[list[tuple[str, str]], bool]:
    """(uid, label) of the school's students for the picker, and whether the list was cut short."""
    query = select(Student).where(p.student_scope(current_user))
    if q:
        query = query.where(search_condition(q))
    query = query.order_by(Student.grade, Student.class_no, Student.number, Student.id).limit(PICK_LIMIT + 1)
    students = list(db.session.execute(query).scalars())
    more = len(students) > PICK_LIMIT
    students = students[:PICK_LIMIT]
    if picked is not None and picked not in students:
        students.insert(0, picked)
    return [(s.uid, f"{s.name} ({s.class_label or '학년·반 미입력'})") for s in students], more


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
    if request.form.get("use_existing"):
        # "this is the registered student" from the duplicate warning: pick them instead
        form.student_mode.data, form.student.data = "existing", request.form["use_existing"]
    uid = form.student.data if request.method == "POST" else request.args.get("student")
    picked = load_student_or_404(uid) if uid else None  # another school's uid: audited 404
    # the search text comes back only as an opaque token (find_student): never a name in the URL
    token = request.args.get(searches.ARG) or ""
    q = searches.recall("case_request", token)
    duplicates: list[Student] = []
    open_case = None
    if form.validate_on_submit():
        inline = form.student_mode.data == "new"
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
            flash("진행 중인 사례에 요청을 더했습니다." if existing is not None else "지원 요청을 등록했습니다.", "success")
            return redirect(url_for("cases.view", uid=case.uid))
    elif request.method == "GET" and picked is not None:
        form.student_mode.data, form.student.data = "existing", picked.uid
    choices, more = _student_choices(q, picked)
    if request.method == "GET" and picked is None:
        if q and len(choices) == 1:
            form.student.data = choices[0][0]
        if not choices and not q:
            form.student_mode.data = "new"
    form.student.choices = [("", "학생을 선택해 주세요"), *choices]
    # the picker shows names: a view of personal data, recorded without the search text
    record("student_list_viewed", object_type="student",
           details={"screen": "case_request", "searched": bool(q), "shown": len(choices)})
    html = render_template("cases/new.html", form=form, duplicates=duplicates, q=q, more=more, open_case=open_case,
                           page_args={searches.ARG: token} if q else {},
                           domains=[(d, label, desc_field(d)) for d, label in DOMAINS.items()])
    db.session.commit()
    return html, (400 if form.errors else 200)


@bp.post("/new/find-student")
@school_team
def find_student():
    """The picker's search box: keep the posted name or number in the session and show the request
    screen with only its token in the URL."""
    q = (request.form.get("q") or "").strip()[:50]
    return redirect(url_for("cases.new", **({searches.ARG: searches.remember("case_request", q)} if q else {})))
