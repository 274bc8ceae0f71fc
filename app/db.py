"""Model base, mixins and encrypted field types.

An encrypted field is two things on a model: a ``<name>_enc`` Text column that holds the
ciphertext, and a descriptor that encrypts on assignment and decrypts (lazily, cached) on
read, binding the value to table, column and the row's ``uid``::

    class Student(UidMixin, TimestampMixin, db.Model):
        name_enc: Mapped[Ciphertext] = ciphertext_column()
        name = EncryptedText(blind_index="name_bidx")
        name_bidx: Mapped[str | None] = blind_index_column()

A composite index is declared after the class: ``composite_blind_index(Student,
"name_birth_bidx", "name", "birth_date")``; query with ``blind_index_matches``.
``flask keys`` finds every field by walking ``db.Model``'s mapped classes (encrypted_tables).
"""
from __future__ import annotations

import datetime as dt
import json
import secrets
import time
import uuid
from dataclasses import dataclass
from typing import Any, Optional

from flask import current_app
from sqlalchemy import DateTime, Integer, String, Text, false
from sqlalchemy import inspect as sa_inspect
from sqlalchemy.orm import Mapped, mapped_column

from .crypto import DecryptionError, KeyRing
from .extensions import db
# a value that fails to decrypt reads as a display-only stand-in and raises an integrity alarm
from .integrity import (UNREADABLE_TEXT, Unreadable, UnreadableDate, UnreadableJSON, UnreadableValueError,
                        raise_integrity_alarm)

Ciphertext = Optional[str]


def utcnow() -> dt.datetime:
    """The one clock of the application: naive UTC, so freezegun controls every rule."""
    return dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)


def today_kst() -> dt.date:
    """Today's date in Seoul, which is what business rules about 'today' mean."""
    return (utcnow() + dt.timedelta(hours=9)).date()


def keyring() -> KeyRing:
    """The app's key ring, re-read when another process (flask keys rotate) changed it."""
    ring = current_app.extensions["ieum_keyring"]
    ring.refresh()
    return ring


class IdMixin:
    id: Mapped[int] = mapped_column(Integer, primary_key=True)


def new_uid() -> str:
    """A new public id: a UUID laid out as version 7 (RFC 9562), the creation time in
    milliseconds first, then 74 random bits.  New rows land at the end of every uid index and,
    as data subjects, at the end of the audit trail's subject indexes: with random (version 4)
    ids, the 2,000 events of a class-list import went to random places of two 5,000,000-entry
    indexes, ~0.4-1 s of the write lock at Seoul scale against ~50 ms at the end.  74 random
    bits keep an id unguessable; what it tells is when its row was made, which every reader
    of the row may see anyway."""
    millis = time.time_ns() // 1_000_000 & (1 << 48) - 1
    rand_a, rand_b = secrets.randbits(12), secrets.randbits(62)
    return str(uuid.UUID(int=millis << 80 | 0x7 << 76 | rand_a << 64 | 0b10 << 62 | rand_b))


class UidMixin(IdMixin):
    """A public UUID (``new_uid``): used in URLs and as associated data of encrypted fields."""

    uid: Mapped[str] = mapped_column(String(36), unique=True, nullable=False)

    def __init__(self, **kwargs: Any) -> None:
        # the uid must exist before any encrypted field is assigned
        self.uid = kwargs.pop("uid", None) or new_uid()
        super().__init__(**kwargs)


class TimestampMixin:
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow, nullable=False)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow, onupdate=utcnow, nullable=False)


def ciphertext_column(**kwargs) -> Any:
    """The Text column behind an encrypted field."""
    return mapped_column(Text, nullable=True, **kwargs)


def blind_index_column(**kwargs) -> Any:
    return mapped_column(String(80), nullable=True, index=True, **kwargs)


class EncryptedField:
    """Descriptor over ``<name>_enc``; subclasses convert to and from text."""

    def __init__(self, blind_index: str | None = None) -> None:
        self.blind_index = blind_index

    def __set_name__(self, owner: type, name: str) -> None:
        # No global registration: rotation finds fields by walking a declarative base's
        # mapped classes (encrypted_tables), so models on another base never leak in.
        self.name = name
        self.column = f"{name}_enc"
        self.cache = f"_plain_{name}"

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
        value = None if stored is None else self._decrypt(obj, stored)
        obj.__dict__[self.cache] = (stored, value)
        return value

    def _decrypt(self, obj: Any, stored: str) -> Any:
        return self.read(type(obj), obj.uid, stored)

    def read(self, owner: type, uid: str, stored: str | None) -> Any:
        """The value of ``stored``, this field's column of the ``owner`` row ``uid``, or an Unreadable
        stand-in (with an integrity alarm) when it fails: for plain query rows, where loading whole
        objects to read one field would cost more than the page (``Student.name.read(Student, uid, enc)``)."""
        if stored is None:
            return None
        table = owner.__tablename__
        try:
            return self.load(keyring().decrypt(stored, table, self.column, uid))
        except (DecryptionError, ValueError):  # ValueError: authentic text that does not load
            raise_integrity_alarm(table, self.column, uid)
            return self.stand_in(table, uid)

    def stand_in(self, table: str, uid: str) -> Unreadable:
        """What a failed read shows (display only: it is refused on write)."""
        return Unreadable(table, self.column, uid)

    def __set__(self, obj: Any, value: Any) -> None:
        if obj.uid is None:
            raise RuntimeError(f"{type(obj).__name__}.uid must be set before {self.name}")
        if isinstance(value, str) and value == UNREADABLE_TEXT:  # the stand-in, or its text from a form
            raise UnreadableValueError(self.name)
        stored = None if value is None else keyring().encrypt(
            self.dump(value), obj.__tablename__, self.column, obj.uid)
        setattr(obj, self.column, stored)
        obj.__dict__[self.cache] = (stored, value)
        for index in blind_indexes_of(type(obj)):
            if self.name in index.sources:
                setattr(obj, index.column, compute_blind_index(obj, index.sources))


