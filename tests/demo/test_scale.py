"""flask demo scale: every kind of row, encrypted through the app's own field types (never
plaintext in the raw table, readable through the ORM), a verifiable audit chain, the logins file
of the benchmark contract whose accounts can sign in, refusals, and reproducible counts."""
import json
import os
import stat

import pyotp
import pytest
from sqlalchemy import func, select, text

from app.agencies.models import AgencyService, Referral, ServiceArea, ServiceRecord
from app.audit.chain import verify_chain
from app.audit.models import AuditEvent
from app.auth.models import GrantChange, Organisation, User
from app.cases.models import (CaseEscalation, CaseEvent, CaseNeed, CaseNote, CaseSelection, Consent, ConsentPurpose,
                              PlanAction, SupportCase)
from app.conferences.models import ActionItem, Conference, ConferenceCase, ConferenceParticipant
from app.db import blind_index_matches
from app.guardians.models import ActivityLog, Assignment, Guardian, RecordCheck
from app.notifications.models import Notification
from app.students.models import Student

SCALE = "0.002"
PASSWORD = "Scale-bench-password-77"
MODELS = (Organisation, User, GrantChange, Student, SupportCase, CaseNeed, CaseSelection, Consent, ConsentPurpose,
          PlanAction, CaseNote, CaseEscalation, CaseEvent, Guardian, RecordCheck, Assignment, ActivityLog,
          AgencyService, ServiceArea, Referral, ServiceRecord, Conference, ConferenceCase, ConferenceParticipant,
          ActionItem, Notification, AuditEvent)
ROLES = ("school_staff", "school_lead", "district_coordinator", "guardian", "agency_coordinator", "auditor", "admin")
TOTP_ROLES = {"school_lead", "district_coordinator", "auditor", "admin"}
TARGETS = {"case_long_chronology", "case_district", "referral_busiest", "student_subject", "actor_login",
           "audit_day", "review_month"}


def run(app, *args):
    return app.test_cli_runner().invoke(args=["demo", "scale", "--scale", SCALE, "--password", PASSWORD, *args])


@pytest.fixture
def built(app, db, tmp_path):
    app.instance_path = str(tmp_path)
    result = run(app)
    assert result.exit_code == 0, result.output
    db.session.expire_all()
    return result


def counts(db) -> dict:
    return {m.__tablename__: db.session.execute(select(func.count()).select_from(m)).scalar() for m in MODELS}


def test_every_kind_of_row_is_built(built, db):
    assert all(counts(db).values()), counts(db)
    statuses = set(db.session.execute(select(SupportCase.status).distinct()).scalars())
    assert statuses == {"requested", "screening", "selected", "not_selected", "planning", "in_support", "monitoring",
                        "closed", "follow_up", "withdrawn"}
    referral_states = set(db.session.execute(select(Referral.status).distinct()).scalars())
    assert {"sent", "in_service", "completed"} <= referral_states
    assert {"held", "scheduled", "cancelled"} == set(db.session.execute(select(Conference.status).distinct()).scalars())


def test_encrypted_values_are_ciphertext_in_the_table_and_plain_through_the_orm(built, db):
    student = db.session.execute(select(Student).order_by(Student.id).limit(1)).scalar_one()
    raw = db.session.execute(text("SELECT name_enc, birth_date_enc, parent_phone_enc FROM student WHERE id = :i"),
                             {"i": student.id}).one()
    assert all(value.startswith("e1.") for value in raw)
    assert student.name and student.name not in raw[0] and student.birth_date.year > 2000
    assert db.session.execute(select(Student.id).where(blind_index_matches(Student.name_bidx, student.name))
                              ).scalars().all().count(student.id) == 1
    assert db.session.execute(select(Student.id).where(blind_index_matches(
        Student.name_birth_bidx, student.name, student.birth_date))).scalar() == student.id
    note = db.session.execute(select(CaseNote).limit(1)).scalar_one()
    raw_note = db.session.execute(text("SELECT body_enc FROM case_note WHERE id = :i"), {"i": note.id}).scalar()
    assert raw_note.startswith("e1.") and note.body not in raw_note and len(note.body) > 5
    referral = db.session.execute(select(Referral).where(Referral.status != "draft").limit(1)).scalar_one()
    assert isinstance(referral.shared, dict) and referral.shared
    for table, column in (("user_account", "display_name_enc"), ("guardian", "name_enc"), ("case_event", "text_enc"),
                          ("conference", "minutes_enc"), ("notification", "text_enc")):
        values = db.session.execute(text(f"SELECT {column} FROM {table} WHERE {column} IS NOT NULL")).scalars().all()
        assert values and all(v.startswith("e1.") for v in values), table


def test_the_audit_chain_verifies(built, app, db):
    result = verify_chain()
    assert result.ok, result.message
    assert result.count == db.session.execute(select(func.count()).select_from(AuditEvent)).scalar()
    cli = app.test_cli_runner().invoke(args=["audit", "verify"])
    assert cli.exit_code == 0 and "OK" in cli.output
    times = db.session.execute(text("SELECT occurred_at FROM audit_event ORDER BY id")).scalars().all()
    assert times == sorted(times)
    actions = dict(db.session.execute(select(AuditEvent.action, func.count()).group_by(AuditEvent.action)).all())
    assert max(actions, key=actions.get) == "case_viewed"


