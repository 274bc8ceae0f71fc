"""The chunked verify (issue 13): whole chunks are checked as joined strings, and anything odd
goes to the exact row-by-row walk, so the fast path can only ever say "all sound"."""
from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import text

from app.audit import walk
from app.audit.chain import verify_chain
from app.audit.services import hmac_digest, keyring
from app.extensions import db

from . import drop_append_only_triggers, fill_chain

KEY = b"k" * 32


def chunk(canons: list[bytes], *, prev: str = "0" * 64, kid: str = "a1", hashes=None, links=None):
    """A chunk row as chunk_sql returns it, sound unless told otherwise."""
    digests = [hmac_digest(KEY, c, "sha256").hex() for c in canons]
    hashes = digests if hashes is None else hashes
    links = [prev, *digests[:-1]] if links is None else links
    n = len(canons)
    return (n, kid, kid, n, 1, b"\0".join(canons), ",".join(hashes), ",".join(links), n, n)


CANONS = [b'["a1","x",%d]' % i for i in range(5)]


def test_a_sound_chunk_passes_and_names_its_first_link():
    assert walk.chunk_first_link(chunk(CANONS), "0" * 64, {"a1": KEY}) == "0" * 64
    assert walk.chunk_first_link(chunk(CANONS), None, {"a1": KEY}) == "0" * 64


@pytest.mark.parametrize("damage", ["hash", "moved", "link", "first_link", "nul", "keys", "missing_key", "count"])
def test_anything_odd_goes_to_the_exact_walk(damage):
    row = list(chunk(CANONS))
    hashes, links = row[6].split(","), row[7].split(",")
    if damage == "hash":
        hashes[2] = hashes[2][::-1]
    elif damage == "moved":  # one hash holds two, the next is NULL: the same joined text
        hashes[1:3] = [hashes[1] + "," + hashes[2]]
        row[8] = 4
    elif damage == "link":
        links[3] = "f" * 64
    elif damage == "first_link":
        links[0] = "e" * 64
    elif damage == "nul":
        row[5] = row[5] + b"\0"
    elif damage == "keys":
        row[2] = "a2"
    elif damage == "missing_key":
        row[1] = row[2] = "zz"
    elif damage == "count":
        row[3] = 4
    row[6], row[7] = ",".join(hashes), ",".join(links)
    assert walk.chunk_first_link(tuple(row), "0" * 64, {"a1": KEY}) is None


def test_a_long_chain_verifies_on_the_fast_path(app, db, monkeypatch):
    fill_chain(3 * walk.CHUNK_IDS + 17, start=dt.datetime(2026, 1, 1))
    db.session.commit()
    monkeypatch.setattr(walk, "_walk_rows", lambda *a: pytest.fail("a sound chain took the slow path"))
    result = verify_chain()
    assert result.ok and result.count == 3 * walk.CHUNK_IDS + 17


@pytest.mark.parametrize("change", ["UPDATE audit_event SET reason = 'x' WHERE id = :id",
                                    "UPDATE audit_event SET prev_hash = hash WHERE id = :id",
                                    "DELETE FROM audit_event WHERE id = :id"])
def test_the_first_broken_event_is_named_inside_a_chunk(change, app, db):
    fill_chain(2 * walk.CHUNK_IDS, start=dt.datetime(2026, 1, 1))
    db.session.commit()
    victim = walk.CHUNK_IDS + 1234
    drop_append_only_triggers()
    db.session.execute(text(change), {"id": victim})
    db.session.commit()
    result = verify_chain()
    assert not result.ok
    assert result.first_broken_id == (victim + 1 if change.startswith("DELETE") else victim)


def test_keys_from_two_rotations_in_one_chunk(app, db):
    """A chunk sealed under two audit keys is checked exactly (the slow path), and passes."""
    ring = keyring()
    fill_chain(100, start=dt.datetime(2026, 1, 1))
    fill_chain(100, start=dt.datetime(2026, 1, 2), key=("zz9", b"z" * 32))
    db.session.commit()
    ring.audit_keys["zz9"] = __import__("base64").urlsafe_b64encode(b"z" * 32).decode()
    try:
        result = verify_chain()
    finally:
        ring.audit_keys.pop("zz9", None)
    assert result.ok and result.count >= 200  # keys the ring holds verify wherever they sit
