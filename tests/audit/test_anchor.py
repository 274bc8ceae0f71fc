"""Anchors: the signed chain head appended to a file outside the database (flask audit anchor)."""
from __future__ import annotations

import datetime as dt
import json
import sqlite3
import stat

import pytest
from freezegun import freeze_time

from app.audit.anchors import check_anchors, latest_anchor, read_anchors
from app.audit.chain import purge_events
from app.audit.export import write_export
from app.audit.services import record
from app.db import today_kst

from . import fill_chain


@pytest.fixture
def anchor_file(app, tmp_path):
    path = tmp_path / "audit" / "anchors.jsonl"
    app.config["AUDIT_ANCHOR_FILE"] = str(path)
    return path


def some(db, n=3, tag="e"):
    events = [record("case_viewed", object_type="support_case", object_id=f"{tag}{i}") for i in range(n)]
    db.session.commit()
    return events


def test_anchor_command_appends_a_signed_head_0600_and_prints_it(app, db, anchor_file):
    events = some(db)
    runner = app.test_cli_runner()
    first = runner.invoke(args=["audit", "anchor"])
    assert first.exit_code == 0, first.output
    printed = json.loads(first.output)
    assert (printed["count"], printed["last_id"], printed["hash"]) == (3, events[-1].id, events[-1].hash)
    assert printed["key_id"] == "a1" and len(printed["mac"]) == 64 and printed["time"].endswith("Z")
    assert stat.S_IMODE(anchor_file.stat().st_mode) == 0o600
    more = some(db, 2, "f")
    runner.invoke(args=["audit", "anchor"])
    lines = anchor_file.read_text().splitlines()
    assert len(lines) == 2 and json.loads(lines[0]) == printed  # appended, never rewritten
    assert latest_anchor()["last_id"] == more[-1].id
    verify = runner.invoke(args=["audit", "verify"])
    assert verify.exit_code == 0 and "anchors: 2" in verify.output and verify.output.endswith("OK\n")


def test_a_forged_anchor_line_is_named(app, db, anchor_file):
    some(db)
    app.test_cli_runner().invoke(args=["audit", "anchor"])
    line = json.loads(anchor_file.read_text())
    line["count"] = 2  # someone "corrects" the anchor to hide a deletion
    with anchor_file.open("a") as fh:
        fh.write(json.dumps(line) + "\n")
    check = check_anchors()
    assert not check.ok and "2번째 줄의 서명이 맞지 않습니다" in check.message


def test_anchors_survive_a_retention_purge(app, db, anchor_file):
    fill_chain(20, start=dt.datetime(2023, 1, 2))
    db.session.commit()
    app.test_cli_runner().invoke(args=["audit", "anchor"])
    some(db)
    app.test_cli_runner().invoke(args=["audit", "anchor"])
    with freeze_time("2026-11-25 03:00:00"):
        purge_events(dt.date(2023, 6, 1))
        db.session.commit()
    app.test_cli_runner().invoke(args=["audit", "anchor"])
    check = check_anchors()
    assert check.ok and check.checked == 3, check.message
    assert [a["after_id"] for _n, a in read_anchors()] == [0, 0, 20]


def test_every_export_carries_the_newest_anchor(app, db, anchor_file, tmp_path):
    some(db)
    app.test_cli_runner().invoke(args=["audit", "anchor"])
    today = today_kst()
    path = tmp_path / "out.sqlite"
    write_export("sqlite", today - dt.timedelta(days=1), today + dt.timedelta(days=1), path, "점검")
    meta = dict(sqlite3.connect(path).execute("SELECT key, value FROM metadata"))
    assert json.loads(meta["anchor"]) == latest_anchor()
    assert "HMAC-SHA256" in meta["canonical_form"]


def test_no_anchor_file_is_no_anchor(app, db, anchor_file):
    assert latest_anchor() is None and check_anchors().ok


@pytest.mark.parametrize("fmt", ["csv", "xlsx", "sqlite"])
def test_every_export_format_carries_the_newest_anchor(app, db, anchor_file, tmp_path, fmt):
    import csv as csvlib
    import zipfile
    some(db)
    app.test_cli_runner().invoke(args=["audit", "anchor"])
    newest = json.dumps(latest_anchor(), sort_keys=True, separators=(",", ":"))
    today = today_kst()
    path = tmp_path / f"out.{fmt}"
    write_export(fmt, today - dt.timedelta(days=1), today + dt.timedelta(days=1), path, "점검")
    if fmt == "csv":
        rows = list(csvlib.reader(path.read_text(encoding="utf-8-sig").splitlines()))
        assert ["#정보", "anchor", newest] in rows
    elif fmt == "xlsx":
        with zipfile.ZipFile(path) as book:
            xml = "".join(book.read(name).decode() for name in book.namelist() if name.startswith("xl/worksheets/"))
        assert json.loads(newest)["hash"] in xml
    else:
        with sqlite3.connect(path) as conn:
            values = dict(conn.execute("SELECT key, value FROM metadata").fetchall())
        assert values["anchor"] == newest


def test_a_rewritten_head_is_named_with_the_particle_of_its_number(app, db, anchor_file):
    from app.audit.anchors import _mac
    from app.audit.services import keyring
    from app.words import particle
    events = some(db)
    app.test_cli_runner().invoke(args=["audit", "anchor"])
    line = json.loads(anchor_file.read_text())
    line["hash"] = "0" * 64  # a signed anchor whose head differs from the chain's event
    line["mac"] = _mac(keyring().audit_key_bytes()[line["key_id"]], line)
    anchor_file.write_text(json.dumps(line) + "\n")
    check = check_anchors()
    last = events[-1].id
    assert not check.ok and f"이벤트 #{last}{particle(str(last), '이/가')} 앵커 1번째 줄과 다릅니다" in check.message
    assert "이(가)" not in check.message
