"""flask backup create | verify | restore.

A ``flask.commands`` entry point (setup.cfg) like ``flask keys``: ``restore`` must work on a machine
where no ring or database exists yet (create_app refuses to start without a ring that fits).
Targets follow the app's own settings: DATABASE_URL (default instance/ieum.db), IEUM_KEYS_FILE
(default instance/keys.json), IEUM_AUDIT_ANCHOR_FILE (default instance/audit-anchors.jsonl).
"""
from __future__ import annotations

import os
from pathlib import Path

import click
from flask.cli import with_appcontext

from .backup import BackupError, create, problems, read_manifest, restore
from .crypto import KeyRing, KeyRingError
from .crypto_cli import default_key_file

backup = click.Group("backup", help="백업: create, verify, restore")


def _instance() -> Path:
    return Path(os.environ.get("IEUM_INSTANCE_PATH") or Path(__file__).resolve().parent.parent / "instance")


def _ring_beside(folder: Path, keys: Path | None) -> KeyRing:
    path = keys or folder.with_name(folder.name + ".keys.json")
    try:
        return KeyRing.load_file(path)
    except KeyRingError as exc:
        raise click.ClickException(f"{exc} (give the backup's key ring with --keys)") from None


@backup.command("create")
@click.option("--out", required=True, type=click.Path(file_okay=False, path_type=Path), help="백업을 둘 폴더")
@with_appcontext
def create_command(out: Path):
    """Back up the database and audit anchors into a new folder, and the key ring beside it."""
    from sqlalchemy import func, select

    from .audit.anchors import anchor_path
    from .audit.models import AuditEvent
    from .audit.services import record
    from .db import keyring
    from .extensions import db
    from .key_check import KeyCheck, record_new_keys

    ring = keyring()
    record_new_keys(ring)
    db.session.commit()
    checks = [{"kid": k.kid, "kind": k.kind, "check_value": k.check_value}
              for k in db.session.execute(select(KeyCheck).order_by(KeyCheck.kid)).scalars()]
    head = db.session.execute(select(AuditEvent.id, AuditEvent.hash).order_by(AuditEvent.id.desc()).limit(1)).first()
    facts = {"alembic_revision": db.session.execute(db.text("SELECT version_num FROM alembic_version")).scalar(),
             "audit_events_at_start": db.session.execute(select(func.count(AuditEvent.id))).scalar_one(),
             "audit_head_at_start": {"id": head[0], "hash": head[1]} if head else None}
    db.session.commit()  # no transaction held while the copy runs
    url = db.engine.url.render_as_string(hide_password=False)
    try:
        made = create(url, out, ring, checks, anchor_path(), facts)
    except (BackupError, OSError) as exc:
        raise click.ClickException(str(exc)) from None
    size = sum(f["bytes"] for f in made.manifest["files"].values())
    record("backup_created", object_type="backup", object_id=made.folder.name, actor=None,
           details={"dialect": made.manifest["dialect"], "bytes": size, "files": sorted(made.manifest["files"])})
    db.session.commit()
    click.echo(f"backup: {made.folder} ({size:,} bytes)")
    click.echo(f"key ring: {made.ring_path}  <- store it apart from the backup; without it the backup is unreadable")


@backup.command("verify")
@click.argument("folder", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--keys", type=click.Path(dir_okay=False, path_type=Path), help="백업의 키 파일 (기본: 폴더 옆 .keys.json)")
def verify_command(folder: Path, keys: Path | None):
    """Check every file against the manifest, SQLite's integrity, and that the ring reads the data."""
    try:
        found = problems(folder, _ring_beside(folder, keys))
        manifest = read_manifest(folder)
    except BackupError as exc:
        raise click.ClickException(str(exc)) from None
    if found:
        raise click.ClickException("; ".join(found))
    click.echo(f"OK: {folder.name} ({manifest['dialect']}, revision {manifest.get('alembic_revision')}, "
               f"{len(manifest['files'])} files, keys {', '.join(c['kid'] for c in manifest['key_checks'])})")


@backup.command("restore")
@click.argument("folder", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--keys", type=click.Path(dir_okay=False, path_type=Path), help="백업의 키 파일 (기본: 폴더 옆 .keys.json)")
@click.option("--force", is_flag=True, help="이미 있는 데이터베이스·키 파일을 덮어씀")
def restore_command(folder: Path, keys: Path | None, force: bool):
    """Restore into the configured database (empty unless --force) with the backup's key ring."""
    url = os.environ.get("DATABASE_URL") or f"sqlite:///{_instance() / 'ieum.db'}"
    if url.startswith(("postgres://", "postgresql://")):
        url = "postgresql+psycopg://" + url.split("://", 1)[1]
    anchors = Path(os.environ["IEUM_AUDIT_ANCHOR_FILE"]) if os.environ.get("IEUM_AUDIT_ANCHOR_FILE") else \
        _instance() / "audit-anchors.jsonl"
    try:
        manifest = restore(folder, _ring_beside(folder, keys), url, default_key_file(), anchors, force)
    except (BackupError, OSError) as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"restored {folder.name} (revision {manifest.get('alembic_revision')}); "
               "run 'flask db upgrade', then 'flask audit verify' and 'flask keys status --verify'")
