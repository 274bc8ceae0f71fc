"""Key ring, AES-256-GCM field encryption and blind indexes.

Stored ciphertext: ``e1.<key id>.<urlsafe base64 of nonce || ciphertext+tag>``.
Associated data binds every value to ``table|column|row uid`` so a ciphertext copied to
another row or column fails to decrypt.  Blind index values carry their key id too
(``<index key id>.<hex>``) so the index key can rotate.  Rotation itself lives in
``crypto_rotation``; this module never writes to the database.
"""
from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import json
import logging
import os
import re
import secrets
import stat
import tempfile
import time
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

FORMAT_VERSION = "e1"
KEY_BYTES = 32
NONCE_BYTES = 12
#: key ids end up inside stored values ("." separates) and in LIKE filters (case-blind on SQLite)
_KID = re.compile(r"[a-z0-9_-]{1,32}")
#: how often (seconds) a long-running process looks whether another process changed the file
REFRESH_SECONDS = 5.0

log = logging.getLogger(__name__)


class KeyRingError(RuntimeError):
    """The key ring is missing, unreadable or unsafe."""


class DecryptionError(RuntimeError):
    """A stored value could not be decrypted; names table and column, never the value."""


def _b64e(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode("ascii").rstrip("=")


def _b64d(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def new_key() -> str:
    """A fresh random 256-bit key, base64 encoded for the key ring file."""
    return _b64e(secrets.token_bytes(KEY_BYTES))


def _now_iso() -> str:
    return dt.datetime.now(dt.timezone.utc).replace(tzinfo=None).isoformat(timespec="seconds")


def _next_id(prefix: str, existing) -> str:
    numbers = [int(k[len(prefix):]) for k in existing if re.fullmatch(prefix + r"\d+", k)]
    return f"{prefix}{max(numbers, default=0) + 1}"


@dataclass
class KeyRing:
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
        try:
            data = json.loads(text)
            ring = cls(active=data["active"], keys=dict(data["keys"]),
                       index_active=data["index_active"], index_keys=dict(data["index_keys"]),
                       path=path, rotation=data.get("rotation"), audit_active=data.get("audit_active"),
                       audit_keys=dict(data.get("audit_keys") or {}), replaced_at=data.get("replaced_at"))
            sizes = {kid: len(_b64d(raw)) for kid, raw in
                     {**ring.keys, **ring.index_keys, **ring.audit_keys}.items()}
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            raise KeyRingError("key ring is not valid JSON with active/keys/index_active/index_keys "
                               f"and base64 keys ({type(exc).__name__})") from None
        # ids first: later messages quote them, and a key pasted in by mistake must not be quoted
        if not all(isinstance(k, str) and _KID.fullmatch(k) for k in
                   (*ring.keys, *ring.index_keys, *ring.audit_keys, ring.active, ring.index_active,
                    *([ring.audit_active] if ring.audit_active is not None else []))):
            raise KeyRingError("key ids may only use lower-case letters, digits, '-' and '_'")
        if ring.active not in ring.keys:
            raise KeyRingError(f"active key {ring.active} is not in the key ring")
        if ring.index_active not in ring.index_keys:
            raise KeyRingError(f"active index key {ring.index_active} is not in the key ring")
        if set(ring.keys) & set(ring.index_keys):
            raise KeyRingError("a key id is used for both a data key and an index key")
        if set(ring.audit_keys) & (set(ring.keys) | set(ring.index_keys)):
            raise KeyRingError("a key id is used for both an audit key and a data or index key")
        if ring.audit_active is not None and ring.audit_active not in ring.audit_keys:
            raise KeyRingError(f"active audit key {ring.audit_active} is not in the key ring")
        if not isinstance(ring.rotation, (dict, type(None))):
            raise KeyRingError("key ring 'rotation' must be an object; remove it and run 'flask keys rotate'")
        bad = [kid for kid, size in sizes.items() if size != KEY_BYTES]
        if bad:
            raise KeyRingError(f"key {bad[0]} is not a 256-bit key")
        return ring

    @classmethod
    def load_file(cls, path: Path) -> "KeyRing":
        if not path.exists():
            raise KeyRingError(
                f"no key ring at {path}. Create one with 'flask keys init' (or scripts/run), "
                "or set IEUM_KEYS to the key ring JSON.")
        info = path.stat()
        mode = stat.S_IMODE(info.st_mode)
        if mode & 0o077:
            raise KeyRingError(f"key ring {path} is readable by others (mode {oct(mode)}); run: chmod 600 {path}")
        ring = cls.from_json(path.read_text(encoding="utf-8"), path=path)
        ring._mtime, ring._checked = info.st_mtime_ns, time.monotonic()
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
        fd, tmp = tempfile.mkstemp(dir=self.path.parent, prefix=".keys-", suffix=".tmp")  # mode 0600
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                fh.write(self.to_json())
                fh.flush()
                os.fsync(fh.fileno())
            if overwrite:
                os.replace(tmp, self.path)
            else:
                os.link(tmp, self.path)  # fails if the file exists: never clobber a ring
        except FileExistsError:
            raise KeyRingError(f"key ring already exists at {self.path}; it was left unchanged") from None
        finally:
            if os.path.exists(tmp):
                os.unlink(tmp)
        dir_fd = os.open(self.path.parent, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)
        self._mtime = self.path.stat().st_mtime_ns

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

    # -- audit chain --------------------------------------------------------------------
    def audit_key(self, kid: str | None = None) -> tuple[str, bytes]:
        """(key id, raw key) of an audit key, the active one by default."""
        kid = kid or self.audit_active
        if kid is None:
            raise KeyRingError("the key ring has no audit key; run 'flask keys rotate --audit'")
        if kid not in self.audit_keys and not (self.reload() and kid in self.audit_keys):
            raise KeyRingError(f"audit key {kid} is not in the key ring")
        return kid, _b64d(self.audit_keys[kid])

    def audit_key_bytes(self) -> dict[str, bytes]:
        """Every audit key, raw, by id (for verifying a chain sealed across rotations)."""
        return {kid: _b64d(raw) for kid, raw in self.audit_keys.items()}

    def remove_key(self, kid: str) -> None:
        """Forget a non-active data or index key (callers check nothing uses it)."""
        if kid in (self.active, self.index_active):
            raise KeyRingError(f"key {kid} is active and cannot be removed")
        self.keys.pop(kid, None)
        self.index_keys.pop(kid, None)
        self._aead.pop(kid, None)

    # -- field encryption ---------------------------------------------------------------
    def _cipher(self, kid: str) -> AESGCM:
        aead = self._aead.get(kid)
        if aead is None:
            if kid not in self.keys and not (self.reload() and kid in self.keys):
                raise KeyRingError(f"key {kid} is not in the key ring")
            aead = self._aead[kid] = AESGCM(_b64d(self.keys[kid]))
        return aead

    def encrypt(self, plaintext: str, table: str, column: str, uid: str) -> str:
        return self.encrypt_with(self.active, plaintext, table, column, uid)

    def encrypt_with(self, kid: str, plaintext: str, table: str, column: str, uid: str) -> str:
        """Encrypt under a given key (the key check values of app/key_check.py); values use the active one."""
        nonce = secrets.token_bytes(NONCE_BYTES)
        sealed = self._cipher(kid).encrypt(nonce, plaintext.encode("utf-8"), _aad(table, column, uid))
        return f"{FORMAT_VERSION}.{kid}.{_b64e(nonce + sealed)}"

    def decrypt(self, stored: str, table: str, column: str, uid: str) -> str:
        try:
            version, kid, body = stored.split(".", 2)
        except ValueError:
            raise DecryptionError(f"{table}.{column}: stored value is not in the encrypted format") from None
        if version != FORMAT_VERSION:
            raise DecryptionError(f"{table}.{column}: unknown format version")
        try:
            cipher = self._cipher(kid)
        except KeyRingError:
            # the id comes from the stored value: show it only if it looks like an id
            shown = kid if _KID.fullmatch(kid) else "(invalid id)"
            raise DecryptionError(f"{table}.{column}: key {shown} is missing from the key ring") from None
        try:
            raw = _b64d(body)
            return cipher.decrypt(raw[:NONCE_BYTES], raw[NONCE_BYTES:], _aad(table, column, uid)).decode("utf-8")
        except (InvalidTag, ValueError):
            raise DecryptionError(
                f"{table}.{column}: value failed authentication (tampered, moved from another row "
                "or column, or encrypted with a different key)") from None

    # -- blind indexes ------------------------------------------------------------------
    def blind_index(self, value: str | tuple[str, ...], kid: str | None = None) -> str:
        """HMAC of the normalised value; a tuple (composite index) is normalised part by part,
        because normalise() would fold the separator into a space ("a b"+"c" == "a"+"b c")."""
        kid = kid or self.index_active
        if kid not in self.index_keys:
            raise KeyRingError(f"index key {kid} is not in the key ring")
        parts = (value,) if isinstance(value, str) else value
        message = "\x1f".join(normalise(part) for part in parts)
        digest = hmac.new(_b64d(self.index_keys[kid]), message.encode("utf-8"), hashlib.sha256)
        return f"{kid}.{digest.hexdigest()}"

    def blind_index_candidates(self, value: str | tuple[str, ...]) -> list[str]:
        """The index of ``value`` under every index key, to query across a rotation."""
        return [self.blind_index(value, kid) for kid in sorted(self.index_keys)]


def _aad(table: str, column: str, uid: str) -> bytes:
    return f"ieum|{table}|{column}|{uid}".encode("utf-8")


_SPACE = re.compile(r"\s+")


def normalise(value: str) -> str:
    """The form blind indexes hash: NFKC, case-folded, inner white space collapsed, trimmed.

    The design asks for NFC; NFKC is a superset of it (canonical *and* compatibility
    equivalence), so full-width letters and the ideographic space typed by a Korean IME
    (ＫＩＭ, "홍\u3000길동") match their ordinary forms.  NFKC runs again after case folding
    because folding can produce decomposed sequences (Unicode's NFKC_Casefold does the same).
    Changing this function changes every stored index: only do it with an index-key rotation.
    """
    text = unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", value).casefold())
    return _SPACE.sub(" ", text).strip()


def key_id_of(stored: str | None) -> str | None:
    """The key id a stored ciphertext or blind index was made with."""
    if not stored:
        return None
    parts = stored.split(".")
    return parts[1] if parts[0] == FORMAT_VERSION and len(parts) > 2 else parts[0]


def load_keyring(config) -> KeyRing:
    """The ring from IEUM_KEYS (JSON) or the key file; refuses to go on without one."""
    if config.get("IEUM_KEYS"):
        return KeyRing.from_json(config["IEUM_KEYS"])
    return KeyRing.load_file(Path(config["IEUM_KEYS_FILE"]))
