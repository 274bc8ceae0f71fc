"""권한 변경 이력 for auditors (/audit/grants): every grant change with filters (kind, KST date
range, login) and pages; a CSV/XLSX export with a required reason that is itself audited, with
formula cells neutralised; reasons shown and exported but never in an audit event's details."""
from __future__ import annotations

import csv
import io
import re
import tempfile
from pathlib import Path

import pytest
from freezegun import freeze_time
from sqlalchemy import select

from app.audit import grants_views
from app.auth.grants import grant_state, record_grant
from app.auth.models import GrantChange
from app.permissions import ROLES

from .conftest import all_audit_text, events, sign_in

FORMULA_REASON = "=HYPERLINK(\"http://evil\",\"x\")"


def changes(html: str) -> list[str]:
    return re.findall(r'data-testid="grant-row" data-change="[^"]+" data-kind="([^"]+)"', html)


@pytest.fixture
def history(build, db):
    """Grant changes on two days around a KST midnight, one with a formula-like reason."""
    admin = build.user("admin", login="grant-admin")
    with freeze_time("2026-03-01 14:30:00"):  # 2026-03-01 23:30 KST
        alice = build.user("school_staff", login="alice")
    with freeze_time("2026-03-01 15:30:00"):  # 2026-03-02 00:30 KST
        bob = build.user("school_staff", login="bob")
        before = grant_state(bob)
        bob.active = False
        record_grant(bob, "deactivated", admin, before=before, reason=FORMULA_REASON)
        db.session.commit()
    with freeze_time("2026-03-05 01:00:00"):
        before = grant_state(alice)
        alice.role = "school_lead"
        db.session.flush()
        record_grant(alice, "role_changed", admin, before=before, reason="＋교감 발령")
        db.session.commit()
    return {"admin": admin, "alice": alice, "bob": bob}


@pytest.fixture
def auditor(build, login, history):
    user = build.user("auditor", login="the-auditor")
    assert login(user).status_code == 302
    return user


def test_the_page_lists_every_change_newest_first_with_reasons(client, auditor, history, db):
    response = client.get("/audit/grants")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    # the auditor's and the admin's accounts (made today), then alice's role change in March
    assert changes(html)[:3] == ["created", "created", "role_changed"]
    assert "역할: 학교 지원팀 → 학교 지원팀장(교감)" in html
    assert "＋교감 발령" in html and "=HYPERLINK" in html  # shown as text (Jinja escapes it)
    [viewed] = events(db, "grant_history_viewed")
    assert viewed.actor_id == auditor.id and "교감" not in (viewed.details or "")


@pytest.mark.parametrize(("query", "expected"), [
    ({"kind": "deactivated"}, ["deactivated"]),
    ({"start": "2026-03-02", "end": "2026-03-02"}, ["deactivated", "created"]),
    ({"start": "2026-03-01", "end": "2026-03-01"}, ["created"]),
    ({"login": "ALICE"}, ["role_changed", "created"]),
    ({"login": "grant-admin", "kind": "role_changed"}, ["role_changed"]),
])
def test_filters(client, auditor, query, expected):
    assert changes(client.get("/audit/grants", query_string=query).get_data(as_text=True)) == expected


def test_a_backwards_range_is_explained(client, auditor):
    response = client.get("/audit/grants", query_string={"start": "2026-03-05", "end": "2026-03-01"})
    assert response.status_code == 400 and "종료일은 시작일과 같거나 그 뒤여야 합니다." in response.get_data(as_text=True)


def test_pages(client, auditor, monkeypatch):
    monkeypatch.setattr(grants_views, "PAGE_SIZE", 2)
    first = client.get("/audit/grants", query_string={"login": "alice"}).get_data(as_text=True)
    assert changes(first) == ["role_changed", "created"]
    everything = client.get("/audit/grants").get_data(as_text=True)
    assert 'href="/audit/grants?page=2"' in everything
    assert len(changes(client.get("/audit/grants", query_string={"page": 3}).get_data(as_text=True))) == 2


@pytest.mark.parametrize("role", sorted(set(ROLES) - {"auditor"}))
def test_only_auditors_see_or_export_it(app, build, db, role, history):
    other = sign_in(app, build.user(role))
    assert other.get("/audit/grants").status_code == 403
    assert other.post("/audit/grants/export", data={"fmt": "csv", "reason": "x"}).status_code == 403
    assert len(events(db, "permission_denied")) == 2 and events(db, "grant_history_exported") == []


