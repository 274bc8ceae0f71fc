"""The key ring file: safe mode, validation that never echoes key material, atomic saves."""
from __future__ import annotations

import json
import os

import pytest

from app import crypto
from app.config import ConfigError
from app.crypto import KeyRing, KeyRingError, key_id_of


def test_key_file_readable_by_others_is_refused(make_app, ring_path):
    os.chmod(ring_path, 0o644)
    with pytest.raises(KeyRingError, match=f"chmod 600 {ring_path}"):
        KeyRing.load_file(ring_path)
    with pytest.raises(ConfigError, match="chmod 600"):
        make_app(IEUM_KEYS=None, IEUM_KEYS_FILE=str(ring_path))


def test_missing_key_file_says_how_to_create_one(make_app, tmp_path):
    with pytest.raises(ConfigError, match="flask keys init"):
        make_app(IEUM_KEYS=None, IEUM_KEYS_FILE=str(tmp_path / "nope.json"))


@pytest.mark.parametrize("mutate, message", [
    (lambda d: d.update(active="k9"), "active key k9 is not in the key ring"),
    (lambda d: d["keys"].update(k1=d["keys"]["k1"][:20]), "key k1 is not a 256-bit key"),
    (lambda d: d["keys"].update(k1=d["keys"]["k1"] + "!"), "not valid JSON"),
    (lambda d: d["keys"].update({"k.2": d["keys"]["k1"]}), "key ids may only use"),
    (lambda d: d["keys"].update({"K2": d["keys"]["k1"]}), "key ids may only use lower-case"),
    (lambda d: d["keys"].update(i1=d["keys"]["k1"]), "both a data key and an index key"),
    (lambda d: d.pop("index_keys"), "not valid JSON"),
    (lambda d: d.update(active=d["keys"]["k1"]), "key ids may only use"),  # a key pasted as the id
])
def test_invalid_rings_are_refused_without_echoing_keys(mutate, message):
    data = json.loads(KeyRing.generate().to_json())
    mutate(data)
    with pytest.raises(KeyRingError, match=message) as error:
        KeyRing.from_json(json.dumps(data))
    for key in data.get("keys", {}).values():
        assert key[:16] not in str(error.value)


def test_repr_shows_no_key_material():
    ring = KeyRing.generate()
    shown = repr(ring)
    assert "k1" in shown
    for key in [*ring.keys.values(), *ring.index_keys.values()]:
        assert key not in shown


def test_save_is_atomic_0600_and_refuses_to_clobber(tmp_path):
    path = tmp_path / "keys.json"
    ring = KeyRing.generate(path)
    ring.save(overwrite=False)
    assert oct(os.stat(path).st_mode & 0o777) == "0o600"
    with pytest.raises(KeyRingError, match="already exists"):
        KeyRing.generate(path).save(overwrite=False)
    assert KeyRing.load_file(path).keys == ring.keys
    ring.add_data_key()
    ring.save()
    assert KeyRing.load_file(path).active == "k2"
    assert [p.name for p in tmp_path.iterdir()] == ["keys.json"]  # no temporary file left behind


def test_a_running_process_picks_up_a_rotation_from_another(ring_path, monkeypatch):
    web = KeyRing.load_file(ring_path)
    cli = KeyRing.load_file(ring_path)
    cli.add_data_key()
    cli.add_index_key()
    cli.save()
    os.utime(ring_path, ns=(0, 1))  # make sure the mtime differs even on coarse file systems
    web.refresh()
    assert web.active == "k1"  # looked too recently
    monkeypatch.setattr(crypto, "REFRESH_SECONDS", 0.0)
    web.refresh()
    assert (web.active, web.index_active) == ("k2", "i2")
    assert key_id_of(web.encrypt("x", "t", "c", "u")) == "k2"


def test_decrypting_with_an_unknown_key_rereads_the_file(ring_path):
    web = KeyRing.load_file(ring_path)
    cli = KeyRing.load_file(ring_path)
    cli.add_data_key()
    cli.save()
    value = cli.encrypt("새 키로 저장", "t", "c", "u")
    assert web.decrypt(value, "t", "c", "u") == "새 키로 저장"


def test_key_id_of():
    assert key_id_of("e1.k12.abc") == "k12"
    assert key_id_of("i3." + "0" * 64) == "i3"
    assert key_id_of(None) is None and key_id_of("") is None
