"""Page numbers and ids from a URL are bounded before they reach SQL (issue 19): a page past 2^63,
a negative or non-numeric page, or an id past any table's integer gives the list's own page (its
last-page empty state), never a 500, on SQLite and PostgreSQL."""
from __future__ import annotations

import pytest

from app.pagination import MAX_ID, MAX_PAGE, bounded_id

HUGE = "9" * 25  # past 2^63: the overflow both databases used to answer with a 500

#: every paginated list, with a role that may open it
LISTS = [
    ("school_staff", "/cases/"), ("school_staff", "/students/"), ("school_staff", "/agencies/"),
    ("school_staff", "/conferences/"), ("school_staff", "/notifications/"),
    ("agency_coordinator", "/agencies/inbox"), ("district_coordinator", "/guardians/"),
    ("admin", "/admin/users"), ("admin", "/admin/organisations"), ("admin", "/handling/"),
    ("auditor", "/audit/"), ("auditor", "/audit/overrides"), ("auditor", "/audit/grants"),
]


@pytest.mark.parametrize("role, path", LISTS)
@pytest.mark.parametrize("page", [HUGE, str(2**63), "-5", "0", "x", "1e9"])
def test_any_page_number_answers_the_list(client, build, login, role, path, page):
    login(build.user(role))
    response = client.get(path, query_string={"page": page})
    assert response.status_code == 200, (path, page, response.status_code)


@pytest.mark.parametrize("role, path, name", [("school_staff", "/agencies/", "gu")])
@pytest.mark.parametrize("value", [HUGE, "-1", str(MAX_ID + 1)])
def test_an_id_past_any_table_is_no_filter(client, build, login, role, path, name, value):
    login(build.user(role))
    response = client.get(path, query_string={name: value})
    assert response.status_code == 200 and "목록에 없는" not in response.get_data(as_text=True)


def test_the_bounds():
    assert [bounded_id(v) for v in ("12", HUGE, "-3", "0", "", None, "None", "x", str(MAX_ID))] == \
        [12, None, None, None, None, None, None, None, MAX_ID]
    assert MAX_PAGE >= 1000


@pytest.mark.parametrize("start, end", [("0001-01-01", "0001-01-02"), ("9999-12-30", "9999-12-31"),
                                        ("0001-01-01", "9999-12-31")])
def test_dates_no_one_could_mean_are_refused_beside_the_field(client, build, login, start, end):
    """Year 1 or 9999 parses but overflows date arithmetic and SQL: the form says which dates it takes."""
    from app.audit.models import AuditEvent
    from app.extensions import db
    login(build.user("auditor"))
    before = db.session.query(AuditEvent).filter(AuditEvent.action == "audit_exported").count()
    response = client.post("/audit/export", data={"start": start, "end": end, "reason": "점검", "format": "csv"})
    assert response.status_code in (200, 400) and "1900. 1. 1.부터 2199. 12. 31. 사이의 날짜" in \
        response.get_data(as_text=True)
    assert db.session.query(AuditEvent).filter(AuditEvent.action == "audit_exported").count() == before
    for path in ("/audit/", "/audit/grants"):
        assert client.get(path, query_string={"start": start, "end": end}).status_code < 500
