"""Other people's names inside the 열람 copy's texts (법 제35조④2호): an alert or a chronology line
may name the education guardian ("교육후견인 ○○○님이 종료를 요청했습니다"), and a conference line
may name an external participant or another student discussed at the same meeting.  The copy
keeps the text and masks those names; it says so in its "withheld" list.

Only names of people tied to this student's cases are masked (their guardians, the external
participants and the other students of their conferences), and only names of two characters or
more, so ordinary words are left alone."""
from __future__ import annotations

from flask_babel import gettext
from sqlalchemy import select

from ..cases.models import SupportCase
from ..conferences.models import ConferenceCase, ConferenceParticipant
from ..extensions import db
from ..guardians.models import Assignment, Guardian
from ..students.models import Student

MASK = "○○○"


def other_names(student: Student, case_ids: list[int]) -> list[str]:
    """The names to mask, longest first (a full name before a part of it)."""
    if not case_ids:
        return []
    names: set = set()
    guardians = select(Assignment.guardian_id).where(Assignment.case_id.in_(case_ids))
    names.update(g.name for g in db.session.scalars(select(Guardian).where(Guardian.id.in_(guardians))))
    conferences = select(ConferenceCase.conference_id).where(ConferenceCase.case_id.in_(case_ids))
    names.update(p.external_name for p in db.session.scalars(
        select(ConferenceParticipant).where(ConferenceParticipant.conference_id.in_(conferences))))
    others = (select(SupportCase.student_id).join(ConferenceCase, ConferenceCase.case_id == SupportCase.id)
              .where(ConferenceCase.conference_id.in_(conferences), SupportCase.student_id != student.id))
    for other in db.session.scalars(select(Student).where(Student.id.in_(others))):
        names.update((other.name, other.parent_name))
    own = {student.name, student.parent_name}
    found = {n.strip() for n in names if isinstance(n, str) and len(n.strip()) >= 2} - own
    return sorted(found, key=len, reverse=True)


def mask_sections(sections, names: list[str]) -> bool:
    """Mask ``names`` in every field of ``sections``; whether anything was masked."""
    if not names:
        return False
    masked = False
    for section in sections:
        for item in section.items:
            fields = []
            for label, value in item.fields:
                for name in names:
                    if name in value:
                        value, masked = value.replace(name, MASK), True
                fields.append((label, value))
            item.fields = fields
    return masked


def withheld_line() -> tuple[str, str]:
    return (gettext("기록 본문에 나온 다른 사람(교육후견인, 회의 외부 참석자, 함께 논의된 학생·보호자)의 이름"),
            gettext("다른 사람의 개인정보라 %(mask)s으로 가렸습니다(제35조④2호).", mask=MASK))
