"""Auditor pages in English (run with the compiled English catalogue): the month is written for
the reader, labels and messages follow the language, and Korean stays as it was."""
from __future__ import annotations

from freezegun import freeze_time

from .test_review import NOW, auditor, march  # noqa: F401  (fixtures)


def english(client):
    with client.session_transaction() as session:
        session["lang"] = "en"


@freeze_time(NOW)
def test_review_page_and_mark_in_each_language(march, auditor, client, db):  # noqa: F811
    korean = client.get("/audit/review?month=2026-03").get_data(as_text=True)
    assert "2026년 3월" in korean
    english(client)
    page = client.get("/audit/review?month=2026-03").get_data(as_text=True)
    assert "March 2026" in page and "2026년 3월" not in page
    response = client.post("/audit/review/mark", data={"mark-month": "2026-03", "mark-comment": "checked"},
                           follow_redirects=True)
    text = response.get_data(as_text=True)
    assert "Audit records for March 2026 marked as reviewed." in text
    again = client.post("/audit/review/mark", data={"mark-month": "2026-03", "mark-comment": "again"})
    assert "March 2026 has already been marked as reviewed." in again.get_data(as_text=True)


@freeze_time(NOW)
def test_grant_history_filters_in_english(auditor, client, db):  # noqa: F811
    english(client)
    page = client.get("/audit/grants").get_data(as_text=True)
    assert "Login (account or person who changed it)" in page and "Account created" in page
