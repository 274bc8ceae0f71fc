"""The key ring file: parsing and validation that never echo key material, the 0600 mode check,
and atomic, durable writes.  ``KeyRing`` (app.crypto) reads and saves itself through these."""
from __future__ import annotations

import json
import os
import stat
import tempfile
from pathlib import Path

from .crypto_base import _KID, KEY_BYTES, KeyRingError, _b64d


def parse_ring(text: str) -> dict:
    """The ``KeyRing`` fields from the file's JSON, validated; error messages never quote the content."""
    try:
        data = json.loads(text)
        ring = {"active": data["active"], "keys": dict(data["keys"]),
                "index_active": data["index_active"], "index_keys": dict(data["index_keys"]),
                "rotation": data.get("rotation"), "audit_active": data.get("audit_active"),
                "audit_keys": dict(data.get("audit_keys") or {}), "replaced_at": data.get("replaced_at")}
        sizes = {kid: len(_b64d(raw)) for kid, raw in
                 {**ring["keys"], **ring["index_keys"], **ring["audit_keys"]}.items()}
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise KeyRingError("key ring is not valid JSON with active/keys/index_active/index_keys "
                           f"and base64 keys ({type(exc).__name__})") from None
    _validate(ring, sizes)
    return ring


def _validate(ring: dict, sizes: dict[str, int]) -> None:
    keys, index_keys, audit_keys = ring["keys"], ring["index_keys"], ring["audit_keys"]
    active, index_active, audit_active = ring["active"], ring["index_active"], ring["audit_active"]
    # ids first: later messages quote them, and a key pasted in by mistake must not be quoted
    if not all(isinstance(k, str) and _KID.fullmatch(k) for k in
               (*keys, *index_keys, *audit_keys, active, index_active,
                *([audit_active] if audit_active is not None else []))):
        raise KeyRingError("key ids may only use lower-case letters, digits, '-' and '_'")
    if active not in keys:
        raise KeyRingError(f"active key {active} is not in the key ring")
    if index_active not in index_keys:
        raise KeyRingError(f"active index key {index_active} is not in the key ring")
    if set(keys) & set(index_keys):
        raise KeyRingError("a key id is used for both a data key and an index key")
    if set(audit_keys) & (set(keys) | set(index_keys)):
        raise KeyRingError("a key id is used for both an audit key and a data or index key")
    if audit_active is not None and audit_active not in audit_keys:
        raise KeyRingError(f"active audit key {audit_active} is not in the key ring")
    if not isinstance(ring["rotation"], (dict, type(None))):
        raise KeyRingError("key ring 'rotation' must be an object; remove it and run 'flask keys rotate'")
    bad = [kid for kid, size in sizes.items() if size != KEY_BYTES]
    if bad:
        raise KeyRingError(f"key {bad[0]} is not a 256-bit key")


def read_ring_file(path: Path) -> tuple[str, int]:
    """(text, mtime in ns) of a ring file; refuses a missing file or one others can read."""
    if not path.exists():
        raise KeyRingError(
            f"no key ring at {path}. Create one with 'flask keys init' (or scripts/run), "
            "or set IEUM_KEYS to the key ring JSON.")
    info = path.stat()
    mode = stat.S_IMODE(info.st_mode)
    if mode & 0o077:
        raise KeyRingError(f"key ring {path} is readable by others (mode {oct(mode)}); run: chmod 600 {path}")
    return path.read_text(encoding="utf-8"), info.st_mtime_ns


def write_ring_file(path: Path, text: str, overwrite: bool = True) -> int:
    """Write atomically and durably (fsync) with mode 0600; returns the new mtime (ns).
    Rotation re-encrypts right after saving: a power cut must not leave data under a key the
    disk never kept."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".keys-", suffix=".tmp")  # mode 0600
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        if overwrite:
            os.replace(tmp, path)
        else:
            os.link(tmp, path)  # fails if the file exists: never clobber a ring
    except FileExistsError:
        raise KeyRingError(f"key ring already exists at {path}; it was left unchanged") from None
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    dir_fd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)
    return path.stat().st_mtime_ns
