"""Encrypted field types: round trips, nothing in the clear on disk, clear errors."""
from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from sqlalchemy import select, text, update

from app.auth.models import User
from app.crypto import DecryptionError, KeyRing
from app.db import Unreadable, encrypted_tables, keyring

from .conftest import Specimen, stored

LONG_KOREAN = "학생맞춤통합지원 대상 학생의 가정환경과 상담 내용을 기록합니다. " * 400
SECRET_NOTE = "비밀메모-홍길동-010-1234-5678"


def reload(db, specimen: Specimen) -> Specimen:
    """The same row read back from the database in a fresh session."""
    uid = specimen.uid
    db.session.remove()
    return db.session.execute(select(Specimen).filter_by(uid=uid)).scalar_one()


def read_failing(db, specimen: Specimen, field: str) -> str:
    """Read ``field`` of a row whose value cannot be decrypted: the model shows the stand-in
    (app.db.Unreadable); the key ring's own error, checked by the callers, is raised here."""
    fresh = reload(db, specimen)
    shown = getattr(fresh, field)
    assert isinstance(shown, Unreadable) and shown == "복호화할 수 없는 값"
    column = f"{field}_enc"
    return keyring().decrypt(getattr(fresh, column), "crypto_specimen", column, fresh.uid)


@pytest.mark.parametrize("field, value", [
    ("note", "홍길동"), ("note", ""), ("note", LONG_KOREAN), ("note", None), ("note", " 앞뒤 공백 "),
    ("born", dt.date(2012, 3, 1)), ("born", None),
    ("facts", {"가족": ["어머니", "동생"], "위기": True, "점수": 3.5}), ("facts", []),
    ("facts", ""), ("facts", 0), ("facts", None),
])
def test_round_trip(db, specimens, field, value):
    specimen = Specimen(**{field: value})
    db.session.add(specimen)
    db.session.commit()
    again = reload(db, specimen)
    assert getattr(again, field) == value
    assert type(getattr(again, field)) is type(value)
    raw = getattr(again, f"{field}_enc")
    assert (raw is None) == (value is None)
    if raw is not None:
        assert raw.startswith("e1.k1.")


def test_same_value_encrypts_differently_each_time(db, specimens):
    a, b = Specimen(note="같은 값"), Specimen(note="같은 값")
    assert a.note_enc != b.note_enc  # random nonce per value


def test_types_are_checked(db, specimens):
    specimen = Specimen()
    with pytest.raises(TypeError, match="born must be a date"):
        specimen.born = dt.datetime(2012, 3, 1, 9, 0)
    with pytest.raises(TypeError, match="note must be a str"):
        specimen.note = 1234


def test_no_plaintext_in_the_database(app, db, build, specimens):
    build.user("guardian", display_name="김보호자이름")
    db.session.add(User(login="bulk-1", login_key="bulk-1", display_name="박후견인이름", role="guardian", password_hash="x"))
    db.session.add(Specimen(note=SECRET_NOTE, born=dt.date(2011, 7, 19), facts={"병력": "천식치료중"}))
    db.session.commit()
    secrets = ["김보호자이름", "박후견인이름", SECRET_NOTE, "홍길동", "2011-07-19", "천식치료중"]
    if db.engine.dialect.name == "sqlite":
        path = Path(db.engine.url.database)
        db.session.remove()
        db.engine.dispose()  # the last connection to close checkpoints the WAL into the file
        raw = b"".join(p.read_bytes() for p in path.parent.glob(path.name + "*"))
        assert b"bulk-1" in raw  # the check can see plain columns, so it would see a leak
        for secret in secrets:
            assert secret.encode("utf-8") not in raw, secret
    else:
        dump = "\n".join(row for table in ("user_account", "crypto_specimen", "audit_event")
                         for row in db.session.execute(text(f"SELECT row_to_json(t)::text FROM {table} t")).scalars())
        assert "bulk-1" in dump
        for secret in secrets:
            assert secret not in dump, secret


def test_user_display_name_is_an_application_encrypted_table(db):
    names = {(t.name, f.column) for t in encrypted_tables() for f in t.fields}
    assert ("user_account", "display_name_enc") in names
    assert "crypto_specimen" not in {t.name for t in encrypted_tables()}


# -- errors -------------------------------------------------------------------------------
def _assert_clear(error: pytest.ExceptionInfo, column: str, plaintext: str) -> None:
    message = str(error.value)
    assert message.startswith(f"crypto_specimen.{column}:")
    assert plaintext not in message
    # no chained exception whose text or locals could carry the value into a log
    assert error.value.__cause__ is None
    assert error.value.__context__ is None or error.value.__suppress_context__


def _set_raw(db, specimen: Specimen, **values) -> None:
    db.session.execute(update(Specimen.__table__).where(Specimen.__table__.c.id == specimen.id).values(**values))
    db.session.commit()


def test_tampered_ciphertext(db, specimens):
    specimen = Specimen(note=SECRET_NOTE)
    db.session.add(specimen)
    db.session.commit()
    raw = specimen.note_enc
    flipped = raw[:-3] + ("A" if raw[-3] != "A" else "B") + raw[-2:]
    _set_raw(db, specimen, note_enc=flipped)
    with pytest.raises(DecryptionError, match="failed authentication") as error:
        read_failing(db, specimen, "note")
    _assert_clear(error, "note_enc", SECRET_NOTE)


def test_ciphertext_swapped_between_rows(db, specimens):
    a, b = Specimen(note=SECRET_NOTE), Specimen(note="다른 학생")
    db.session.add_all([a, b])
    db.session.commit()
    _set_raw(db, b, note_enc=a.note_enc)
    with pytest.raises(DecryptionError, match="moved from another row") as error:
        read_failing(db, b, "note")
    _assert_clear(error, "note_enc", SECRET_NOTE)


def test_ciphertext_moved_to_another_column(db, specimens):
    specimen = Specimen(note='"비밀"', facts="공개")
    db.session.add(specimen)
    db.session.commit()
    _set_raw(db, specimen, facts_enc=specimen.note_enc)  # valid JSON text, wrong column
    with pytest.raises(DecryptionError) as error:
        read_failing(db, specimen, "facts")
    _assert_clear(error, "facts_enc", "비밀")


def test_wrong_key(app, db, specimens):
    specimen = Specimen(note=SECRET_NOTE)
    db.session.add(specimen)
    db.session.commit()
    app.extensions["ieum_keyring"] = KeyRing.generate()  # same key id k1, other key material
    with pytest.raises(DecryptionError, match="different key") as error:
        read_failing(db, specimen, "note")
    _assert_clear(error, "note_enc", SECRET_NOTE)


def test_missing_key(app, db, specimens):
    specimen = Specimen(note=SECRET_NOTE)
    db.session.add(specimen)
    db.session.commit()
    other = KeyRing.generate()
    other.add_data_key()
    other.keys.pop("k1")
    app.extensions["ieum_keyring"] = other
    with pytest.raises(DecryptionError, match="key k1 is missing from the key ring") as error:
        read_failing(db, specimen, "note")
    _assert_clear(error, "note_enc", SECRET_NOTE)


def test_plaintext_in_an_encrypted_column_is_not_echoed(db, specimens):
    specimen = Specimen()
    db.session.add(specimen)
    db.session.commit()
    for leaked in ("홍길동.주민번호.900101", "홍길동"):
        _set_raw(db, specimen, note_enc=leaked)
        with pytest.raises(DecryptionError) as error:
            read_failing(db, specimen, "note")
        _assert_clear(error, "note_enc", "홍길동")
        assert "900101" not in str(error.value)
    assert stored(db, "note_enc") == ["홍길동"]
