"""Key ring, AES-256-GCM field encryption and blind indexes.

Stored ciphertext: ``e1.<key id>.<urlsafe base64 of nonce || ciphertext+tag>``.
Associated data binds every value to ``table|column|row uid`` so a ciphertext copied to
another row or column fails to decrypt.  Blind index values carry their key id too
(``<index key id>.<hex>``) so the index key can rotate.  Rotation itself lives in
``crypto_rotation``; this module never writes to the database.

This module holds ``KeyRing`` (its keys, reading and saving it, picking up another process's
rotation); the cipher methods are in ``crypto_cipher``, the file format in ``crypto_file`` and
the shared pieces in ``crypto_base``.  Every name stays importable from here.
"""
from __future__ import annotations

import json
import logging
import time
from dataclasses import dataclass, field
from pathlib import Path

from .crypto_base import (_KID, FORMAT_VERSION, KEY_BYTES, NONCE_BYTES, DecryptionError,  # noqa: F401
                          KeyRingError, _aad, _b64d, _b64e, _next_id, _now_iso, key_id_of, new_key, normalise)
from .crypto_cipher import RingCiphers
from .crypto_file import parse_ring, read_ring_file, write_ring_file

#: how often (seconds) a long-running process looks whether another process changed the file
REFRESH_SECONDS = 5.0

log = logging.getLogger(__name__)


@dataclass
class KeyRing(RingCiphers):
    """Versioned data keys plus blind-index keys; one of each is active."""

    active: str
    # repr=False: a ring printed in a traceback, debugger or log must not show key material
    keys: dict[str, str] = field(repr=False)
    index_active: str
    index_keys: dict[str, str] = field(repr=False)
    path: Path | None = None
    #: an unfinished ``flask keys rotate``: {"to": data kid, "index_to": index kid or None}
    rotation: dict | None = None
    #: audit-chain HMAC keys ("a1", "a2", ...): never retired, old events stay verifiable with them
    audit_active: str | None = None
    audit_keys: dict[str, str] = field(default_factory=dict, repr=False)
    #: when a new data or index key last became active (ISO, UTC): ``retire`` waits RETIRE_GRACE
    #: after it, so every running process has re-read the ring before an old key can go
    replaced_at: str | None = None
    _aead: dict = field(default_factory=dict, repr=False)
    _mtime: int | None = field(default=None, repr=False)
    _checked: float = field(default=0.0, repr=False)

    # -- creation and persistence -------------------------------------------------------
    @classmethod
    def generate(cls, path: Path | None = None) -> "KeyRing":
        return cls(active="k1", keys={"k1": new_key()}, index_active="i1",
                   index_keys={"i1": new_key()}, path=path, audit_active="a1", audit_keys={"a1": new_key()})

    @classmethod
    def from_json(cls, text: str, path: Path | None = None) -> "KeyRing":
        """Parse and validate a ring; error messages never quote the file's content."""
        return cls(**parse_ring(text), path=path)

    @classmethod
    def load_file(cls, path: Path) -> "KeyRing":
        text, mtime = read_ring_file(path)
        ring = cls.from_json(text, path=path)
        ring._mtime, ring._checked = mtime, time.monotonic()
        return ring

    def to_json(self) -> str:
        data = {"active": self.active, "keys": self.keys,
                "index_active": self.index_active, "index_keys": self.index_keys}
        if self.rotation:
            data["rotation"] = self.rotation
        if self.audit_keys:
            data["audit_active"], data["audit_keys"] = self.audit_active, self.audit_keys
        if self.replaced_at:
            data["replaced_at"] = self.replaced_at
        return json.dumps(data, indent=2, sort_keys=True)

    def save(self, overwrite: bool = True) -> None:
        """Write the ring atomically and durably (fsync) with mode 0600: rotation re-encrypts
        right after saving, and a power cut must not leave data under a key the disk never kept."""
        if self.path is None:
            raise KeyRingError("this key ring came from IEUM_KEYS; update that variable instead")
        self._mtime = write_ring_file(self.path, self.to_json(), overwrite)

    def reload(self) -> bool:
        """Re-read the file (another process may have rotated); True if it changed."""
        if self.path is None or not self.path.exists():
            return False
        fresh = KeyRing.load_file(self.path)
        before = self.to_json()
        self.active, self.keys = fresh.active, fresh.keys
        self.index_active, self.index_keys = fresh.index_active, fresh.index_keys
        self.rotation, self._mtime, self._checked = fresh.rotation, fresh._mtime, fresh._checked
        self.audit_active, self.audit_keys = fresh.audit_active, fresh.audit_keys
        self.replaced_at = fresh.replaced_at
        self._aead.clear()
        return self.to_json() != before

    def refresh(self) -> None:
        """Pick up another process's rotation (looking at most every few seconds); otherwise a web
        worker would encrypt with the old key and search with the old index key until restarted."""
        now = time.monotonic()
        if self.path is None or now - self._checked < REFRESH_SECONDS:
            return
        self._checked = now
        try:
            if self.path.stat().st_mtime_ns != self._mtime:
                self.reload()
        except (OSError, KeyRingError) as exc:
            # keep serving with the keys we have; the next start refuses if the file is bad
            log.warning("key ring %s not reloaded: %s", self.path, exc)

    # -- rotation -----------------------------------------------------------------------
    def add_data_key(self) -> str:
        kid = _next_id("k", self.keys)
        self.keys[kid] = new_key()
        self.active = kid
        self._aead.clear()
        self.replaced_at = _now_iso()
        return kid

    def add_index_key(self) -> str:
        kid = _next_id("i", self.index_keys)
        self.index_keys[kid] = new_key()
        self.index_active = kid
        self.replaced_at = _now_iso()
        return kid

    def add_audit_key(self) -> str:
        """A new active audit key; the old ones stay, as the events they sealed need them."""
        kid = _next_id("a", self.audit_keys)
        self.audit_keys[kid] = new_key()
        self.audit_active = kid
        return kid

    def remove_key(self, kid: str) -> None:
        """Forget a non-active data or index key (callers check nothing uses it)."""
        if kid in (self.active, self.index_active):
            raise KeyRingError(f"key {kid} is active and cannot be removed")
        self.keys.pop(kid, None)
        self.index_keys.pop(kid, None)
        self._aead.pop(kid, None)


def load_keyring(config) -> KeyRing:
    """The ring from IEUM_KEYS (JSON) or the key file; refuses to go on without one."""
    if config.get("IEUM_KEYS"):
        return KeyRing.from_json(config["IEUM_KEYS"])
    return KeyRing.load_file(Path(config["IEUM_KEYS_FILE"]))