def test_the_menu_and_the_auditor_home_link_it(client, auditor):
    home = client.get("/home/auditor").get_data(as_text=True)
    assert '<a href="/audit/grants">권한 변경 이력</a>' in home  # the menu entry
    assert 'data-testid="home-grants"' in home


@pytest.fixture
def exported_dirs(monkeypatch, tmp_path):
    made: list[Path] = []
    real = tempfile.mkdtemp

    def mkdtemp(prefix=None, **_kw):
        path = Path(real(prefix=prefix, dir=tmp_path))
        made.append(path)
        return str(path)

    monkeypatch.setattr(grants_views.tempfile, "mkdtemp", mkdtemp)
    return made


def test_csv_export_is_audited_neutralised_and_not_kept(client, auditor, db, exported_dirs, monkeypatch):
    monkeypatch.setattr(grants_views, "EXPORT_BATCH", 3)  # read in more than one batch
    with client.post("/audit/grants/export", data={"kind": "", "start": "2026-03-01", "end": "2026-03-31",
                                                   "login": "", "fmt": "csv", "reason": "상반기 권한 점검"}) as response:
        assert response.status_code == 200 and response.mimetype == "text/csv"
        assert "attachment" in response.headers["Content-Disposition"]
        text = response.get_data().decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0][:3] == ["일시(KST)", "변경 번호", "종류"]
    assert [r[3] for r in rows[1:]] == ["role_changed", "deactivated", "created", "created"]
    reasons = {r[3]: r[9] for r in rows[1:]}
    assert reasons["deactivated"] == "'" + FORMULA_REASON  # a spreadsheet shows it, never runs it
    assert reasons["role_changed"] == "'＋교감 발령"      # the full-width plus too
    assert not any(cell.startswith(("=", "+", "-", "@")) for row in rows for cell in row)
    [exported] = events(db, "grant_history_exported")
    assert (exported.actor_id, exported.reason) == (auditor.id, "상반기 권한 점검")
    assert '"rows":4' in exported.details and '"format":"csv"' in exported.details
    assert all(not path.exists() for path in exported_dirs) and exported_dirs


def test_xlsx_export_keeps_cells_as_text(client, auditor, db, exported_dirs):
    from openpyxl import load_workbook
    with client.post("/audit/grants/export", data={"kind": "deactivated", "fmt": "xlsx", "reason": "점검"}) as response:
        assert response.status_code == 200
        body = response.get_data()
    sheet = load_workbook(io.BytesIO(body)).active
    values = [[c.value for c in row] for row in sheet.iter_rows()]
    assert len(values) == 2 and values[1][3] == "deactivated" and values[1][9] == "'" + FORMULA_REASON
    assert all(c.data_type == "s" for row in sheet.iter_rows() for c in row)
    [exported] = events(db, "grant_history_exported")
    assert '"kind":"deactivated"' in exported.details


@pytest.mark.parametrize(("data", "message"), [
    ({"reason": ""}, "내보내는 사유를 입력해 주세요."),
    ({"reason": "점검", "start": "2026-13-01"}, "기간이 올바르지 않습니다"),
    ({"reason": "점검", "kind": "nonsense"}, "변경 종류가 올바르지 않습니다"),
    ({"reason": "점검", "fmt": "pdf"}, "파일 형식"),
])
def test_export_input_is_checked_and_nothing_is_exported(client, auditor, db, exported_dirs, data, message):
    form = {"fmt": "csv", **data}
    response = client.post("/audit/grants/export", data=form)
    assert response.status_code == 400 and message in response.get_data(as_text=True)
    assert events(db, "grant_history_exported") == [] and exported_dirs == []


def test_a_failed_write_leaves_no_file_and_no_record(client, auditor, db, exported_dirs, monkeypatch):
    def broken(fh, rows):
        fh.write(b"half")
        raise OSError("disk full")
    monkeypatch.setattr(grants_views, "_write_csv", broken)
    with pytest.raises(OSError):
        client.post("/audit/grants/export", data={"fmt": "csv", "reason": "점검"})
    assert all(not path.exists() for path in exported_dirs)
    db.session.rollback()
    assert events(db, "grant_history_exported") == []


def test_no_reason_ever_reaches_an_audit_event(client, auditor, db, history):
    client.get("/audit/grants")
    text = all_audit_text(db)
    assert "HYPERLINK" not in text and "교감 발령" not in text
    stored = db.session.execute(select(GrantChange.reason_enc).where(GrantChange.kind == "deactivated")).scalar_one()
    assert "HYPERLINK" not in str(stored)
