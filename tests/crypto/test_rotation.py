"""flask keys rotate / retire / status as services: resumable, guarded, audited."""
from __future__ import annotations

from freezegun import freeze_time

import datetime as dt
import json

import pytest
from sqlalchemy import select, update

from app import crypto_rotation
from app.audit.models import AuditEvent
from app.auth.models import User
from app.crypto import DecryptionError, KeyRing, KeyRingError
from app.crypto_rotation import key_status, retire_key, rotate_keys
from app.db import encrypted_tables
from app.domain import DomainError

from .conftest import Specimen, stored


class Interrupted(Exception):
    pass


def interrupt_after(batches: int):
    """A progress callback that stops rotation once ``batches`` batches have committed."""
    seen = []

    def progress(done: int, total: int) -> None:
        if done:
            seen.append(done)
            if len(seen) >= batches:
                raise Interrupted
    return progress


def kids(values) -> set:
    return {v.split(".")[1] for v in values if v is not None}


def events(db, action: str) -> list[AuditEvent]:
    return db.session.execute(select(AuditEvent).filter_by(action=action).order_by(AuditEvent.id)).scalars().all()


def test_rotate_reencrypts_everything_and_saves_the_key_first(db, make_specimens, specimens, ring, ring_path):
    make_specimens(25, born=dt.date(2012, 3, 1), facts={"n": 1})
    make_specimens(5, note="")
    before = stored(db, "note_enc")
    on_disk = []

    def progress(done, total):
        if not done:  # before the first batch: the new key must already be on disk
            on_disk.append(json.loads(ring_path.read_text()))
            assert total == 30

    result = rotate_keys(batch_size=7, progress=progress, tables=specimens)
    assert on_disk[0]["active"] == "k2" and "k2" in on_disk[0]["keys"] and on_disk[0]["rotation"]["to"] == "k2"
    assert (result.added, result.values, result.batches, result.remaining) == (["k2"], 25 * 3 + 5, 5, 0)
    assert result.blind_indexes == 0  # index key unchanged: indexes stay as they are
    saved = json.loads(ring_path.read_text())
    assert saved["active"] == "k2" and "rotation" not in saved and set(saved["keys"]) == {"k1", "k2"}
    after = stored(db, "note_enc")
    assert kids(after) == {"k2"} and not set(before) & set(after)
    db.session.remove()
    again = db.session.execute(select(Specimen).order_by(Specimen.id)).scalars().all()
    assert [s.note for s in again] == [f"메모 {i}" for i in range(25)] + [""] * 5
    assert again[0].born == dt.date(2012, 3, 1) and again[0].facts == {"n": 1}


def test_rotation_is_audited_with_counts_only(db, build, ring):
    user = build.user("admin", display_name="관리자실명")
    rotate_keys(actor=user)
    added, = events(db, "key_added")
    assert (added.object_type, added.object_id, added.actor_id) == ("key", "k2", user.id)
    batches = events(db, "keys_reencrypted")
    assert json.loads(batches[0].details) == {"user_account.display_name_enc": 1}
    done, = events(db, "keys_rotated")
    assert json.loads(done.details) == {"values": 1, "blind_indexes": 0, "batches": 1, "remaining": 0}
    everything = " ".join(str(e.details) for e in events(db, "key_added") + batches + [done])
    for secret in ["관리자실명", *ring.keys.values(), *ring.index_keys.values()]:
        assert secret not in everything


def test_interrupted_rotation_resumes_without_a_new_key(db, make_specimens, specimens, ring, ring_path):
    make_specimens(50, note="학생 {i}", born=dt.date(2010, 1, 1))
    with pytest.raises(Interrupted):
        rotate_keys(batch_size=10, progress=interrupt_after(2), tables=specimens)
    values = stored(db, "note_enc")
    assert [v.split(".")[1] for v in values] == ["k2"] * 20 + ["k1"] * 30
    assert json.loads(ring_path.read_text())["rotation"] == {"to": "k2", "index_to": None}
    status = key_status(specimens)
    assert status.rotation and status.totals("data") == {"k1": 60, "k2": 40}
    db.session.remove()
    assert [s.note for s in db.session.execute(select(Specimen).order_by(Specimen.id)).scalars()] == \
        [f"학생 {i}" for i in range(50)]  # a half-rotated table reads fine

    result = rotate_keys(batch_size=10, tables=specimens)
    assert result.resumed and result.added == [] and result.active == "k2"
    assert result.values == 60 and result.batches == 3  # only what was left, current rows skipped
    assert kids(stored(db, "note_enc") + stored(db, "born_enc")) == {"k2"}
    assert "rotation" not in json.loads(ring_path.read_text())
    assert rotate_keys(tables=specimens).added == ["k3"]  # finished, so the next run rotates again


def test_a_failing_batch_writes_nothing(db, make_specimens, specimens, monkeypatch):
    make_specimens(20)
    real = crypto_rotation._reencrypt_rows
    calls = []

    def fail_second(et, ring, rows):
        calls.append(1)
        changes = real(et, ring, rows)
        if len(calls) == 2:
            raise Interrupted
        return changes

    monkeypatch.setattr(crypto_rotation, "_reencrypt_rows", fail_second)
    with pytest.raises(Interrupted):
        rotate_keys(batch_size=8, tables=specimens)
    assert [v.split(".")[1] for v in stored(db, "note_enc")] == ["k2"] * 8 + ["k1"] * 12


