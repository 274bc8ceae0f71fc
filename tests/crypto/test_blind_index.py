"""Blind indexes: normalised exact match, composite indexes, and search across an index rotation."""
from __future__ import annotations

from app.domain import DomainError

from app import crypto_rotation

from freezegun import freeze_time

import datetime as dt

import pytest
from sqlalchemy import select

from app.crypto import KeyRing, normalise
from app.crypto_rotation import retire_key, rotate_keys
from app.db import blind_index_matches

from .conftest import Specimen, stored


def find(db, *values, column=None):
    column = column if column is not None else Specimen.note_bidx
    found = db.session.execute(select(Specimen).where(blind_index_matches(column, *values)).order_by(Specimen.id))
    return [s.note for s in found.scalars()]


@pytest.mark.parametrize("raw, expected", [
    ("  김  민준  ", "김 민준"),
    ("ＫＩＭ　Min-Jun", "kim min-jun"),  # full-width letters and ideographic space (NFKC)
    ("Straße", "strasse"),
    ("홍\t길동\n", "홍 길동"),
    ("\u1112\u1169\u11bc", "홍"),  # conjoining jamo compose to the syllable
])
def test_normalise(raw, expected):
    assert normalise(raw) == expected


def test_search_ignores_spacing_case_and_full_width(db, make_specimens):
    make_specimens(1, note="Kim 홍길동")
    make_specimens(1, note="Lee 홍길동")
    for typed in ("Kim 홍길동", "  kim    홍길동 ", "ＫＩＭ　홍길동", "KIM\t홍길동"):
        assert find(db, typed) == ["Kim 홍길동"], typed
    assert find(db, "Kim 홍길") == []
    assert find(db, "") == [] and find(db, None) == []


def test_index_is_keyed_and_not_plain_sha(db, make_specimens, ring):
    make_specimens(1, note="홍길동")
    value = stored(db, "note_bidx")[0]
    assert value.startswith("i1.") and len(value) == 3 + 64
    assert value != KeyRing.generate().blind_index("홍길동")  # another index key, another index


def test_composite_index_and_empty_values(db, make_specimens):
    make_specimens(1, note="김민준", born=dt.date(2012, 3, 1))
    make_specimens(1, note="김민준", born=dt.date(2013, 5, 5))
    make_specimens(1, note="", born=dt.date(2012, 3, 1))
    assert find(db, " 김민준 ", dt.date(2012, 3, 1), column=Specimen.note_born_bidx) == ["김민준"]
    assert stored(db, "note_bidx")[2] is None and stored(db, "note_born_bidx")[2] is None


def test_changing_a_source_updates_its_indexes(db, make_specimens):
    specimen, = make_specimens(1, note="박서연", born=dt.date(2011, 1, 2))
    specimen.note = "박서윤"
    db.session.commit()
    assert find(db, "박서연") == [] and find(db, "박서윤") == ["박서윤"]
    assert find(db, "박서윤", dt.date(2011, 1, 2), column=Specimen.note_born_bidx) == ["박서윤"]
    specimen.born = None
    db.session.commit()
    assert stored(db, "note_born_bidx") == [None]


def test_search_works_during_and_after_an_index_key_rotation(db, make_specimens, specimens, ring):
    make_specimens(30, note="학생{i} 홍길동", born=dt.date(2012, 3, 1))

    class Stop(Exception):
        pass

    def stop_after_one_batch(done, total):
        if done:
            raise Stop

    with pytest.raises(Stop):
        rotate_keys(index=True, batch_size=10, progress=stop_after_one_batch, tables=specimens)
    kids = {value.split(".")[0] for value in stored(db, "note_bidx")}
    assert kids == {"i1", "i2"}  # half-way: both index keys in use
    for i in (0, 29):
        assert find(db, f"학생{i}  홍길동") == [f"학생{i} 홍길동"]

    result = rotate_keys(tables=specimens)  # resumes the same rotation, adds no key
    assert result.resumed and result.added == [] and ring.index_active == "i2"
    assert {value.split(".")[0] for value in stored(db, "note_bidx") + stored(db, "note_born_bidx")} == {"i2"}
    with pytest.raises(DomainError, match="cannot be retired before"):
        retire_key("i1", tables=specimens)  # running processes may not have re-read the ring yet
    with freeze_time(dt.datetime.now(dt.timezone.utc).replace(tzinfo=None) + crypto_rotation.RETIRE_GRACE):
        retire_key("i1", tables=specimens)
    assert "i1" not in ring.index_keys
    assert find(db, "학생7 홍길동") == ["학생7 홍길동"]
    assert find(db, "학생7  홍길동", dt.date(2012, 3, 1), column=Specimen.note_born_bidx) == ["학생7 홍길동"]


def test_composite_parts_do_not_run_into_each_other(ring):
    assert ring.blind_index(("홍 길동", "김")) != ring.blind_index(("홍", "길동 김"))
    assert ring.blind_index((" 홍  길동", "ＫＩＭ")) == ring.blind_index(("홍 길동", "kim"))
    assert ring.blind_index("홍 길동") == ring.blind_index(("홍  길동",))
