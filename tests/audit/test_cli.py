"""flask audit verify | purge | export."""
from __future__ import annotations

import json
import sqlite3

import pytest
from freezegun import freeze_time
from sqlalchemy import select, text

from app.audit.models import AuditCheckpoint, AuditEvent
from app.audit.services import record

from . import drop_append_only_triggers, event_ids


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


@pytest.fixture
def events(app, db):
    with freeze_time("2023-03-01 00:00:00"):
        old = [record("case_viewed", object_type="support_case", object_id=f"old-{i}") for i in range(3)]
    with freeze_time("2026-11-02 00:00:00"):
        new = [record("case_viewed", object_type="support_case", object_id=f"new-{i}") for i in range(2)]
    db.session.commit()
    return old + new


def test_verify_prints_count_head_and_ok(runner, events):
    result = runner.invoke(args=["audit", "verify"])
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines() == ["events: 5", f"head: {events[-1].hash}", "OK"]
    assert "해시 체인 검증" in result.output  # the progress bar's label


def test_verify_names_the_first_broken_event_and_fails(runner, events, db):
    broken = events[2].id
    drop_append_only_triggers()
    db.session.execute(text("UPDATE audit_event SET actor_login = 'someone' WHERE id = :id"), {"id": broken})
    db.session.commit()
    result = runner.invoke(args=["audit", "verify"])
    assert result.exit_code == 1
    assert f"first broken event id {broken}" in result.stdout and "OK" not in result.stdout.splitlines()


def test_verify_of_an_empty_trail(runner):
    result = runner.invoke(args=["audit", "verify"])
    assert result.exit_code == 0 and result.stdout.splitlines() == ["events: 0", "head: -", "OK"]


@freeze_time("2026-11-25 03:00:00")
def test_purge_removes_old_events_and_records_a_checkpoint(runner, events, db):
    result = runner.invoke(args=["audit", "purge", "--before", "2024-01-01", "--yes"])
    assert result.exit_code == 0, result.output
    assert "removed: 3 events" in result.stdout
    checkpoint = db.session.execute(select(AuditCheckpoint)).scalar_one()
    assert checkpoint.actor_login.startswith("cli:") and checkpoint.events_removed == 3
    purged = db.session.execute(select(AuditEvent).filter_by(action="audit_purged")).scalar_one()
    assert purged.actor_login == checkpoint.actor_login and purged.role == "system"
    assert runner.invoke(args=["audit", "verify"]).stdout.splitlines()[0] == "events: 3"


@freeze_time("2026-11-25 03:00:00")
def test_purge_refuses_recent_dates(runner, events, db):
    result = runner.invoke(args=["audit", "purge", "--before", "2025-01-01", "--yes"])
    assert result.exit_code == 1 and "2024. 11. 25. 이전 날짜만" in result.output  # written for people, not ISO
    assert "2024-11-25" not in result.output
    assert len(event_ids()) == 5


@freeze_time("2026-11-25 03:00:00")
def test_purge_asks_first(runner, events, db):
    result = runner.invoke(args=["audit", "purge", "--before", "2024-01-01"], input="n\n")
    assert result.exit_code == 1 and len(event_ids()) == 5
    assert "2024. 1. 1. 이전의 접속기록을 삭제합니다" in result.output and "2024-01-01" not in result.output
    result = runner.invoke(args=["audit", "purge", "--before", "2024-01-01"], input="y\n")
    assert result.exit_code == 0 and len(event_ids()) == 3


@freeze_time("2026-11-25 03:00:00")
def test_purge_with_nothing_to_remove(runner, events):
    result = runner.invoke(args=["audit", "purge", "--before", "2020-01-01", "--yes"])
    assert result.exit_code == 0 and "2020. 1. 1. 이전에 삭제할 접속기록이 없습니다." in result.stdout
    assert "2020-01-01" not in result.stdout


def test_purge_rejects_a_malformed_date(runner, events):
    result = runner.invoke(args=["audit", "purge", "--before", "01/01/2020", "--yes"])
    assert result.exit_code == 2


@pytest.mark.parametrize("fmt", ["sqlite", "csv", "xlsx"])
def test_export_writes_the_file_and_audits_it(runner, events, db, tmp_path, fmt):
    out = tmp_path / f"audit.{fmt}"
    result = runner.invoke(args=["audit", "export", "--from", "2026-11-01", "--to", "2026-11-30",
                                 "--format", fmt, "--out", str(out), "--reason", "정기 점검"])
    assert result.exit_code == 0, result.output
    assert "rows: 2" in result.stdout and "verified: OK" in result.stdout and out.exists()
    event = db.session.execute(select(AuditEvent).filter_by(action="audit_exported")).scalar_one()
    assert event.reason == "정기 점검" and json.loads(event.details)["rows"] == 2
    assert event.actor_login.startswith("cli:")
    if fmt == "sqlite":
        assert sqlite3.connect(out).execute("SELECT COUNT(*) FROM events").fetchone() == (2,)


@pytest.mark.parametrize("args,message", [
    (["--reason", "  "], "사유"),
    (["--reason", "x", "--to", "2026-10-01"], "종료일"),
])
def test_export_explains_bad_input_and_writes_nothing(runner, events, db, tmp_path, args, message):
    out = tmp_path / "audit.sqlite"
    base = {"--from": "2026-11-01", "--to": "2026-11-30", "--out": str(out)}
    for flag, value in zip(args[::2], args[1::2]):
        base[flag] = value
    result = runner.invoke(args=["audit", "export", *[x for kv in base.items() for x in kv]])
    assert result.exit_code == 1 and message in result.output
    assert not out.exists()
    assert db.session.execute(select(AuditEvent).filter_by(action="audit_exported")).first() is None


def test_export_requires_a_reason_and_a_known_format(runner, tmp_path):
    out = str(tmp_path / "x")
    assert runner.invoke(args=["audit", "export", "--from", "2026-11-01", "--to", "2026-11-30",
                               "--out", out]).exit_code == 2
    assert runner.invoke(args=["audit", "export", "--from", "2026-11-01", "--to", "2026-11-30", "--out", out,
                               "--reason", "x", "--format", "pdf"]).exit_code == 2


def test_purge_then_export_across_the_checkpoint_still_verifies(runner, events, db, tmp_path):
    with freeze_time("2026-11-25 03:00:00"):
        assert runner.invoke(args=["audit", "purge", "--before", "2024-01-01", "--yes"]).exit_code == 0
    result = runner.invoke(args=["audit", "export", "--from", "2020-01-01", "--to", "2026-12-31",
                                 "--format", "csv", "--out", str(tmp_path / "all.csv"), "--reason", "전체"])
    # the two events after the checkpoint, the purge's own event, and this export's start (issue 19)
    assert result.exit_code == 0 and "rows: 4" in result.stdout and "verified: OK" in result.stdout