def test_a_row_changed_meanwhile_is_not_overwritten(db, make_specimens, specimens, monkeypatch, ring):
    rows = make_specimens(5)
    changed_id, changed_uid = rows[2].id, rows[2].uid
    real = crypto_rotation._reencrypt_rows

    def web_request_writes_with_old_key(et, ring_, batch):
        changes = real(et, ring_, batch)
        stale = KeyRing(active="k1", keys=dict(ring.keys), index_active="i1", index_keys=dict(ring.index_keys))
        new = stale.encrypt("새로 고친 메모", "crypto_specimen", "note_enc", changed_uid)
        db.session.execute(update(Specimen.__table__).where(Specimen.__table__.c.id == changed_id).values(note_enc=new))
        return changes

    monkeypatch.setattr(crypto_rotation, "_reencrypt_rows", web_request_writes_with_old_key)
    result = rotate_keys(tables=specimens)
    assert result.remaining == 1 and ring.rotation  # told to run again; marker kept
    assert [v.split(".")[1] for v in stored(db, "note_enc")] == ["k2", "k2", "k1", "k2", "k2"]
    monkeypatch.undo()
    assert rotate_keys(tables=specimens).values == 1
    db.session.remove()
    assert db.session.get(Specimen, changed_id).note == "새로 고친 메모"


def test_a_tampered_value_stops_rotation_with_a_clear_error(db, make_specimens, specimens):
    rows = make_specimens(4, note="비밀 {i}")
    db.session.execute(update(Specimen.__table__).where(Specimen.__table__.c.id == rows[1].id)
                       .values(note_enc=rows[0].note_enc))
    db.session.commit()
    with pytest.raises(DecryptionError) as error:
        rotate_keys(tables=specimens)
    message = str(error.value)
    assert message.startswith("crypto_specimen.note_enc:") and f"row id {rows[1].id}" in message
    assert "비밀" not in message
    assert kids(stored(db, "note_enc")) == {"k1"}


def test_retire(db, make_specimens, specimens, ring, ring_path):
    make_specimens(10)
    tables = encrypted_tables() + specimens
    with pytest.raises(DomainError, match="k1 is the active data key"):
        retire_key("k1", tables=tables)
    with pytest.raises(DomainError, match="i1 is the active index key"):
        retire_key("i1", tables=tables)
    with pytest.raises(DomainError, match="no key k9"):
        retire_key("k9", tables=tables)
    with pytest.raises(Interrupted):
        rotate_keys(batch_size=4, progress=interrupt_after(1), tables=tables)
    with pytest.raises(DomainError, match=r"k1 is still used by 6 values \(crypto_specimen.note_enc 6\)"):
        retire_key("k1", tables=tables)
    assert "k1" in json.loads(ring_path.read_text())["keys"]
    rotate_keys(tables=tables)
    with pytest.raises(DomainError, match=r"k1 cannot be retired before .* running processes may still write"):
        retire_key("k1", tables=tables)
    with freeze_time(dt.datetime.now(dt.timezone.utc).replace(tzinfo=None) + crypto_rotation.RETIRE_GRACE):
        retire_key("k1", tables=tables)
    assert set(json.loads(ring_path.read_text())["keys"]) == {"k2"} and "k1" not in ring.keys
    retired, = events(db, "key_retired")
    assert (retired.object_type, retired.object_id, json.loads(retired.details)) == ("key", "k1", {"values": 0})
    db.session.remove()
    assert {s.note for s in db.session.execute(select(Specimen)).scalars()} == {f"메모 {i}" for i in range(10)}


def test_status_counts_per_key_table_and_column(db, build, make_specimens, specimens, ring):
    build.user("guardian")
    make_specimens(3, born=dt.date(2010, 1, 1))
    make_specimens(2, note="")
    ring.add_data_key()
    ring.keys.pop("k1")  # values whose key is gone are reported, not hidden
    status = key_status(encrypted_tables() + specimens)
    by_column = {(c.table, c.column): c for c in status.columns}
    assert by_column["user_account", "display_name_enc"].unknown == 1
    note = by_column["crypto_specimen", "note_enc"]
    assert (note.kind, note.counts, note.unknown) == ("data", {"k2": 0}, 5)
    assert by_column["crypto_specimen", "note_bidx"].counts == {"i1": 3}
    assert by_column["crypto_specimen", "note_born_bidx"].counts == {"i1": 3}
    assert by_column["crypto_specimen", "facts_enc"].counts == {"k2": 0}


def test_rotation_needs_a_key_ring_file(make_app, keys_json):
    app = make_app(IEUM_KEYS=keys_json)
    with app.app_context(), pytest.raises(KeyRingError, match="IEUM_KEYS"):
        rotate_keys()


def test_one_key_operation_at_a_time(db, ring):
    with crypto_rotation.ring_lock(ring.path):
        with pytest.raises(KeyRingError, match="another 'flask keys rotate' or 'retire' is running"):
            rotate_keys()
    assert ring.active == "k1"


def test_rotation_of_the_application_tables(db, build, ring):
    first = build.user("guardian", display_name="보호자 0").id
    for n in (1, 2):
        build.user("guardian", display_name=f"보호자 {n}")
    db.session.add(User(login="bulk", login_key="bulk", display_name="일괄", role="guardian", password_hash="x"))
    db.session.commit()
    result = rotate_keys()
    assert result.values == 4
    status = key_status()
    assert status.totals("data")["k2"] == 4 and status.totals("data")["k1"] == 0
    db.session.remove()
    assert db.session.get(User, first).display_name == "보호자 0"


def test_key_ids_with_like_wildcards_are_matched_exactly(db, make_specimens, specimens, ring):
    ring.keys["k_1"] = ring.keys["k1"]  # '_' is a LIKE wildcard: "k_1" must not count "kx1"
    ring.keys["kx1"] = ring.keys["k1"]
    ring.active = "k_1"
    make_specimens(2)
    ring.active = "k1"
    make_specimens(1)
    counts = {c.column: c.counts for c in key_status(specimens).columns}
    assert counts["note_enc"] == {"k1": 1, "k_1": 2, "kx1": 0}
