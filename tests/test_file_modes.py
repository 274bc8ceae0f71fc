"""The instance folder is 0700 and the SQLite files 0600 whoever starts the app, whatever the umask."""
from __future__ import annotations

import os
import stat

import pytest
from sqlalchemy import text

from app import create_app
from app.db_setup import secure_sqlite_files, sqlite_path
from app.extensions import db

from .conftest import base_config


def mode(path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


@pytest.fixture
def loose_umask():
    """Start as a shell with the common umask 022 would (not scripts/run's 077)."""
    old = os.umask(0o022)
    yield
    os.umask(old)


@pytest.fixture
def start(monkeypatch, keys_json):
    """Build an app on a temp instance folder with its SQLite file inside, and use it once."""
    apps = []

    def _start(instance):
        monkeypatch.setenv("IEUM_INSTANCE_PATH", str(instance))
        config = base_config(IEUM_KEYS=keys_json, SQLALCHEMY_DATABASE_URI=f"sqlite:///{instance / 'ieum.db'}")
        app = create_app(config)
        apps.append(app)
        with app.app_context():
            db.session.execute(text("CREATE TABLE IF NOT EXISTS t (x INTEGER)"))
            db.session.execute(text("INSERT INTO t VALUES (1)"))
            db.session.commit()
        return app

    yield _start
    for app in apps:
        with app.app_context():
            db.session.remove()
            db.engine.dispose()


def test_a_new_instance_and_database_are_private(tmp_path, loose_umask, start):
    instance = tmp_path / "instance"
    start(instance)
    assert mode(instance) == 0o700
    files = [instance / name for name in ("ieum.db", "ieum.db-wal", "ieum.db-shm")]
    assert all(f.exists() for f in files)  # the app is still connected: WAL and SHM are there
    assert [mode(f) for f in files] == [0o600] * 3


def test_existing_loose_files_are_tightened_at_start(tmp_path, loose_umask, start):
    instance = tmp_path / "instance"
    instance.mkdir(mode=0o755)
    os.chmod(instance, 0o755)
    for name in ("ieum.db", "ieum.db-wal", "ieum.db-shm"):
        (instance / name).write_bytes(b"")
        os.chmod(instance / name, 0o644)
    start(instance)
    assert mode(instance) == 0o700
    assert {name: mode(instance / name) for name in ("ieum.db", "ieum.db-wal", "ieum.db-shm")} == {
        "ieum.db": 0o600, "ieum.db-wal": 0o600, "ieum.db-shm": 0o600}


def test_an_existing_database_keeps_its_content(tmp_path, loose_umask, start):
    instance = tmp_path / "instance"
    start(instance)
    app = start(instance)  # a second start neither truncates nor loosens anything
    with app.app_context():
        assert db.session.execute(text("SELECT count(*) FROM t")).scalar() == 2
    assert mode(instance / "ieum.db") == 0o600


def test_files_of_another_owner_are_reported_not_fatal(tmp_path, monkeypatch, caplog):
    target = tmp_path / "x.db"
    target.write_bytes(b"")
    os.chmod(target, 0o644)

    def refused(*_args):
        raise PermissionError
    monkeypatch.setattr(os, "chmod", refused)
    secure_sqlite_files(target)
    assert "cannot set mode" in caplog.text and "chmod 600" in caplog.text


def test_only_sqlite_files_are_touched():
    import sqlalchemy as sa
    assert sqlite_path(sa.create_engine("sqlite://")) is None
    assert sqlite_path(sa.create_engine("sqlite:///:memory:")) is None
    assert str(sqlite_path(sa.create_engine("sqlite:////srv/ieum/ieum.db"))) == "/srv/ieum/ieum.db"
    pg = sa.create_engine("postgresql+psycopg://u@localhost/ieum")
    assert sqlite_path(pg) is None
