"""Read-side helpers for student lists and pickers.

Names are encrypted; the blind index finds an exact name or NEIS number without decryption.  A
part of a name ("서준", "김") is found within one school: its students (at most SCAN_LIMIT of them)
are decrypted in the app and matched there, so no name or part of one is ever stored in clear
or sent to the database.
"""
from __future__ import annotations

from sqlalchemy import or_

from ..db import blind_index_matches
from ..extensions import db
from .models import Student

#: a partial-name search decrypts at most this many of the scope's students
SCAN_LIMIT = 3000
#: the usual order of a school's student list
ORDER = (Student.grade, Student.class_no, Student.number, Student.id)


def search_condition(q: str):
    """Exact match on the blind index of the name or the NEIS number (no decryption in SQL)."""
    return or_(blind_index_matches(Student.name_bidx, q), blind_index_matches(Student.neis_number_bidx, q))


def _folded(text: str | None) -> str:
    return "".join((text or "").split()).casefold()


def search_students(query, q: str, limit: int) -> tuple[list[Student], bool]:
    """The students of ``query`` (a select of Student already limited to the user's scope) whose
    name contains ``q`` or whose name or NEIS number is exactly ``q``; exact matches first.
    Returns at most ``limit`` students and whether more matched."""
    q = (q or "").strip()
    exact = list(db.session.execute(query.where(search_condition(q)).order_by(*ORDER).limit(limit + 1)).scalars())
    needle = _folded(q)
    seen = {s.id for s in exact}
    found = list(exact)
    if needle:
        for student in db.session.execute(query.order_by(*ORDER).limit(SCAN_LIMIT)).scalars():
            if student.id not in seen and needle in _folded(student.name):
                found.append(student)
                seen.add(student.id)
                if len(found) > limit:
                    break
    return found[:limit], len(found) > limit
