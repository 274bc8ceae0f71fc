"""Student screens: list and search, registration with the duplicate warning, CSV import."""
from __future__ import annotations

from flask import Response, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _, lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import func, select
from sqlalchemy.orm import joinedload, selectinload

from .. import permissions as p
from .. import searches
from ..audit.services import record
from ..csv_import import two_step_import
from ..cases.loaders import load_student_or_404
from ..cases.models import OPEN_STATUSES, SupportCase
from ..domain import DomainError, NotPermitted, attach_to_form
from ..exports import csv_text
from ..extensions import db
from ..i18n import language
from ..navigation import add_nav
from ..transactions import read_first
from . import bp
from .forms import ImportUploadForm, NewStudentForm, StudentForm, StudentSearchForm
from .importer import COLUMNS, REQUIRED, ImportResult, header_names, import_class_list, parse_class_list, template_headers
from .models import Student
from .queries import SCAN_LIMIT, search_condition, search_students
from .services import DuplicateStudent, create_student, update_student


school_team = p.roles_required(*p.SCHOOL_ROLES)
readers = p.roles_required(*p.SCHOOL_ROLES, p.DISTRICT_COORDINATOR)

add_nav("students.index", _l("학생"), p.SCHOOL_STAFF, p.SCHOOL_LEAD)


def open_case_counts(student_ids: list[int]) -> dict[int, int]:
    """Open cases per student, for one page of students in one query."""
    if not student_ids:
        return {}
    rows = db.session.execute(
        select(SupportCase.student_id, func.count(SupportCase.id))
        .where(SupportCase.student_id.in_(student_ids), SupportCase.status.in_(OPEN_STATUSES),
               p.case_scope(current_user))
        .group_by(SupportCase.student_id))
    return dict(rows.all())


@bp.route("/", methods=["GET", "POST"])
@readers
def index():
    """The students of the user's school (or district), searchable, paginated.  A search is posted
    and the list then carries only an opaque token (app/searches.py): no name in any URL."""
    if request.method == "POST":
        form = StudentSearchForm(request.form)
        if form.validate():
            q = (form.q.data or "").strip()
            args = {searches.ARG: searches.remember("students", q)} if q else {}
            return redirect(url_for("students.index", **args))
        token, q = None, ""
    else:
        token = request.args.get(searches.ARG)
        q = searches.recall("students", token)
        form = StudentSearchForm(formdata=None, q=q)
    query = select(Student).where(p.student_scope(current_user)).options(joinedload(Student.school))
    if q and current_user.role in p.SCHOOL_ROLES:
        # a part of a name: matched in the app among the school's decrypted students (bounded)
        found, _more = search_students(select(Student).where(p.student_scope(current_user)), q, SCAN_LIMIT)
        query = query.where(Student.id.in_([s.id for s in found]))
    elif q:  # a district's list: the exact name or number (blind index), no mass decryption
        query = query.where(search_condition(q))
    query = query.order_by(Student.school_id, Student.grade, Student.class_no, Student.number, Student.id)
    page = db.paginate(query, per_page=current_app.config["PAGE_SIZE"], error_out=False)
    # a list shows names: it is a view of personal data, recorded without the search text
    record("student_list_viewed", object_type="student",
           details={"searched": bool(q), "page": page.page, "shown": len(page.items)})
    html = render_template("students/list.html", form=form, page=page, q=q,
                           page_args={searches.ARG: token} if q else {},
                           counts=open_case_counts([s.id for s in page.items]),
                           district=current_user.role == p.DISTRICT_COORDINATOR,
                           can_edit=current_user.role in p.SCHOOL_ROLES)
    db.session.commit()  # after rendering, so the page's rows are not expired and reloaded one by one
    return html, (400 if form.errors else 200)


@bp.route("/new", methods=["GET", "POST"])
@school_team
def new():
    """Register a student; a likely duplicate is shown first and saved only when confirmed."""
    form = NewStudentForm()
    duplicates = []
    if form.validate_on_submit():
        try:
            student = create_student(current_user, current_user.organisation, form.student_fields(),
                                     allow_duplicate=form.confirm_duplicate.data)
        except DuplicateStudent as duplicate:
            db.session.rollback()
            duplicates = duplicate.existing
            attach_to_form(form, duplicate)
        except NotPermitted:
            abort(403)
        except DomainError as error:
            db.session.rollback()
            attach_to_form(form, error)
        else:
            db.session.commit()
            flash(_("학생을 등록했습니다."), "success")
            return redirect(url_for(".view", uid=student.uid))
    return render_template("students/new.html", form=form, duplicates=duplicates), (400 if form.errors else 200)


def _render_student(student: Student, form: StudentForm | None, status: int = 200):
    """The student page; every rendering shows personal data, so each one is recorded."""
    cases = db.session.execute(
        select(SupportCase).where(SupportCase.student_id == student.id, p.case_scope(current_user))
        .options(selectinload(SupportCase.needs))
        .order_by(SupportCase.requested_on.desc(), SupportCase.id.desc())).scalars().all()
    record("student_viewed", obj=student, subject=student)
    html = render_template("students/view.html", student=student, cases=cases, form=form, can_edit=form is not None)
    db.session.commit()  # the view is recorded before the page leaves; rendering first keeps rows loaded
    return html, status


@bp.route("/<uid>")
@readers
def view(uid):
    """A student's details and cases, with the edit form for the school team."""
    student = load_student_or_404(uid)
    form = StudentForm(formdata=None, obj=student) if current_user.role in p.SCHOOL_ROLES else None
    return _render_student(student, form)


@bp.route("/<uid>/edit", methods=["POST"])
@school_team
def edit(uid):
    """Save changes to a student's details."""
    student = load_student_or_404(uid)
    form = StudentForm()
    if form.validate_on_submit():
        try:
            update_student(current_user, student, form.student_fields())
        except NotPermitted:
            abort(403)
        except DomainError as error:
            db.session.rollback()
            attach_to_form(form, error)
        else:
            db.session.commit()
            flash(_("학생 정보를 저장했습니다."), "success")
            return redirect(url_for(".view", uid=student.uid))
    return _render_student(student, form, 400)


@bp.route("/import", methods=["GET", "POST"])
@read_first  # the upload and preview only read; the confirmation takes the write lock just to save
@school_team
def import_csv():
    """Upload a class list, check every row in a preview, then save all rows or none."""
    school = current_user.organisation

    def saved(result: ImportResult):
        flash(_("학생 %(added)d명을 등록하고 %(updated)d명의 학년·반·번호를 바꿨습니다.",
                added=result.added, updated=result.updated), "success")
        return redirect(url_for(".index"))
    return two_step_import("students/import.html", ImportUploadForm, lambda raw: parse_class_list(raw, school),
                          lambda raw: import_class_list(current_user, school, raw), saved,
                          required_columns=header_names(REQUIRED, language()),
                          optional_columns=header_names([k for k in COLUMNS if k not in REQUIRED], language()))


@bp.route("/import/template.csv")
@school_team
def import_template():
    """The class-list template: the headers the importer reads (Korean, or English for an English
    reader), UTF-8 with a BOM for Excel."""
    return Response(csv_text(template_headers(language()), []), mimetype="text/csv; charset=utf-8",
                    headers={"Content-Disposition": "attachment; filename*=UTF-8''class-list-template.csv"})
