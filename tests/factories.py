"""Builders for test data with sensible defaults, all through the real services."""
from __future__ import annotations

import datetime as dt
import itertools

from sqlalchemy import select

from app.auth.models import Gu, Organisation, User
from app.auth.services import create_user
from app.cases import services as s
from app.cases.consent import record_consent
from app.db import today_kst, utcnow
from app.students.services import create_student
from app.extensions import db
from app.permissions import ROLES

DEFAULT_PASSWORD = "Correct-horse-42"
_counter = itertools.count(1)

#: role -> organisation kind the builder makes for it when none is given
ORG_FOR_ROLE = {role: kinds[0] for role, (_label, kinds) in ROLES.items()}


class Builder:
    def gu(self, name: str = "마포구") -> Gu:
        return db.session.execute(select(Gu).filter_by(name_ko=name)).scalar_one()

    def organisation(self, kind: str, gu: str = "마포구", **fields) -> Organisation:
        """A school or agency in ``gu``; offices and the city office come from the migration."""
        if kind == "city_office":
            return db.session.execute(select(Organisation).filter_by(code="SEN")).scalar_one()
        if kind == "district_office":
            office = self.gu(gu).office_code
            return db.session.execute(select(Organisation).filter_by(code=office)).scalar_one()
        n = next(_counter)
        place = self.gu(gu)
        defaults = {
            "school": dict(code=f"S{n:09d}", name=f"테스트{n}초등학교", school_level="elementary"),
            "agency": dict(code=f"AG-{n}", name=f"테스트{n}청소년상담복지센터", agency_kind="청소년상담복지센터"),
        }[kind]
        org = Organisation(kind=kind, gu=place, office_code=place.office_code, **{**defaults, **fields})
        db.session.add(org)
        db.session.flush()
        return org

    def school(self, gu: str = "마포구", **fields) -> Organisation:
        return self.organisation("school", gu, **fields)

    def agency(self, gu: str = "마포구", **fields) -> Organisation:
        return self.organisation("agency", gu, **fields)

    def user(self, role: str, organisation: Organisation | None = None, login: str | None = None,
             password: str = DEFAULT_PASSWORD, commit: bool = True, cleared: bool = True,
             training_on: dt.date | None = None, **fields) -> User:
        """A user of ``role``; makes a fitting organisation unless one is given.  ``cleared``
        (default) approves it for handling personal data, trained ``training_on`` (default today);
        ``cleared=False`` builds an account the clearance gate stops."""
        kind = ORG_FOR_ROLE[role]
        if organisation is None and kind is not None:
            organisation = self.organisation(kind)
        n = next(_counter)
        user = create_user(login=login or f"{role.replace('_', '-')}-{n}",
                           display_name=fields.pop("display_name", f"사용자{n}"), role=role,
                           organisation=organisation, password=password)
        if cleared:
            clear(user, training_on)
        if commit:
            db.session.commit()
        return user

    def student(self, school: Organisation, actor: User | None = None, **fields):
        """A student of ``school`` created through the service by a member of that school."""
        actor = actor or self.user("school_staff", organisation=school)
        n = next(_counter)
        data = {"name": f"김학생{n}", "birth_date": dt.date(2013, 3, 1 + n % 27), "grade": 5, "class_no": 2,
                "number": n % 30 + 1, "parent_name": f"김보호{n}", "parent_relation": "모", "parent_phone": "010-1234-5678",
                "neis_number": f"N{n:08d}"}
        data.update(fields)
        student = create_student(actor, school, data)
        db.session.commit()
        return student

    def case(self, school: Organisation | None = None, status: str = "requested", student=None, lead: User | None = None,
              risk_level: str = "general", needs=(("learning", "기초학력 지원 필요"),)):
        """A case driven through the real services to ``status``."""
        school = school or (student.school if student else self.school())
        lead = lead or self.user("school_lead", organisation=school)
        student = student or self.student(school, actor=lead)
        case = s.create_request(lead, student, requested_by="staff", needs=list(needs), risk_level=risk_level,
                                summary="수업 중 집중이 어렵고 결석이 잦음")
        db.session.flush()
        for step in PATH_TO[status]:
            if step == "select":
                s.select_case(case, lead, meeting_on=today_kst() - dt.timedelta(days=1), members="교감, 담임, 상담교사",
                              teacher_opinions="담임: 학습 결손 뚜렷")
            elif step == "not_select":
                s.not_select_case(case, lead, meeting_on=today_kst(), members="교감, 담임", reason="지원 필요성 낮음")
            elif step == "consent":
                consent_both(case, lead)
            elif step == "withdraw_request":
                s.withdraw_request(case, lead, reason="잘못 접수한 요청")
            elif step == "close":
                s.close_case(case, lead, reason="goals_met",
                             outcomes={need.id: ("improved", "") for need in case.needs})
            else:
                getattr(s, step)(case, lead)
        db.session.commit()
        return case


#: the service steps that lead from "requested" to each status
PATH_TO = {
    "requested": [], "screening": ["start_screening"], "selected": ["start_screening", "select"],
    "not_selected": ["start_screening", "not_select"],
    "planning": ["start_screening", "select", "start_planning"],
    "in_support": ["start_screening", "select", "start_planning", "consent", "start_support"],
    "monitoring": ["start_screening", "select", "start_planning", "consent", "start_support", "start_monitoring"],
    "closed": ["start_screening", "select", "start_planning", "consent", "start_support", "close"],
    "follow_up": ["start_screening", "select", "start_planning", "consent", "start_support", "close",
                  "start_follow_up"],
    "withdrawn": ["withdraw_request"],
}


def clear(user: User, training_on: dt.date | None = None) -> User:
    """Mark ``user`` approved for handling and trained (default today), as if an admin had done
    it before the test: set directly, so tests of other features keep their own grant history
    and audit counts (tests/auth/test_handling*.py cover the services that do it for real)."""
    user.handling_approved_at = utcnow()
    user.training_on = training_on or today_kst()
    return user


def approve_login(user: User, actor: User, guardian=None, training_on: dt.date | None = None) -> User:
    """What a coordinator does on the guardian's page (or an admin on the account's): approve the
    login for handling and record its training (default today), through the real services."""
    from app.auth.handling import approve_handling, record_training
    approve_handling(user, actor, "보안 서약서 확인", guardian=guardian)
    record_training(user, actor, training_on or today_kst(), guardian=guardian)
    return user


def consent_both(case, actor, purposes=("guardian_matching", "conference_sharing"), **extra):
    """Record the student's and the parent's consent to ``purposes``."""
    given = extra.pop("given_on", today_kst() - dt.timedelta(days=1))
    return [record_consent(case, actor, party=party, purposes=list(purposes), given_on=given, method="written", **extra)
            for party in ("student", "parent")]
