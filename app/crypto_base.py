"""What the key ring modules share: the stored format, errors, base64, key ids, the associated
data of a value and the normalised form blind indexes hash.  ``app.crypto`` re-exports all of it."""
from __future__ import annotations

import base64
import datetime as dt
import re
import secrets
import unicodedata

FORMAT_VERSION = "e1"
KEY_BYTES = 32
NONCE_BYTES = 12
#: key ids end up inside stored values ("." separates) and in LIKE filters (case-blind on SQLite)
_KID = re.compile(r"[a-z0-9_-]{1,32}")


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
