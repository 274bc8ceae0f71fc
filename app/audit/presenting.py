"""An auditor's page of events as people read them: labels instead of codes and readable object
references ("사례 · 이음초 · 5학년") instead of UUIDs, with the raw values kept for the details.

The references of a whole page are loaded in two queries (students, users), never per row, so the
search page's statement count does not grow with the trail (tests/audit/test_query_counts.py).
A student appears as school and grade (and class), never by name; a district-office auditor gets
readable references for their own office's students only."""
from __future__ import annotations

import json
import re
from dataclasses import dataclass, field

from flask_babel import gettext
from sqlalchemy import select

from .. import permissions as p
from ..auth.models import Organisation, User
from ..extensions import db
from ..students.models import Student
from .labels import action_label, object_label, outcome_label
from .services import SAME_AS_SUBJECT

_UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-")
#: object types whose reference is a student's school and grade and class
STUDENT_OBJECTS = frozenset({"student"})


@dataclass
class StudentRef:
    school: str
    grade: int | None
    class_no: int | None

    def text(self, with_class: bool) -> str:
        parts = [self.school]
        if self.grade:
            parts.append(gettext("%(grade)d학년", grade=self.grade)
                         + (" " + gettext("%(no)d반", no=self.class_no) if with_class and self.class_no else ""))
        return " · ".join(parts)


@dataclass
class EventView:
    """One row of the search page: what the list shows, and the raw values for <details>."""

    id: int
    occurred_at: object
    actor: str | None
    actor_id: int | None
    role: str
    action: str
    action_label: str
    outcome: str
    outcome_label: str
    reference: str
    object_type: str | None
    object_id: str | None
    subject_ref: str | None
    reason: str | None
    ip: str | None
    details: list[tuple[str, str]] = field(default_factory=list)


def office_scope(auditor) -> str | None:
    """The district office an auditor is limited to; None for the city office (all)."""
    org = getattr(auditor, "organisation", None)
    return org.office_code if org is not None and org.kind == "district_office" else None


def student_refs(uids: set[str], office: str | None) -> dict[str, StudentRef]:
    """uid -> school and grade of these students (one query), limited to ``office`` if given."""
    if not uids:
        return {}
    query = (select(Student.uid, Organisation.name, Student.grade, Student.class_no)
             .join(Organisation, Student.school_id == Organisation.id).where(Student.uid.in_(uids)))
    if office is not None:
        query = query.where(Organisation.office_code == office)
    return {uid: StudentRef(name, grade, class_no) for uid, name, grade, class_no in db.session.execute(query)}


def user_refs(uids: set[str]) -> dict[str, tuple[str, str]]:
    """uid -> (login, role) of these user accounts (one query)."""
    if not uids:
        return {}
    return {uid: (login, role) for uid, login, role in
            db.session.execute(select(User.uid, User.login, User.role).where(User.uid.in_(uids)))}


def role_label(role: str | None) -> str:
    entry = p.ROLES.get(role or "")
    return gettext(entry[0]) if entry else (role or "")


def _details(text: str | None) -> list[tuple[str, str]]:
    """The JSON details as (key, value) pairs, with no "null" (an empty value is left out)."""
    if not text:
        return []
    try:
        data = json.loads(text)
    except ValueError:
        return [("", text)]
    if not isinstance(data, dict):
        return [("", str(data))]
    out = []
    for key, value in data.items():
        if value is None or value == "" or value == [] or value == {}:
            continue
        if isinstance(value, bool):
            value = gettext("예") if value else gettext("아니요")
        elif isinstance(value, (list, dict)):
            value = json.dumps(value, ensure_ascii=False)
        out.append((key, str(value)))
    return out


def _reference(row, students: dict, users: dict) -> str:
    kind = row.object_type
    label = object_label(kind) if kind else ""
    student = students.get(row.subject_ref or "") or (students.get(row.object_id or "") if kind in STUDENT_OBJECTS else None)
    if student is not None:
        return " · ".join(part for part in (label or gettext("학생"), student.text(kind in STUDENT_OBJECTS)) if part)
    if kind in ("user", "user_account") and row.object_id in users:
        login, role = users[row.object_id]
        return f"{label} · {login} ({role_label(role)})"
    if row.subject_ref:  # a student outside the auditor's office, or no longer in the database
        return " · ".join(part for part in (label, gettext("정보주체 있음")) if part)
    if row.object_id and row.object_id != SAME_AS_SUBJECT and not _UUID.match(row.object_id) and len(row.object_id) <= 40:
        return " · ".join(part for part in (label, row.object_id) if part)  # a month, a page, a level
    return label or "-"


def present(rows, auditor) -> list[EventView]:
    """The rows of a search page, with their references loaded for the whole page at once."""
    if not rows:
        return []
    subject_uids = {r.subject_ref for r in rows if r.subject_ref}
    subject_uids |= {r.object_id for r in rows if r.object_type in STUDENT_OBJECTS and r.object_id}
    students = student_refs(subject_uids, office_scope(auditor))
    users = user_refs({r.object_id for r in rows if r.object_type in ("user", "user_account") and r.object_id})
    return [EventView(
        id=r.id, occurred_at=r.occurred_at, actor=r.actor_login, actor_id=r.actor_id, role=role_label(r.role),
        action=r.action, action_label=action_label(r.action), outcome=r.outcome, outcome_label=outcome_label(r.outcome),
        reference=_reference(r, students, users), object_type=r.object_type,
        object_id=r.subject_ref if r.object_id == SAME_AS_SUBJECT else r.object_id,
        subject_ref=r.subject_ref, reason=r.reason, ip=r.ip, details=_details(r.details)) for r in rows]
