"""Creating and changing students, with duplicate detection by blind index."""
from __future__ import annotations

import datetime as dt
from typing import NamedTuple

from flask_babel import gettext
from sqlalchemy import select
from sqlalchemy.orm import make_transient_to_detached

from .. import signals
from ..bulk import inserted_ids, insert_rows
from ..audit.bulk_append import append_rows, record_each, sealed_rows
from ..audit.services import record
from ..auth.models import Organisation
from ..db import blind_index_matches, today_kst, utcnow
from ..domain import DomainError, NotPermitted
from ..extensions import db
from ..i18n import N_
from ..permissions import SCHOOL_ROLES
from ..words import particle
from .models import Student

#: fields a school may set on a student (all but the school itself)
STUDENT_FIELDS = ("name", "birth_date", "grade", "class_no", "number", "phone", "address",
                  "parent_name", "parent_relation", "parent_phone", "neis_number",
                  "migrant_background", "home_language", "special_education")


class DuplicateStudent(DomainError):
    """A student with the same name and birth date already exists in this school."""

    def __init__(self, existing: list[Student]) -> None:
        super().__init__(gettext("같은 이름과 생년월일의 학생이 이미 등록되어 있습니다. 같은 학생인지 확인해 주세요."), "name")
        self.existing = existing


def _require_school_member(actor, school: Organisation) -> None:
    if actor is None or actor.role not in SCHOOL_ROLES or actor.organisation_id != school.id:
        raise NotPermitted(gettext("이 학교의 학생을 등록할 권한이 없습니다."))


#: the grades a school of each level has (a school without a level: any of 1–12)
GRADE_RANGES = {"elementary": 6, "middle": 3, "high": 3, "special": 12}
#: the level's name in a message ("학년은 1에서 6 사이여야 합니다 (초등학교)")
LEVEL_NAMES = {"elementary": N_("초등학교"), "middle": N_("중학교"), "high": N_("고등학교"), "special": N_("특수학교")}
MAX_GRADE = 12


def grade_top(school: Organisation | None) -> int:
    """The highest grade of ``school``'s level (6 at an elementary school)."""
    return GRADE_RANGES.get(school.school_level if school is not None else None, MAX_GRADE)


def _range_error(word: str, key: str, top: int, level: str | None = None) -> DomainError:
    # ``word``: the Korean field name (its particle); the message shows it in the reader's language
    label, eun = gettext(word), particle(word, "은/는")
    if level in LEVEL_NAMES:
        return DomainError(gettext("%(field)s%(eun)s 1에서 %(top)d 사이여야 합니다 (%(level)s).", field=label, eun=eun,
                                   top=top, level=gettext(LEVEL_NAMES[level])), key)
    return DomainError(gettext("%(field)s%(eun)s 1에서 %(top)d 사이여야 합니다.", field=label, eun=eun, top=top), key)


def student_field_errors(fields: dict, school: Organisation | None = None, partial: bool = False) -> list[DomainError]:
    """Every broken rule of ``fields``, each naming its field; ``partial`` checks only the fields
    given (a form that reports its own missing fields)."""
    errors: list[DomainError] = []
    if "name" in fields or not partial:
        name = (fields.get("name") or "").strip()
        if not name:
            errors.append(DomainError(gettext("학생 이름을 입력해 주세요."), "name"))
        elif len(name) > 50:
            errors.append(DomainError(gettext("이름은 50자 이내로 입력해 주세요."), "name"))
    birth = fields.get("birth_date")
    if birth is not None:
        if not isinstance(birth, dt.date):
            errors.append(DomainError(gettext("생년월일 형식이 올바르지 않습니다."), "birth_date"))
        elif birth > today_kst():
            errors.append(DomainError(gettext("생년월일은 오늘 이후일 수 없습니다."), "birth_date"))
        elif birth.year < 1990:
            errors.append(DomainError(gettext("생년월일은 1990년 이후여야 합니다."), "birth_date"))
    level = school.school_level if school is not None else None
    for key, label, top in (("grade", N_("학년"), grade_top(school)), ("class_no", N_("반"), 30), ("number", N_("번호"), 99)):
        value = fields.get(key)
        if value is not None and not (1 <= int(value) <= top):
            errors.append(_range_error(label, key, top, level if key == "grade" else None))
    return errors


def validate_student_fields(fields: dict, school: Organisation | None = None) -> None:
    """Rules every path (form, CSV, CLI) shares; raises the first broken one."""
    errors = student_field_errors(fields, school)
    if errors:
        raise errors[0]


def find_duplicates(school: Organisation, name: str, birth_date: dt.date | None) -> list[Student]:
    """Students of this school with the same name and birth date (blind index, no decryption)."""
    if not name or birth_date is None:
        return []
    query = select(Student).where(Student.school_id == school.id,
                                  blind_index_matches(Student.name_birth_bidx, name.strip(), birth_date))
    return list(db.session.execute(query).scalars())


