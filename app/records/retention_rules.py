"""When a student's data must go (학생맞춤통합지원법 시행령 제10조⑤): pure date rules, no database.

The law keeps the information used to select and support a student "until the student completes
high school, or until age 19 for a student who leaves school".  Decisions (documented here because
the law gives no more detail):

* A school year starts on 1 March and ends on the last day of February (Feb 28/29).
* **completion** (졸업 예정): from the school's level and the student's grade *as recorded in the
  school year the grade was written* (``grade_year``), the last day of February after the student's
  expected last high-school year: elementary 6 grades, middle 3, high 3.  A 특수학교 (special)
  records grades 1–12 as one run (1–6 초, 7–9 중, 10–12 고).  Example: a grade-2 middle-school
  student in school year 2026 completes high school on 2031-02-28.  A student held back is
  re-graded by the school (the class-list import), which recomputes the date.
* **age19** (학업 중단·자퇴·제적): a student who left school (``left_school_on`` recorded by the
  lead) is kept until the 19th birthday (만 19세; a 29 February birthday counts as 28 February),
  whatever their grade.
* **unknown** (확인 필요): a missing grade or school level (completion), or a missing birth date
  (age19), gives no date: nothing is ever deleted on a guess; the lead's page lists these students.
* The date is the *last day kept*: ``flask retention run`` removes a student the day after it.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Optional

#: grades of each level, and the grades the student still has in the levels after it
LEVEL_GRADES = {"elementary": 6, "middle": 3, "high": 3, "special": 12}
LATER_YEARS = {"elementary": 6, "middle": 3, "high": 0, "special": 0}
#: the rule codes stored per student
RULES = ("completion", "age19", "unknown")
LEAVING_AGE = 19


@dataclass(frozen=True)
class Retention:
    """A student's retention: the rule that applies and the last day kept (None: 확인 필요)."""

    rule: str
    until: Optional[dt.date]
    #: why there is no date: "grade", "level" or "birth_date" (None when there is one)
    missing: Optional[str] = None


def school_year(day: dt.date) -> int:
    """The school year ``day`` falls in (1 March – end of February): 2027-02-10 → 2026."""
    return day.year if day.month >= 3 else day.year - 1


def end_of_february(year: int) -> dt.date:
    """The last day of February of ``year`` (the last day of the school year ``year - 1``)."""
    return dt.date(year, 3, 1) - dt.timedelta(days=1)


def completion_date(level: str, grade: int, grade_year: int) -> Optional[dt.date]:
    """The end of the school year in which a student of ``level`` in ``grade`` (recorded in
    ``grade_year``) completes high school; None for an unknown level or an impossible grade."""
    top = LEVEL_GRADES.get(level)
    if top is None or grade is None or not 1 <= grade <= top:
        return None
    years_after_this = (top - grade) + LATER_YEARS[level]
    return end_of_february(grade_year + years_after_this + 1)


def birthday_at(birth: dt.date, age: int) -> dt.date:
    """The day a person born on ``birth`` turns ``age`` (29 Feb → 28 Feb in a common year)."""
    try:
        return birth.replace(year=birth.year + age)
    except ValueError:
        return birth.replace(year=birth.year + age, day=28)


def retention_for(*, level: Optional[str], grade: Optional[int], grade_year: int,
                  left_school_on: Optional[dt.date], birth_date: Optional[dt.date]) -> Retention:
    """Which rule applies and its date (see the module docstring)."""
    if left_school_on is not None:
        if birth_date is None:
            return Retention("unknown", None, "birth_date")
        return Retention("age19", birthday_at(birth_date, LEAVING_AGE))
    if not level or level not in LEVEL_GRADES:
        return Retention("unknown", None, "level")
    until = completion_date(level, grade, grade_year) if grade else None
    if until is None:
        return Retention("unknown", None, "grade")
    return Retention("completion", until)
