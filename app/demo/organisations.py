"""Demo organisations and one demo user per role."""
from __future__ import annotations

from sqlalchemy import select

from ..auth.models import Gu, Organisation
from ..auth.services import create_user
from ..extensions import db

#: (code, name, kind, 자치구, school level or agency kind)
DEMO_ORGANISATIONS = [
    ("B100000465", "이음초등학교", "school", "마포구", "elementary"),
    ("B100000789", "한빛중학교", "school", "강남구", "middle"),
    ("AG-MAPO-YOUTH", "마포구청소년상담복지센터", "agency", "마포구", "청소년상담복지센터"),
]

#: (login, display name, role, organisation code or None)
DEMO_USERS = [
    ("demo-school", "김하늘 (담임)", "school_staff", "B100000465"),
    ("demo-lead", "박지원 (교감)", "school_lead", "B100000465"),
    ("demo-school2", "최윤서 (상담교사)", "school_staff", "B100000789"),
    ("demo-coordinator", "이도윤 (서부 센터)", "district_coordinator", "SEOBU"),
    ("demo-guardian", "정민재", "guardian", None),
    ("demo-agency", "한서연 (상담복지센터)", "agency_coordinator", "AG-MAPO-YOUTH"),
    ("demo-auditor", "오감사", "auditor", "SEN"),
    ("demo-admin", "관리자", "admin", "SEN"),
]


def seed(passwords: dict[str, str]) -> None:
    """Create the demo organisations and users (passwords chosen by the caller)."""
    for code, name, kind, gu_name, extra in DEMO_ORGANISATIONS:
        gu = db.session.execute(select(Gu).filter_by(name_ko=gu_name)).scalar_one()
        db.session.add(Organisation(
            code=code, name=name, kind=kind, gu=gu, office_code=gu.office_code,
            school_level=extra if kind == "school" else None,
            agency_kind=extra if kind == "agency" else None))
    db.session.flush()
    for login, display_name, role, org_code in DEMO_USERS:
        org = None
        if org_code:
            org = db.session.execute(select(Organisation).filter_by(code=org_code)).scalar_one()
        create_user(login=login, display_name=display_name, role=role, organisation=org,
                    password=passwords[login])