class EncryptedText(EncryptedField):
    """Encrypted string (empty strings are kept as empty strings)."""

    def dump(self, value: str) -> str:
        if not isinstance(value, str):  # a silent str() would read back as a different type
            raise TypeError(f"{self.name} must be a str")
        return value


class EncryptedDate(EncryptedField):
    """Encrypted date (a datetime is refused: it would not read back as a date)."""

    def dump(self, value: dt.date) -> str:
        if not isinstance(value, dt.date) or isinstance(value, dt.datetime):
            raise TypeError(f"{self.name} must be a date")
        return value.isoformat()

    def load(self, text: str) -> dt.date:
        return dt.date.fromisoformat(text)

    def stand_in(self, table: str, uid: str) -> Unreadable:
        return UnreadableDate(table, self.column, uid)


class EncryptedJSON(EncryptedField):
    """Encrypted JSON document (dicts, lists, strings, numbers, booleans)."""

    def dump(self, value: Any) -> str:
        return json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":"))

    def load(self, text: str) -> Any:
        return json.loads(text)

    def stand_in(self, table: str, uid: str) -> Unreadable:
        return UnreadableJSON(table, self.column, uid)


# -- blind indexes ------------------------------------------------------------------------
@dataclass(frozen=True)
class BlindIndex:
    """An index column holding the HMAC of one or more encrypted fields of the same row."""

    column: str
    sources: tuple[str, ...]


_INDEX_CACHE: dict[type, tuple[BlindIndex, ...]] = {}


def encrypted_fields_of(model: type) -> dict[str, EncryptedField]:
    """The encrypted fields of a class, including those declared on mixins."""
    found: dict[str, EncryptedField] = {}
    for klass in reversed(model.__mro__):
        found.update({k: v for k, v in vars(klass).items() if isinstance(v, EncryptedField)})
    return found


def blind_indexes_of(model: type) -> tuple[BlindIndex, ...]:
    """Single-field indexes (``blind_index=``) and composite ones of a class."""
    indexes = _INDEX_CACHE.get(model)
    if indexes is None:
        single = [BlindIndex(f.blind_index, (f.name,)) for f in encrypted_fields_of(model).values()
                  if f.blind_index]
        indexes = _INDEX_CACHE[model] = (*single, *getattr(model, "_ieum_composite_indexes", ()))
    return indexes


def composite_blind_index(model: type, index_column: str, *sources: str) -> None:
    """Declare a blind index over several fields (e.g. name + birth date)."""
    fields = encrypted_fields_of(model)
    missing = [s for s in sources if s not in fields]
    if missing or not sources:
        raise ValueError(f"{model.__name__}: {missing or 'no sources'} are not encrypted fields")
    model._ieum_composite_indexes = (*getattr(model, "_ieum_composite_indexes", ()),
                                     BlindIndex(index_column, tuple(sources)))
    _INDEX_CACHE.clear()


def index_parts(values) -> tuple[str, ...] | None:
    """The parts a blind index hashes; None when any part is empty (no index is stored)."""
    parts = []
    for value in values:
        if isinstance(value, Unreadable):
            # an index of the stand-in would make the row findable under the wrong value
            raise UnreadableValueError(value.column.removesuffix("_enc"))
        if value is None or value == "":
            return None
        parts.append(value.isoformat() if isinstance(value, dt.date) else str(value))
    return tuple(parts)


def compute_blind_index(obj: Any, sources: tuple[str, ...], kid: str | None = None) -> str | None:
    parts = index_parts(getattr(obj, source) for source in sources)
    return None if parts is None else keyring().blind_index(parts, kid)


def blind_index_matches(column, *values: Any):
    """A SQL condition: ``column`` holds the blind index of these values under any index key.

    ``select(Student).where(blind_index_matches(Student.name_bidx, "홍 길동"))``; every index
    key in the ring is tried, so searches keep working while ``flask keys rotate --index`` runs.
    """
    parts = index_parts(values)
    return false() if parts is None else column.in_(keyring().blind_index_candidates(parts))


# -- discovery for flask keys ---------------------------------------------------------------
@dataclass(frozen=True)
class EncryptedTable:
    """One mapped table with encrypted fields: what status, rotate and retire walk."""

    model: type
    fields: tuple[EncryptedField, ...]
    indexes: tuple[BlindIndex, ...]

    @property
    def name(self) -> str:
        return self.model.__tablename__  # the table name bound into associated data

    @property
    def table(self):
        return self.model.__table__

    def col(self, attribute: str):
        """The Column behind a mapped attribute (attribute and column names may differ)."""
        return sa_inspect(self.model).columns[attribute]


def encrypted_tables(base: type | None = None) -> list[EncryptedTable]:
    """Every table with encrypted fields among the classes mapped on ``base`` (default db.Model).

    Explicit on purpose: tests map throw-away models on their own base and pass it here,
    so the application's commands never see tables that do not exist in its database.
    """
    base = base or db.Model
    tables: dict[str, EncryptedTable] = {}
    for mapper in base.registry.mappers:
        model = mapper.class_
        fields = encrypted_fields_of(model)
        # inheritance shares a table: the first class found covers it (none is used yet)
        if fields and getattr(model, "__tablename__", None) and model.__tablename__ not in tables:
            tables[model.__tablename__] = EncryptedTable(model, tuple(fields.values()),
                                                         blind_indexes_of(model))
    return [tables[name] for name in sorted(tables)]
