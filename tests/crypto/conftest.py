"""Crypto test fixtures: a file-based key ring, and a throw-away ``Specimen`` model.

``Specimen`` is mapped on its own declarative base (own MetaData), so it never enters
``db.metadata`` (Alembic, ``flask db check``) nor ``encrypted_tables()`` of the application;
tests that rotate it pass ``encrypted_tables(SpecimenBase)`` explicitly.
"""
from __future__ import annotations

from typing import Optional

import pytest
from sqlalchemy import MetaData, select
from sqlalchemy.orm import DeclarativeBase, Mapped

from app.crypto import KeyRing
from app.db import (Ciphertext, EncryptedDate, EncryptedJSON, EncryptedText, UidMixin,
                    blind_index_column, ciphertext_column, composite_blind_index, encrypted_tables)


class SpecimenBase(DeclarativeBase):
    metadata = MetaData()


class Specimen(UidMixin, SpecimenBase):
    """One of each encrypted type, with a single and a composite blind index."""

    __tablename__ = "crypto_specimen"
    note_enc: Mapped[Ciphertext] = ciphertext_column()
    note = EncryptedText(blind_index="note_bidx")
    note_bidx: Mapped[Optional[str]] = blind_index_column()
    born_enc: Mapped[Ciphertext] = ciphertext_column()
    born = EncryptedDate()
    facts_enc: Mapped[Ciphertext] = ciphertext_column()
    facts = EncryptedJSON()
    note_born_bidx: Mapped[Optional[str]] = blind_index_column()


composite_blind_index(Specimen, "note_born_bidx", "note", "born")


@pytest.fixture
def ring_path(tmp_path):
    """A fresh key ring file, mode 0600."""
    path = tmp_path / "keys.json"
    KeyRing.generate(path).save()
    return path


@pytest.fixture
def app(make_app, ring_path):
    """Crypto tests use a file-based ring: rotation must be able to save new keys."""
    app = make_app(IEUM_KEYS=None, IEUM_KEYS_FILE=str(ring_path))
    with app.app_context():
        yield app


@pytest.fixture
def ring(app):
    return app.extensions["ieum_keyring"]


@pytest.fixture
def specimens(db):
    """Creates the specimen table in this test's database; returns its EncryptedTable list."""
    SpecimenBase.metadata.create_all(db.engine)
    return encrypted_tables(SpecimenBase)


@pytest.fixture
def make_specimens(db, specimens):
    """Insert ``n`` specimens through the model (so through the descriptors) and commit."""
    def _make(n: int, note: str = "메모 {i}", **fields):
        rows = [Specimen(note=note.format(i=i), **fields) for i in range(n)]
        db.session.add_all(rows)
        db.session.commit()
        return rows
    return _make


def stored(db, column: str) -> list[str | None]:
    """Raw stored values of one specimen column, in id order."""
    table = Specimen.__table__
    return list(db.session.execute(select(table.c[column]).order_by(table.c.id)).scalars())


def start_app_with_ring(app, ring_file) -> None:
    """Start another process's app on this test database with ``ring_file`` (its start-up checks run)."""
    from app import create_app
    from app.extensions import db as _db

    from ..conftest import base_config
    other = create_app(base_config(SQLALCHEMY_DATABASE_URI=app.config["SQLALCHEMY_DATABASE_URI"], IEUM_KEYS=None,
                                   IEUM_KEYS_FILE=str(ring_file)))
    with other.app_context():
        _db.session.remove()
        _db.engine.dispose()  # no connection kept open: PostgreSQL drops the test database afterwards
