"""flask demo seed gives a new user cases in every state, in two schools of two districts."""
from sqlalchemy import func, select

from app.cases.models import STATUSES, CaseEvent, SupportCase
from app.students.models import Student


def test_demo_seed_cases_in_every_state(app, db):
    result = app.test_cli_runner().invoke(args=["demo", "seed", "--password", "Demo-pass-2026!"])
    assert result.exit_code == 0, result.output
    statuses = set(db.session.scalars(select(SupportCase.status)))
    assert statuses == set(STATUSES)
    schools = db.session.execute(select(Student.school_id).distinct()).all()
    assert len(schools) == 2
    assert db.session.scalar(select(func.count(SupportCase.id)).where(SupportCase.escalation_open.is_(True))) >= 1
    # every case has a chronology, and names are stored encrypted
    assert db.session.scalar(select(func.count(func.distinct(CaseEvent.case_id)))) == \
        db.session.scalar(select(func.count(SupportCase.id)))
    raw = db.session.execute(select(Student.name_enc)).scalars().first()
    assert raw.startswith("e1.") and "민준" not in raw