def test_logins_file_follows_the_contract_and_its_accounts_sign_in(built, app, db, client, tmp_path):
    path = tmp_path / "scale-logins.json"
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    data = json.loads(path.read_text(encoding="utf-8"))
    assert data["scale"] == float(SCALE) and data["seed"] == 1 and data["password"] == PASSWORD
    assert set(data["users"]) == set(ROLES) | {"importer"} and set(data["targets"]) == TARGETS
    assert all(data["targets"].values()), data["targets"]
    for name, info in data["users"].items():
        role = "school_lead" if name == "importer" else name
        user = db.session.execute(select(User).filter_by(login=info["login"])).scalar_one()
        assert user.role == role and user.active and not user.password_temporary
        assert user.handling_approved_at is not None and user.training_on is not None
        assert (info["totp_secret"] is not None) == (role in TOTP_ROLES)
        if info["totp_secret"]:
            assert user.totp_secret == info["totp_secret"] and user.totp_enabled_at is not None
        client.post("/logout")
        response = client.post("/login", data={"login": info["login"], "password": PASSWORD})
        assert response.status_code == 302, role
        if info["totp_secret"]:
            assert response.headers["Location"] == "/login/code"
            code = pyotp.TOTP(info["totp_secret"]).now()
            assert client.post("/login/code", data={"code": code}).status_code == 302, role
        assert client.get("/").status_code in (200, 302), role
        assert client.get("/account").status_code == 200, role
    case = db.session.execute(select(SupportCase).filter_by(uid=data["targets"]["case_long_chronology"])).scalar_one()
    assert db.session.execute(select(func.count()).select_from(CaseEvent).where(CaseEvent.case_id == case.id)
                              ).scalar() >= 100


def test_the_benchmarks_imports_go_to_a_school_no_measured_page_counts(built, db, tmp_path):
    """Each benchmark run imports 2,000 new students: into the measured lead's school they made
    every run's lead home slower than the last."""
    users = json.loads((tmp_path / "scale-logins.json").read_text(encoding="utf-8"))["users"]

    def organisation(name):
        return db.session.get(Organisation, db.session.execute(
            select(User.organisation_id).filter_by(login=users[name]["login"])).scalar_one())
    importer, lead, district = organisation("importer"), organisation("school_lead"), \
        organisation("district_coordinator")
    assert importer.kind == "school" and importer.id != lead.id
    assert importer.office_code != district.office_code
    cases = dict(db.session.execute(select(SupportCase.school_id, func.count()).group_by(SupportCase.school_id)).all())
    assert cases.get(importer.id, 0) <= cases[lead.id]


def test_a_second_run_refuses(built, app, db):
    before = counts(db)
    again = run(app)
    assert again.exit_code == 1 and "이미 데이터" in again.output
    db.session.expire_all()
    assert counts(db) == before


def test_the_same_seed_gives_the_same_counts(make_app, tmp_path):
    """Two builds one after the other (on PostgreSQL a test holds one database at a time)."""
    from app.extensions import db
    seen = []
    for n in range(2):
        app = make_app()
        app.instance_path = str(tmp_path / str(n))
        with app.app_context():
            result = app.test_cli_runner().invoke(args=["demo", "scale", "--scale", SCALE, "--password", PASSWORD])
            assert result.exit_code == 0, result.output
            seen.append(counts(db))
            db.session.remove()
            db.engine.dispose()
    assert seen[0] == seen[1]


def test_refused_in_production_and_with_a_weak_password(make_app, tmp_path):
    app = make_app(IEUM_ENV="production", SECRET_KEY="a-real-production-secret")
    result = app.test_cli_runner().invoke(args=["demo", "scale", "--scale", SCALE])
    assert result.exit_code == 1 and "IEUM_ENV=production" in result.output
    app = make_app()
    app.instance_path = str(tmp_path)
    weak = app.test_cli_runner().invoke(args=["demo", "scale", "--scale", SCALE, "--password", "short"])
    assert weak.exit_code == 1 and "10자 이상" in weak.output
    with app.app_context():
        from app.extensions import db
        assert db.session.execute(select(func.count()).select_from(User)).scalar() == 0
        assert db.session.execute(select(func.count()).select_from(Organisation)
                                  .where(Organisation.kind == "school")).scalar() == 0


def test_every_ended_month_has_its_review_figures_stored_as_the_timer_would(built, app, db, tmp_path):
    """The review of last month (the benchmark's review_month) reads stored figures, equal to the live ones."""
    import datetime as dt

    from app.audit import access_review as ar
    from app.audit import review_totals
    from app.audit.models import AuditMonthSummary

    month = json.loads((tmp_path / "scale-logins.json").read_text())["targets"]["review_month"]
    first = dt.date(int(month[:4]), int(month[5:]), 1)
    assert db.session.get(AuditMonthSummary, month) is not None
    assert review_totals.settled_months_to_store() == []
    stored = {(r.actor_id, r.events, r.subjects, r.exports, r.denials, r.after_hours)
              for r in review_totals.month_rows(first)}
    assert stored and stored == {(r.actor_id, r.events, r.subjects, r.exports, r.denials, r.after_hours)
                                 for r in ar.monthly_access_summary(first)}
