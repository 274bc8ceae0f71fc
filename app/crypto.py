"""Key ring, AES-256-GCM field encryption and blind indexes.

Stored ciphertext: ``e1.<key id>.<urlsafe base64 of nonce || ciphertext+tag>``.
Associated data binds every value to ``table|column|row uid`` so a ciphertext copied to
another row or column fails to decrypt.  Blind index values carry their key id too
(``<index key id>.<hex>``) so the index key can rotate.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import re
import secrets
import stat
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

FORMAT_VERSION = "e1"
KEY_BYTES = 32
NONCE_BYTES = 12


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


def _next_id(prefix: str, existing) -> str:
    numbers = [int(k[len(prefix):]) for k in existing if re.fullmatch(prefix + r"\d+", k)]
    return f"{prefix}{max(numbers, default=0) + 1}"


@dataclass
class KeyRing:
    """Versioned data keys plus blind-index keys; one of each is active."""

    active: str
    keys: dict[str, str]
    index_active: str
    index_keys: dict[str, str]
    path: Path | None = None
    _aead: dict = field(default_factory=dict, repr=False)

    # -- creation and persistence -------------------------------------------------------
    @classmethod
    def generate(cls, path: Path | None = None) -> "KeyRing":
        return cls(active="k1", keys={"k1": new_key()}, index_active="i1",
                   index_keys={"i1": new_key()}, path=path)

    @classmethod
    def from_json(cls, text: str, path: Path | None = None) -> "KeyRing":
        try:
            data = json.loads(text)
            ring = cls(active=data["active"], keys=dict(data["keys"]),
                       index_active=data["index_active"], index_keys=dict(data["index_keys"]),
                       path=path)
        except (ValueError, KeyError, TypeError) as exc:
            raise KeyRingError(f"key ring is not valid JSON with active/keys/index_active/index_keys ({type(exc).__name__})") from None
        for kid in (ring.active,):
            if kid not in ring.keys:
                raise KeyRingError(f"active key {kid} is not in the key ring")
        if ring.index_active not in ring.index_keys:
            raise KeyRingError(f"active index key {ring.index_active} is not in the key ring")
        for kid, raw in {**ring.keys, **ring.index_keys}.items():
            if len(_b64d(raw)) != KEY_BYTES:
                raise KeyRingError(f"key {kid} is not a 256-bit key")
        return ring

    @classmethod
    def load_file(cls, path: Path) -> "KeyRing":
        if not path.exists():
            raise KeyRingError(
                f"no key ring at {path}. Create one with 'flask keys init' (or scripts/run), "
                "or set IEUM_KEYS to the key ring JSON.")
        mode = stat.S_IMODE(path.stat().st_mode)
        if mode & 0o077:
            raise KeyRingError(f"key ring {path} is readable by others (mode {oct(mode)}); run: chmod 600 {path}")
        return cls.from_json(path.read_text(encoding="utf-8"), path=path)

    def to_json(self) -> str:
        return json.dumps({"active": self.active, "keys": self.keys,
                           "index_active": self.index_active, "index_keys": self.index_keys},
                          indent=2, sort_keys=True)

    def save(self) -> None:
        """Write the ring atomically with mode 0600."""
        if self.path is None:
            raise KeyRingError("this key ring came from IEUM_KEYS; update that variable instead")
        tmp = self.path.with_suffix(".tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(self.to_json())
        os.replace(tmp, self.path)

    def reload(self) -> bool:
        """Re-read the file (another process may have rotated); True if it changed."""
        if self.path is None or not self.path.exists():
            return False
        fresh = KeyRing.load_file(self.path)
        changed = (fresh.keys, fresh.index_keys, fresh.active) != (self.keys, self.index_keys, self.active)
        self.active, self.keys = fresh.active, fresh.keys
        self.index_active, self.index_keys = fresh.index_active, fresh.index_keys
        self._aead.clear()
        return changed

    # -- rotation -----------------------------------------------------------------------
    def add_data_key(self) -> str:
        kid = _next_id("k", self.keys)
        self.keys[kid] = new_key()
        self.active = kid
        self._aead.clear()
        return kid

    def add_index_key(self) -> str:
        kid = _next_id("i", self.index_keys)
        self.index_keys[kid] = new_key()
        self.index_active = kid
        return kid

    # -- field encryption ---------------------------------------------------------------
    def _cipher(self, kid: str) -> AESGCM:
        aead = self._aead.get(kid)
        if aead is None:
            if kid not in self.keys and not (self.reload() and kid in self.keys):
                raise KeyRingError(f"key {kid} is not in the key ring")
            aead = self._aead[kid] = AESGCM(_b64d(self.keys[kid]))
        return aead

    def encrypt(self, plaintext: str, table: str, column: str, uid: str) -> str:
        kid = self.active
        nonce = secrets.token_bytes(NONCE_BYTES)
        sealed = self._cipher(kid).encrypt(nonce, plaintext.encode("utf-8"), _aad(table, column, uid))
        return f"{FORMAT_VERSION}.{kid}.{_b64e(nonce + sealed)}"

    def decrypt(self, stored: str, table: str, column: str, uid: str) -> str:
        try:
            version, kid, body = stored.split(".", 2)
        except ValueError:
            raise DecryptionError(f"{table}.{column}: stored value is not in the encrypted format") from None
        if version != FORMAT_VERSION:
            raise DecryptionError(f"{table}.{column}: unknown format version {version}")
        try:
            cipher = self._cipher(kid)
        except KeyRingError:
            raise DecryptionError(f"{table}.{column}: key {kid} is missing from the key ring") from None
        try:
            raw = _b64d(body)
            return cipher.decrypt(raw[:NONCE_BYTES], raw[NONCE_BYTES:], _aad(table, column, uid)).decode("utf-8")
        except (InvalidTag, ValueError):
            raise DecryptionError(
                f"{table}.{column}: value failed authentication (tampered, moved from another row "
                "or column, or encrypted with a different key)") from None

    # -- blind indexes ------------------------------------------------------------------
    def blind_index(self, value: str, kid: str | None = None) -> str:
        kid = kid or self.index_active
        digest = hmac.new(_b64d(self.index_keys[kid]), normalise(value).encode("utf-8"), hashlib.sha256)
        return f"{kid}.{digest.hexdigest()}"

    def blind_index_candidates(self, value: str) -> list[str]:
        """The index of ``value`` under every index key, to query across a rotation."""
        return [self.blind_index(value, kid) for kid in sorted(self.index_keys)]


def _aad(table: str, column: str, uid: str) -> bytes:
    return f"ieum|{table}|{column}|{uid}".encode("utf-8")


_SPACE = re.compile(r"\s+")


def normalise(value: str) -> str:
    """NFKC (so full-width letters match), trimmed, inner white space collapsed, case-folded."""
    text = unicodedata.normalize("NFKC", value)
    return _SPACE.sub(" ", text).strip().casefold()


def key_id_of(stored: str | None) -> str | None:
    """The key id a stored ciphertext or blind index was made with."""
    if not stored:
        return None
    parts = stored.split(".")
    return parts[1] if parts[0] == FORMAT_VERSION else parts[0]


def load_keyring(config) -> KeyRing:
    """The ring from IEUM_KEYS (JSON) or the key file; refuses to go on without one."""
    if config.get("IEUM_KEYS"):
        return KeyRing.from_json(config["IEUM_KEYS"])
    return KeyRing.load_file(Path(config["IEUM_KEYS_FILE"]))
