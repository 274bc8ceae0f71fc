"""Builders for test data with sensible defaults, all through the real services."""
from __future__ import annotations

import itertools

from sqlalchemy import select

from app.auth.models import Gu, Organisation, User
from app.auth.services import create_user
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
             password: str = DEFAULT_PASSWORD, commit: bool = True, **fields) -> User:
        """A user of ``role``; makes a fitting organisation unless one is given."""
        kind = ORG_FOR_ROLE[role]
        if organisation is None and kind is not None:
            organisation = self.organisation(kind)
        n = next(_counter)
        user = create_user(login=login or f"{role.replace('_', '-')}-{n}",
                           display_name=fields.pop("display_name", f"사용자{n}"), role=role,
                           organisation=organisation, password=password)
        if commit:
            db.session.commit()
        return user
