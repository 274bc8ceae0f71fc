"""Exports from the auditor's pages: a reason is required, the file is sent and not kept."""
from __future__ import annotations

import csv
import io
import re
import tempfile
from pathlib import Path

import pytest
from freezegun import freeze_time
from sqlalchemy import select

from app.audit import views
from app.audit.models import AuditEvent
from app.audit.services import record

SECRET_NAME = "내보내기비밀이름"


@pytest.fixture
def exported_dirs(monkeypatch, tmp_path):
    """Every temporary directory the export view makes, so tests can check it was removed."""
    made: list[Path] = []
    real_mkdtemp = tempfile.mkdtemp

    def mkdtemp(prefix=None, **_kw):
        path = Path(real_mkdtemp(prefix=prefix, dir=tmp_path))
        made.append(path)
        return str(path)

    monkeypatch.setattr(views.tempfile, "mkdtemp", mkdtemp)
    return made


@pytest.fixture
def auditor(build, login, db):
    staff = build.user("school_staff", display_name=SECRET_NAME)
    with freeze_time("2026-03-10 01:00:00"):
        for n in range(3):
            record("student_viewed", actor=staff, subject=f"subj-{n}")
    db.session.commit()
    user = build.user("auditor")
    login(user)
    return user


def exports(db) -> list[AuditEvent]:
    return list(db.session.execute(select(AuditEvent).filter_by(action="audit_exported")).scalars())


def post(client, **data):
    form = {"start": "2026-03-01", "end": "2026-03-31", "fmt": "csv", "reason": "3월 정기 점검"}
    form.update(data)
    return client.post("/audit/export", data=form)


def test_export_form_defaults_to_last_month(auditor, client):
    from app.audit.review import current_month, previous_month
    last = previous_month(current_month())
    page = client.get("/audit/export").get_data(as_text=True)
    assert f'value="{last:%Y-%m-%d}"' in page and 'name="reason"' in page
    for fmt in ("sqlite", "csv", "xlsx"):
        assert f'value="{fmt}"' in page


def test_csv_export_is_sent_audited_and_not_kept(auditor, client, db, exported_dirs):
    with post(client) as response:
        assert response.status_code == 200
        disposition = response.headers["Content-Disposition"]
        body = response.get_data()
    assert disposition.startswith("attachment") and re.search(r"filename\*?=", disposition)
    assert response.mimetype in ("text/csv", "application/csv")
    text = body.decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text)))
    assert len([r for r in rows[1:] if "student_viewed" in r]) == 3
    assert SECRET_NAME not in text  # logins and references only, never a decrypted name
    (event,) = exports(db)
    assert (event.actor_id, event.reason) == (auditor.id, "3월 정기 점검")
    # streamed (issue 13): no file is written, and nothing may be left behind
    assert not any(d.exists() for d in exported_dirs)


@pytest.mark.parametrize("fmt,magic", [("sqlite", b"SQLite format 3\x00"), ("xlsx", b"PK")])
def test_other_formats(fmt, magic, auditor, client, db, exported_dirs):
    with post(client, fmt=fmt) as response:
        assert response.status_code == 200
        assert response.get_data().startswith(magic)
        assert "attachment" in response.headers["Content-Disposition"]
    assert len(exports(db)) == 1
    assert not any(d.exists() for d in exported_dirs)


@pytest.mark.parametrize("data,field,message", [
    ({"reason": "   "}, "reason", "내보내는 사유를 입력해 주세요."),
    ({"start": ""}, "start", "시작일을 입력해 주세요."),
    ({"end": "31/03/2026"}, "end", "올바르지 않은 날짜 값입니다."),
    ({"fmt": "pdf"}, "fmt", "올바르지 않은 선택"),
])
def test_bad_input_is_explained_and_nothing_exported(data, field, message, auditor, client, db, exported_dirs):
    response = post(client, **data)
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert re.search(rf'id="{field}-error">{re.escape(message)}', page)
    assert exports(db) == [] and exported_dirs == []


def test_a_rule_broken_in_the_service_is_shown_next_to_its_field(auditor, client, db, exported_dirs):
    response = post(client, start="2026-03-31", end="2026-03-01")
    assert response.status_code == 400
    assert 'id="end-error"' in response.get_data(as_text=True)
    assert exports(db) == []
    assert not any(d.exists() for d in exported_dirs)
