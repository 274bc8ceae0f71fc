"""Backups that can be restored: the database, the audit anchors and a manifest in one folder; the
key ring beside it (not in it), so it can be stored apart; restore refuses a ring that cannot read
the data (the key check values of app/key_check.py travel in the manifest).

SQLite is copied with the online backup API (consistent while the app writes); PostgreSQL with
``pg_dump --format=custom``.  Every file is 0600, the folder 0700, each file's SHA-256 in the manifest.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import shutil
import sqlite3
import subprocess
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace

from sqlalchemy.engine import make_url

from .crypto import KeyRing
from .exports import atomic_path

MANIFEST = "manifest.json"
SQLITE_FILE = "database.sqlite"
PG_FILE = "database.pgdump"
ANCHORS_FILE = "audit-anchors.jsonl"
FORMAT = 1


class BackupError(Exception):
    """The backup cannot be made, verified or restored; the message says why (never a secret)."""


@dataclass
class Backup:
    folder: Path
    ring_path: Path
    manifest: dict


def _digest(path: Path) -> dict:
    sha = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            sha.update(block)
    return {"bytes": path.stat().st_size, "sha256": sha.hexdigest()}


def _pg_args(url: str) -> tuple[list[str], dict]:
    """libpq arguments and environment for pg_dump / pg_restore (the password only in the env)."""
    parsed = make_url(url)
    env = {**os.environ}
    if parsed.password:
        env["PGPASSWORD"] = parsed.password
    args = ["--host", parsed.host or "127.0.0.1", "--port", str(parsed.port or 5432),
            "--username", parsed.username or "postgres", "--dbname", parsed.database]
    return args, env


def _copy_sqlite(source: Path, target: Path) -> None:
    """SQLite's online backup: a consistent copy while other connections write."""
    os.close(os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    src = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
    dst = sqlite3.connect(target)
    try:
        src.backup(dst)  # one step: a consistent snapshot (WAL readers do not block writers)
    finally:
        dst.close()
        src.close()


def create(url: str, out_dir: Path, ring: KeyRing, key_checks: list[dict], anchors: Path | None,
           facts: dict) -> Backup:
    """Write ``out_dir/ieum-backup-<UTC time>/`` and ``out_dir/ieum-backup-<UTC time>.keys.json``."""
    name = "ieum-backup-" + dt.datetime.now(dt.timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    out_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    folder = out_dir / name
    try:
        folder.mkdir(mode=0o700)
    except FileExistsError:
        raise BackupError(f"{folder} exists already; wait a second and run it again") from None
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        _copy_sqlite(Path(parsed.database), folder / SQLITE_FILE)
        files = [SQLITE_FILE]
    elif parsed.get_backend_name() == "postgresql":
        args, env = _pg_args(url)
        target = folder / PG_FILE
        os.close(os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
        done = subprocess.run(["pg_dump", "--format=custom", "--no-owner", "--file", str(target), *args],
                              env=env, capture_output=True, text=True)
        if done.returncode:
            raise BackupError(f"pg_dump failed: {done.stderr.strip().splitlines()[-1] if done.stderr else done.returncode}")
        files = [PG_FILE]
    else:
        raise BackupError(f"cannot back up a {parsed.get_backend_name()} database")
    if anchors is not None and anchors.exists():
        shutil.copyfile(anchors, folder / ANCHORS_FILE)
        os.chmod(folder / ANCHORS_FILE, 0o600)
        files.append(ANCHORS_FILE)
    manifest = {"format": FORMAT, "created_at_utc": name[len("ieum-backup-"):], "dialect": parsed.get_backend_name(),
                **facts, "key_checks": key_checks, "files": {f: _digest(folder / f) for f in files}}
    with atomic_path(folder / MANIFEST) as part:
        part.write_text(json.dumps(manifest, indent=2, ensure_ascii=False))
    ring_path = out_dir / f"{name}.keys.json"
    with atomic_path(ring_path) as part:
        part.write_text(ring.to_json())
    return Backup(folder, ring_path, manifest)


def read_manifest(folder: Path) -> dict:
    try:
        manifest = json.loads((folder / MANIFEST).read_text())
    except (OSError, ValueError):
        raise BackupError(f"{folder} has no readable {MANIFEST}: not an Ieum backup") from None
    if manifest.get("format") != FORMAT:
        raise BackupError(f"unknown backup format {manifest.get('format')!r}")
    return manifest


def problems(folder: Path, ring: KeyRing | None) -> list[str]:
    """What is wrong with the backup (empty: sound): missing or changed files, a SQLite copy that
    fails its integrity check, and (with ``ring``) keys the data needs that the ring lacks."""
    from .key_check import fits
    manifest = read_manifest(folder)
    found = []
    for name, expected in manifest["files"].items():
        path = folder / name
        if not path.exists():
            found.append(f"{name} is missing")
        elif _digest(path) != expected:
            found.append(f"{name} differs from the manifest (size or SHA-256)")
    if not found and SQLITE_FILE in manifest["files"]:
        conn = sqlite3.connect(f"file:{folder / SQLITE_FILE}?mode=ro", uri=True)
        try:
            result = conn.execute("PRAGMA integrity_check").fetchone()[0]
        finally:
            conn.close()
        if result != "ok":
            found.append(f"{SQLITE_FILE} fails SQLite's integrity check")
    if ring is not None:
        for check in manifest["key_checks"]:
            row = SimpleNamespace(**check)
            keys = {"data": ring.keys, "index": ring.index_keys, "audit": ring.audit_keys}[row.kind]
            if row.kid not in keys:
                found.append(f"{row.kind} key {row.kid} is missing from the key ring")
            elif not fits(ring, row):
                found.append(f"{row.kind} key {row.kid} in the key ring is not the key this backup was written with")
    return found


def restore(folder: Path, ring: KeyRing, url: str, ring_target: Path, anchors_target: Path | None,
            force: bool = False) -> dict:
    """Put the backup's database, ring and anchors in place; refused if the backup is damaged, the
    ring cannot read it, or (without ``force``) the target already holds data or another ring."""
    manifest = read_manifest(folder)
    found = problems(folder, ring)
    if found:
        raise BackupError("refused: " + "; ".join(found))
    if ring_target.exists() and ring_target.read_text() != ring.to_json() and not force:
        raise BackupError(f"{ring_target} holds another key ring; move it away (or --force) first")
    parsed = make_url(url)
    if parsed.get_backend_name() != manifest["dialect"]:
        raise BackupError(f"the backup is of a {manifest['dialect']} database, the target is {parsed.get_backend_name()}")
    if manifest["dialect"] == "sqlite":
        target = Path(parsed.database)
        if target.exists() and target.stat().st_size and not force:
            raise BackupError(f"{target} exists and holds data; move it away (or --force) first")
        target.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        with atomic_path(target) as part:
            shutil.copyfile(folder / SQLITE_FILE, part)
        for suffix in ("-wal", "-shm"):  # companions of the replaced file would corrupt the copy
            Path(f"{target}{suffix}").unlink(missing_ok=True)
    else:
        args, env = _pg_args(url)
        command = ["pg_restore", "--no-owner", "--exit-on-error", *(["--clean", "--if-exists"] if force else []), *args,
                   str(folder / PG_FILE)]
        done = subprocess.run(command, env=env, capture_output=True, text=True)
        if done.returncode:
            last = done.stderr.strip().splitlines()[-1] if done.stderr.strip() else str(done.returncode)
            raise BackupError(f"pg_restore failed (is the target database empty?): {last}")
    ring_target.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    with atomic_path(ring_target) as part:
        part.write_text(ring.to_json())
    if anchors_target is not None and ANCHORS_FILE in manifest["files"] and (force or not anchors_target.exists()):
        with atomic_path(anchors_target) as part:
            shutil.copyfile(folder / ANCHORS_FILE, part)
    return manifest
