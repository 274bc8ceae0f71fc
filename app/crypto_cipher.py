"""AES-256-GCM field encryption, blind indexes and audit keys: the methods of ``KeyRing`` that use
keys (``app.crypto`` holds the ring itself, its file and its rotation steps).

Stored ciphertext: ``e1.<key id>.<urlsafe base64 of nonce || ciphertext+tag>``; the associated
data binds it to ``table|column|row uid``.  A blind index is ``<index key id>.<hex HMAC>``.
"""
from __future__ import annotations

import hashlib
import hmac
import secrets

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from .crypto_base import (_KID, FORMAT_VERSION, NONCE_BYTES, DecryptionError, KeyRingError, _aad, _b64d, _b64e,
                          normalise)


class RingCiphers:
    """Mixed into ``KeyRing``: uses its ``keys``, ``index_keys``, ``audit_keys``, ``_aead`` and
    ``reload()`` (a key id this process has not seen may come from another process's rotation)."""

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
