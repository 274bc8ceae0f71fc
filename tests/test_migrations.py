"""Migrations build the whole schema from an empty database and match the models (no drift).

Runs on the test database kind: a new SQLite file, or a scratch PostgreSQL database created
and dropped through the admin URL in IEUM_TEST_DATABASE_URL.
"""
from __future__ import annotations

import os

import pytest
import sqlalchemy as sa
from flask_migrate import check, downgrade, upgrade
from sqlalchemy.engine import make_url

from app import create_app
from app.extensions import db
from tests.conftest import PG_URL, base_config


@pytest.fixture
def empty_database_url(tmp_path):
    """The URL of an empty database of the kind the tests run on; removed afterwards."""
    if not PG_URL:
        yield f"sqlite:///{tmp_path / 'empty.db'}"
        return
    name = f"ieum_mig_{os.getpid()}"
    admin = sa.create_engine(make_url(PG_URL), isolation_level="AUTOCOMMIT", poolclass=sa.pool.NullPool)
    with admin.connect() as conn:
        conn.exec_driver_sql(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        conn.exec_driver_sql(f"CREATE DATABASE {name}")
    try:
        yield make_url(PG_URL).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.exec_driver_sql(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        admin.dispose()


@pytest.fixture
def empty_app(empty_database_url, keys_json):
    app = create_app(base_config(SQLALCHEMY_DATABASE_URI=empty_database_url, IEUM_KEYS=keys_json))
    with app.app_context():
        yield app
        db.session.remove()
        db.engine.dispose()


def table_names() -> set[str]:
    return set(sa.inspect(db.engine).get_table_names())


def test_upgrade_from_empty_then_no_drift(empty_app):
    assert table_names() == set()
    upgrade()
    assert set(db.metadata.tables) | {"alembic_version"} == table_names()
    check()  # raises SystemExit (after logging the differences) if the models drifted
    result = empty_app.test_cli_runner().invoke(args=["db", "check"])
    assert result.exit_code == 0, result.output


def test_reference_data_is_loaded(empty_app):
    upgrade()
    with db.engine.connect() as conn:
        offices = conn.execute(sa.text("SELECT count(*) FROM district_office")).scalar()
        gus = conn.execute(sa.text("SELECT count(*) FROM gu")).scalar()
    assert (offices, gus) == (11, 25)


def test_downgrade_to_empty_and_up_again(empty_app):
    upgrade()
    downgrade(revision="base")
    assert table_names() <= {"alembic_version"}
    upgrade()
    check()


def _add_account(login: str) -> None:
    with db.engine.begin() as conn:
        conn.execute(sa.text(
            "INSERT INTO user_account (uid, login, password_hash, role, active, created_at, updated_at) "
            "VALUES (:uid, :login, 'x', 'school_staff', :yes, :now, :now)"),
            {"uid": f"uid-{login}", "login": login, "yes": True, "now": "2026-01-01 00:00:00"})


def test_0007_keys_existing_logins_and_names_clashes(empty_app):
    """Accounts made before login keys: each gets its key; look-alike twins stop the upgrade, named."""
    upgrade(revision="0006")
    _add_account("kim.teacher")
    _add_account("DEMO-ADMIN")
    _add_account("demo-admin")
    from alembic import command  # Flask-Migrate's upgrade() would only log the error and exit 1
    with pytest.raises(RuntimeError) as clash:
        command.upgrade(empty_app.extensions["migrate"].migrate.get_config(), "head")
    assert "'DEMO-ADMIN' / 'demo-admin'" in str(clash.value)
    db.session.remove()
    with db.engine.begin() as conn:
        conn.execute(sa.text("DELETE FROM user_account WHERE login = 'DEMO-ADMIN'"))
    upgrade()
    with db.engine.connect() as conn:
        keys = dict(conn.execute(sa.text("SELECT login, login_key FROM user_account")).all())
    assert keys == {"kim.teacher": "kim.teacher", "demo-admin": "demo-admin"}


def test_upgrade_rebuilds_tables_that_hold_referenced_rows(empty_app):
    """SQLite batch mode rebuilds a table to alter it; a populated database (rows that reference the
    rebuilt table) must upgrade too, with every reference intact afterwards."""
    upgrade(revision="0006")
    _add_account("kim.teacher")
    with db.engine.begin() as conn:
        user_id = conn.execute(sa.text("SELECT id FROM user_account")).scalar_one()
        conn.execute(sa.text("INSERT INTO notification (uid, user_id, kind, created_at) "
                             "VALUES ('n-1', :user, 'case', '2026-01-01 00:00:00')"), {"user": user_id})
    upgrade()
    with db.engine.connect() as conn:
        assert conn.execute(sa.text("SELECT user_id FROM notification")).scalar_one() == user_id
        assert conn.execute(sa.text("SELECT login_key FROM user_account")).scalar_one() == "kim.teacher"


def _revision() -> str:
    with db.engine.connect() as conn:
        return conn.execute(sa.text("SELECT version_num FROM alembic_version")).scalar_one()


def test_a_refused_downgrade_changes_nothing(empty_app):
    """Below 0018 (subject seals) and 0008 (keyed chain) an audit trail cannot be kept verifiable, so a
    populated database refuses to go down there; the steps already taken are undone with it, on
    SQLite too (the whole run is one transaction), instead of leaving the database half way."""
    from app.audit.services import record
    upgrade()
    head = _revision()
    record("student_viewed", object_type="student", object_id="s-1", subject="s-1")
    db.session.commit()
    columns = {c["name"] for c in sa.inspect(db.engine).get_columns("notification")}
    with pytest.raises(SystemExit):
        downgrade(revision="0002")
    db.session.remove()
    assert _revision() == head
    assert {c["name"] for c in sa.inspect(db.engine).get_columns("notification")} == columns
    result = empty_app.test_cli_runner().invoke(args=["audit", "verify"])
    assert result.exit_code == 0, result.output


def test_the_keyed_chain_is_not_downgraded_under_events(empty_app):
    """0008 cannot turn keyed hashes back into the 0007 chain: refused while events exist."""
    upgrade(revision="0008")
    with db.engine.begin() as conn:
        conn.execute(sa.text("INSERT INTO audit_event (occurred_at, action, outcome, key_id, prev_hash, hash) "
                             "VALUES ('2026-01-01 00:00:00', 'x', 'allowed', 'a1', '', 'h')"))
    with pytest.raises(SystemExit):
        downgrade(revision="0007")
    assert _revision() == "0008"
