"""Finding a data subject by name and birth date (정보주체 찾기): an auditor answering a parent's
request to see who viewed their child's records types what the parent gave, and gets the
student's pseudonymous reference, with school and grade only (no case content, no name).

The name and birth date are matched through the students' composite blind index (the same HMAC
the students package stores in ``name_birth_bidx``), so nothing is decrypted to search; a
district-office auditor finds their own office's students only.  The lookup is audited with the
number of candidates and their references, never with the name or the birth date."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import select

from ..auth.models import Organisation
from ..db import blind_index_matches
from ..extensions import db
from ..students.models import Student
from .presenting import StudentRef, office_scope
from .services import record

#: more candidates than this is not an answer an auditor can use
MAX_CANDIDATES = 20


@dataclass
class Candidate:
    uid: str
    ref: StudentRef

    @property
    def text(self) -> str:
        return self.ref.text(with_class=True)


def find_subjects(name: str, birth_date: dt.date, auditor) -> list[Candidate]:
    """Students with this name and birth date within the auditor's reach, audited (the caller commits)."""
    office = office_scope(auditor)
    query = (select(Student.uid, Organisation.name, Student.grade, Student.class_no)
             .join(Organisation, Student.school_id == Organisation.id)
             .where(blind_index_matches(Student.name_birth_bidx, (name or "").strip(), birth_date))
             .order_by(Organisation.name, Student.grade, Student.class_no, Student.id).limit(MAX_CANDIDATES))
    if office is not None:
        query = query.where(Organisation.office_code == office)
    found = [Candidate(uid, StudentRef(school, grade, class_no))
             for uid, school, grade, class_no in db.session.execute(query)]
    record("audit_subject_looked_up", actor=auditor, object_type="student",
           details={"found": len(found), "scope": office or "city", "subjects": [c.uid for c in found]})
    return found
