"""Model base, mixins and encrypted field types.

An encrypted field is two things on a model: a ``<name>_enc`` Text column that holds the
ciphertext, and a descriptor that encrypts on assignment and decrypts (lazily, cached) on
read, binding the value to table, column and the row's ``uid``::

    class Student(UidMixin, TimestampMixin, db.Model):
        name_enc: Mapped[Ciphertext] = ciphertext_column()
        name = EncryptedText(blind_index="name_bidx")
        name_bidx: Mapped[str | None] = blind_index_column()

Every field is registered in ``ENCRYPTED_FIELDS`` so ``flask keys`` can find and rotate it.
"""
from __future__ import annotations

import datetime as dt
import json
import uuid
from typing import Any, Optional

from flask import current_app
from sqlalchemy import DateTime, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from .crypto import KeyRing
from .extensions import db

Ciphertext = Optional[str]


def utcnow() -> dt.datetime:
    """The one clock of the application: naive UTC, so freezegun controls every rule."""
    return dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)


def today_kst() -> dt.date:
    """Today's date in Seoul, which is what business rules about 'today' mean."""
    return (utcnow() + dt.timedelta(hours=9)).date()


def keyring() -> KeyRing:
    return current_app.extensions["ieum_keyring"]


class IdMixin:
    id: Mapped[int] = mapped_column(Integer, primary_key=True)


class UidMixin(IdMixin):
    """A public UUID: used in URLs and as associated data of encrypted fields."""

    uid: Mapped[str] = mapped_column(String(36), unique=True, nullable=False)

    def __init__(self, **kwargs: Any) -> None:
        # the uid must exist before any encrypted field is assigned
        self.uid = kwargs.pop("uid", None) or str(uuid.uuid4())
        super().__init__(**kwargs)


class TimestampMixin:
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow, nullable=False)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow, onupdate=utcnow, nullable=False)


def ciphertext_column(**kwargs) -> Any:
    """The Text column behind an encrypted field."""
    return mapped_column(Text, nullable=True, **kwargs)


def blind_index_column(**kwargs) -> Any:
    return mapped_column(String(80), nullable=True, index=True, **kwargs)


#: (model class, field name) of every encrypted field, for rotation and status
ENCRYPTED_FIELDS: list[tuple[type, str]] = []
#: (model class, index column, source field names) of every blind index
BLIND_INDEXES: list[tuple[type, str, tuple[str, ...]]] = []


class EncryptedField:
    """Descriptor over ``<name>_enc``; subclasses convert to and from text."""

    def __init__(self, blind_index: str | None = None) -> None:
        self.blind_index = blind_index

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name
        self.column = f"{name}_enc"
        self.cache = f"_plain_{name}"
        ENCRYPTED_FIELDS.append((owner, name))
        if self.blind_index:
            BLIND_INDEXES.append((owner, self.blind_index, (name,)))

    # text <-> python value
    def dump(self, value: Any) -> str:
        return str(value)

    def load(self, text: str) -> Any:
        return text

    def __get__(self, obj: Any, owner: type | None = None) -> Any:
        if obj is None:
            return self
        stored = getattr(obj, self.column)
        cached = obj.__dict__.get(self.cache)
        if cached is not None and cached[0] == stored:
            return cached[1]
        value = None if stored is None else self.load(
            keyring().decrypt(stored, obj.__tablename__, self.column, obj.uid))
        obj.__dict__[self.cache] = (stored, value)
        return value

    def __set__(self, obj: Any, value: Any) -> None:
        if obj.uid is None:
            raise RuntimeError(f"{type(obj).__name__}.uid must be set before {self.name}")
        stored = None if value is None else keyring().encrypt(
            self.dump(value), obj.__tablename__, self.column, obj.uid)
        setattr(obj, self.column, stored)
        obj.__dict__[self.cache] = (stored, value)
        for model, index_column, sources in BLIND_INDEXES:
            if isinstance(obj, model) and self.name in sources:
                setattr(obj, index_column, compute_blind_index(obj, sources))


class EncryptedText(EncryptedField):
    """Encrypted string (empty strings are kept as empty strings)."""


class EncryptedDate(EncryptedField):
    def dump(self, value: dt.date) -> str:
        if not isinstance(value, dt.date):
            raise TypeError(f"{self.name} must be a date")
        return value.isoformat()

    def load(self, text: str) -> dt.date:
        return dt.date.fromisoformat(text)


class EncryptedJSON(EncryptedField):
    def dump(self, value: Any) -> str:
        return json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":"))

    def load(self, text: str) -> Any:
        return json.loads(text)


def composite_blind_index(model: type, index_column: str, *sources: str) -> None:
    """Declare a blind index over several fields (e.g. name + birth date)."""
    BLIND_INDEXES.append((model, index_column, tuple(sources)))


def compute_blind_index(obj: Any, sources: tuple[str, ...], kid: str | None = None) -> str | None:
    parts = []
    for source in sources:
        value = getattr(obj, source)
        if value is None or value == "":
            return None
        parts.append(value.isoformat() if isinstance(value, dt.date) else str(value))
    return keyring().blind_index("\x1f".join(parts), kid)


def blind_index_matches(column, *values: Any):
    """A SQL condition: ``column`` holds the blind index of these values under any index key."""
    parts = [v.isoformat() if isinstance(v, dt.date) else str(v) for v in values]
    return column.in_(keyring().blind_index_candidates("\x1f".join(parts)))
