"""flask backup create | verify | restore (issue 19): a backup made while the app writes restores into a
fresh instance whose audit chain verifies and whose every value decrypts; a ring that cannot read
it is refused, and a damaged backup is caught.  Real SQLite and PostgreSQL (pg_dump/pg_restore)."""
from __future__ import annotations

import json
import stat
import threading

import pytest
from sqlalchemy import func, select

from app import create_app
from app.audit.services import record
from app.auth.models import User
from app.backup_cli import backup
from app.crypto import KeyRing
from app.crypto_check import find_unreadable
from app.extensions import db as _db

from .conftest import PG_URL, base_config


@pytest.fixture
def target(database, tmp_path):
    """Where a restore goes: a new SQLite file, or a new empty PostgreSQL database."""
    if not PG_URL:
        yield f"sqlite:///{tmp_path / 'restored' / 'ieum.db'}"
        return
    name = f"ieum_r_{database.tag}"
    database._pg(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
    database._pg(f"CREATE DATABASE {name}")
    yield database._pg_url(name)
    database._pg(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def _env(tmp_path, url: str) -> dict:
    instance = tmp_path / "restored"
    return {"IEUM_INSTANCE_PATH": str(instance), "DATABASE_URL": url, "IEUM_KEYS_FILE": str(instance / "keys.json"),
            "IEUM_AUDIT_ANCHOR_FILE": str(instance / "audit-anchors.jsonl")}


def _made(app, tmp_path):
    result = app.test_cli_runner().invoke(backup, ["create", "--out", str(tmp_path / "backups")])
    assert result.exit_code == 0, result.output
    (folder,) = [p for p in (tmp_path / "backups").iterdir() if p.is_dir()]
    return folder, folder.with_name(folder.name + ".keys.json")


def test_backup_during_writes_restores_into_a_fresh_instance(app, db, build, tmp_path, target):
    for n in range(20):
        build.user("guardian", display_name=f"보호자{n}")
    db.session.commit()
    stop, written, errors = threading.Event(), [], []

    def writer():  # another "worker" keeps writing while the backup runs
        with app.app_context():
            try:
                while not stop.is_set() and len(written) < 200:
                    record("home_viewed", object_type="test", object_id=str(len(written)))
                    _db.session.commit()
                    written.append(1)
            except Exception as error:  # noqa: BLE001 - reported below
                errors.append(repr(error))
            finally:
                _db.session.remove()

    thread = threading.Thread(target=writer)
    thread.start()
    try:
        folder, ring_path = _made(app, tmp_path)
    finally:
        stop.set()
        thread.join(60)
    assert errors == []
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    assert all(stat.S_IMODE(p.stat().st_mode) == 0o600 for p in [*folder.iterdir(), ring_path])
    assert not (folder / "keys.json").exists()  # the ring is kept apart from the data
    verified = app.test_cli_runner().invoke(backup, ["verify", str(folder)])
    assert verified.exit_code == 0 and verified.output.startswith("OK:"), verified.output

    restored = app.test_cli_runner().invoke(backup, ["restore", str(folder)], env=_env(tmp_path, target))
    assert restored.exit_code == 0, restored.output
    fresh = create_app(base_config(SQLALCHEMY_DATABASE_URI=target, IEUM_KEYS=None,
                                   IEUM_KEYS_FILE=_env(tmp_path, target)["IEUM_KEYS_FILE"]))
    with fresh.app_context():
        names = set(_db.session.execute(select(User)).scalars())
        assert {f"보호자{n}" for n in range(20)} <= {u.display_name for u in names}
        assert find_unreadable() == []  # every encrypted value decrypts with the restored ring
        verify = fresh.test_cli_runner().invoke(args=["audit", "verify"])
        assert verify.exit_code == 0 and "OK" in verify.output, verify.output
        manifest = json.loads((folder / "manifest.json").read_text())
        events = _db.session.execute(select(func.count()).select_from(_db.metadata.tables["audit_event"])).scalar_one()
        assert events >= manifest["audit_events_at_start"]
        _db.session.remove()
        _db.engine.dispose()


def test_a_ring_that_cannot_read_the_backup_is_refused(app, db, build, tmp_path, target):
    build.user("guardian", display_name="홍길동")
    db.session.commit()
    folder, _ring = _made(app, tmp_path)
    stranger = tmp_path / "stranger.json"
    KeyRing.generate(stranger).save()
    refused = app.test_cli_runner().invoke(backup, ["verify", str(folder), "--keys", str(stranger)])
    assert refused.exit_code == 1 and "data key k1 in the key ring is not the key this backup was written with" \
        in refused.output
    env = _env(tmp_path, target)
    restored = app.test_cli_runner().invoke(backup, ["restore", str(folder), "--keys", str(stranger)], env=env)
    assert restored.exit_code == 1 and "refused" in restored.output
    assert not (tmp_path / "restored" / "keys.json").exists()
    if not PG_URL:
        assert not (tmp_path / "restored" / "ieum.db").exists()


def test_a_damaged_backup_is_caught(app, db, tmp_path):
    folder, _ring = _made(app, tmp_path)
    data = next(p for p in folder.iterdir() if p.name.startswith("database."))
    with open(data, "r+b") as fh:
        fh.seek(200)
        fh.write(b"\xff\xff\xff\xff")
    result = app.test_cli_runner().invoke(backup, ["verify", str(folder)])
    assert result.exit_code == 1 and f"{data.name} differs from the manifest" in result.output


def test_restore_never_overwrites_data_without_force(app, db, tmp_path):
    if PG_URL:
        pytest.skip("the SQLite target file case; PostgreSQL refuses through pg_restore --exit-on-error")
    folder, _ring = _made(app, tmp_path)
    env = _env(tmp_path, f"sqlite:///{tmp_path / 'restored' / 'ieum.db'}")
    (tmp_path / "restored").mkdir()
    (tmp_path / "restored" / "ieum.db").write_bytes(b"someone's data")
    refused = app.test_cli_runner().invoke(backup, ["restore", str(folder)], env=env)
    assert refused.exit_code == 1 and "holds data" in refused.output
    assert (tmp_path / "restored" / "ieum.db").read_bytes() == b"someone's data"