def create_student(actor, school: Organisation, fields: dict, allow_duplicate: bool = False) -> Student:
    """Register a student of ``school``; refuses a likely duplicate unless confirmed."""
    _require_school_member(actor, school)
    validate_student_fields(fields, school)
    if not allow_duplicate:
        existing = find_duplicates(school, fields.get("name", ""), fields.get("birth_date"))
        if existing:
            raise DuplicateStudent(existing)
    student = Student(school_id=school.id)
    _assign(student, fields)
    db.session.add(student)
    db.session.flush()
    record("student_created", obj=student, subject=student, actor=actor,
           details={"duplicate_confirmed": bool(allow_duplicate)})
    return student


class NewStudent(NamedTuple):
    """A student an import will register, made ahead of the write lock (``new_students``)."""
    student: Student
    values: dict  # its row, as the unit of work would insert it
    event: dict  # its ``student_created`` event, sealed (audit.bulk_append.sealed_rows)


def new_students(actor, school: Organisation, rows: list[dict]) -> list[NewStudent]:
    """Validated, encrypted students of ``school``, not yet saved, with their rows and audit
    events: an import makes all of it before it takes the write lock, so encryption, blind
    indexes and event seals are not computed under it (``create_students`` saves them)."""
    _require_school_member(actor, school)
    students = []
    for fields in rows:
        validate_student_fields(fields, school)
        student = Student(school_id=school.id)
        _assign(student, fields)
        students.append(student)
    now = utcnow()
    events = sealed_rows("student_created", students, actor=actor, details={"duplicate_confirmed": True})
    return [NewStudent(student, _insert_values(student, now), event) for student, event in zip(students, events)]


def create_students(school: Organisation, new: list[NewStudent]) -> list[Student]:
    """Register students made by ``new_students`` (an import whose duplicates were checked):
    the same rows and audit events as ``create_student(..., allow_duplicate=True)`` per row,
    but one INSERT (executemany) and one audit append for all, without the unit of work's
    per-object cost, so the write transaction stays short.  What other features add for a new
    student (records: its retention row) follows the ``students_registered`` signal."""
    if not new:
        return []
    table = Student.__table__
    insert_rows(db.session.connection(), table, [n.values for n in new])
    students = [n.student for n in new]
    ids = inserted_ids(db.session.connection(), table, [s.uid for s in students])
    for n in new:
        n.student.id, n.student.created_at, n.student.updated_at = ids[n.student.uid], n.values["created_at"], n.values["updated_at"]
        make_transient_to_detached(n.student)  # saved: adding it to a session later does not insert it again
    signals.students_registered.send(school, students=students)
    append_rows([n.event for n in new])
    return students


def update_student(actor, student: Student, fields: dict, allow_duplicate: bool = False,
                   reason: str | None = None) -> Student:
    """Change a student's details; the audit event names the fields, never their values
    (``reason``: why, e.g. a 정정 request, kept as the event's reason)."""
    _require_school_member(actor, student.school)
    changed = _checked_change(student, fields, allow_duplicate)
    _assign(student, fields)
    record("student_updated", obj=student, subject=student, actor=actor, details={"fields": changed}, reason=reason)
    return student


def update_students(actor, school: Organisation, changes: list[tuple[Student, dict]]) -> int:
    """Change many registered students of ``school`` at once (an import's new classes in March):
    the rules and audit events of ``update_student`` for each, one audit append for all."""
    _require_school_member(actor, school)
    students, details = [], []
    for student, fields in changes:
        if student.school_id != school.id:  # the same refusal as for one student of another school
            _require_school_member(actor, student.school)
        details.append({"fields": _checked_change(student, fields)})
        _assign(student, fields)
        students.append(student)
    return record_each("student_updated", students, actor=actor, details_each=details)


def _checked_change(student: Student, fields: dict, allow_duplicate: bool = False) -> list[str]:
    """The fields ``fields`` would change, after checking the result (DomainError otherwise)."""
    merged = {key: getattr(student, key) for key in STUDENT_FIELDS}
    merged.update(fields)
    validate_student_fields(merged, student.school)
    if not allow_duplicate and (merged["name"], merged["birth_date"]) != (student.name, student.birth_date):
        others = [s for s in find_duplicates(student.school, merged["name"], merged["birth_date"]) if s.id != student.id]
        if others:
            raise DuplicateStudent(others)
    return [k for k in STUDENT_FIELDS if k in fields and fields[k] != getattr(student, k)]


def _insert_values(student: Student, now) -> dict:
    """The row the unit of work would insert for ``student`` (its column defaults applied)."""
    row = {"created_at": now, "updated_at": now}
    for column in Student.__table__.columns:
        if column.key in row or column.key == "id":
            continue
        value = student.__dict__.get(column.key)
        if value is None and column.default is not None and column.default.is_scalar:
            value = column.default.arg
        row[column.key] = value
    return row


def _assign(student: Student, fields: dict) -> None:
    for key in STUDENT_FIELDS:
        if key not in fields:
            continue
        value = fields[key]
        if isinstance(value, str):
            value = value.strip() or None
        if key in ("migrant_background", "special_education"):
            value = bool(value)
        setattr(student, key, value)
