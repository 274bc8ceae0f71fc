"""flask keys init | status | rotate | retire through click."""
from __future__ import annotations

from app import crypto_rotation

from freezegun import freeze_time

import datetime as dt

import json
import os
import re
from importlib.metadata import entry_points

from click.testing import CliRunner

from app.crypto_cli import keys


def test_keys_is_a_flask_entry_point():
    assert any(ep.name == "keys" and ep.value == "app.crypto_cli:keys"
               for ep in entry_points(group="flask.commands"))


def test_init_creates_a_0600_ring_and_refuses_to_overwrite(tmp_path):
    path = tmp_path / "instance" / "keys.json"
    runner = CliRunner()
    first = runner.invoke(keys, ["init", "--path", str(path)])
    assert first.exit_code == 0, first.output
    assert oct(os.stat(path).st_mode & 0o777) == "0o600"
    content = path.read_text()
    assert json.loads(content)["active"] == "k1"
    second = runner.invoke(keys, ["init", "--path", str(path)])
    assert second.exit_code == 1
    assert "already exists" in second.output and "left unchanged" in second.output
    assert path.read_text() == content
    for key in json.loads(content)["keys"].values():
        assert key not in first.output + second.output


def test_status_rotate_retire(app, db, build, ring_path):
    build.user("guardian", display_name="홍길동")
    runner = app.test_cli_runner()
    status = runner.invoke(keys, ["status"])
    assert status.exit_code == 0, status.output
    assert "active data key: k1" in status.output
    assert re.search(r"user_account.display_name_enc +\[data\]  k1=1\n", status.output)

    refused = runner.invoke(keys, ["retire", "k1"])
    assert refused.exit_code == 1 and "k1 is the active data key" in refused.output

    rotated = runner.invoke(keys, ["rotate", "--index", "--batch-size", "50"])
    assert rotated.exit_code == 0, rotated.output
    assert "rotated to data key k2 (index key i2): 1 values" in rotated.output
    assert "new keys k2, i2 were saved" in rotated.output
    assert re.search(r"user_account.display_name_enc +\[data\]  k1=0  k2=1\n", runner.invoke(keys, ["status"]).output)

    early = runner.invoke(keys, ["retire", "k1"])
    assert early.exit_code == 1 and "k1 cannot be retired before" in early.output
    with freeze_time(dt.datetime.now(dt.timezone.utc).replace(tzinfo=None) + crypto_rotation.RETIRE_GRACE):
        for kid in ("k1", "i1"):
            retired = runner.invoke(keys, ["retire", kid])
            assert retired.exit_code == 0, retired.output
    saved = json.loads(ring_path.read_text())
    assert (set(saved["keys"]), set(saved["index_keys"])) == ({"k2"}, {"i2"})
    everything = "".join(r.output for r in (status, refused, rotated, retired))
    assert "홍길동" not in everything and saved["keys"]["k2"] not in everything


def test_rotate_refuses_an_environment_ring(make_app, keys_json):
    app = make_app(IEUM_KEYS=keys_json)
    result = app.test_cli_runner().invoke(keys, ["rotate"])
    assert result.exit_code == 1 and "IEUM_KEYS" in result.output and "Traceback" not in result.output
