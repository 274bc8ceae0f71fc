"""Answers the form fuzz (tests/test_fuzz_forms.py, issue 19) once turned into a 500, kept as plain
regression tests."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select

from app.audit.models import AuditEvent


@pytest.mark.parametrize("start, end", [("", "9999-12-31"), ("0001-01-01", ""), ("0001-01-01", "9999-12-31")])
@pytest.mark.parametrize("reason", ["", "권한 점검"])
def test_grant_export_with_a_hidden_date_no_one_could_mean(db, build, login, client, start, end, reason):
    """The export form's hidden dates are text: year 1 or 9999 parsed and overflowed the day
    arithmetic of the query (500).  Now: the form's period error, no export, no event."""
    login(build.user("auditor"))
    exported = select(func.count()).select_from(AuditEvent).where(AuditEvent.action == "grant_history_exported")
    before = db.session.execute(exported).scalar_one()
    response = client.post("/audit/grants/export", data={"fmt": "csv", "reason": reason, "start": start, "end": end})
    assert response.status_code == 400
    assert "기간이 올바르지 않습니다" in response.get_data(as_text=True)
    assert db.session.execute(exported).scalar_one() == before


def test_grant_export_keeps_a_real_period(db, build, login, client):
    login(build.user("auditor"))
    with client.post("/audit/grants/export", data={"fmt": "csv", "reason": "권한 점검", "start": "2026-01-01",
                                                    "end": "2026-12-31"}) as response:
        assert response.status_code == 200 and "attachment" in response.headers["Content-Disposition"]
        assert response.get_data().decode("utf-8-sig").startswith("일시(KST)")
