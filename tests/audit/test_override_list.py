"""Auditors see every referral sent without covering consent, with the lead's written reason."""
import pytest

from app.agencies import referrals as r
from tests.agencies.conftest import agency_with_service  # noqa: F401  (fixture)
from tests.agencies.test_referrals import draft, make_world


@pytest.mark.parametrize("role", ["school_staff", "school_lead", "district_coordinator", "guardian",
                                  "agency_coordinator", "admin"])
def test_only_auditors_see_the_override_list(client, login, build, role):
    login(build.user(role))
    assert client.get("/audit/overrides").status_code == 403


def test_override_listed_with_category_and_without_the_students_name(client, login, build, db, agency_with_service):
    w = make_world(build, agency_with_service, consent=False)
    consented = make_world(build, agency_with_service)
    r.send_referral(draft(w), w.lead, override_reason="보호자 연락 불가, 멍 자국", override_category="child_abuse")
    r.send_referral(draft(consented), consented.lead)  # an ordinary referral is not an override
    db.session.commit()
    login(build.user("auditor"))
    html = client.get("/audit/overrides").get_data(as_text=True)
    assert html.count("<tr data-event=") == 1
    # the category, never the written reason (it stays encrypted in the referral)
    assert "아동학대 의심" in html and w.case.student.uid in html
    assert "보호자 연락 불가, 멍 자국" not in html
    assert w.case.student.name not in html


def test_empty_override_list_says_so(client, login, build):
    login(build.user("auditor"))
    assert "동의 없이 보낸 의뢰가 없습니다." in client.get("/audit/overrides").get_data(as_text=True)


def test_the_override_list_reads_only_events_with_a_reason(client, login, build, db):
    """SQLite plans: the page and its count walk the small partial index of reasoned events, not
    every referral_sent event of the trail (1.1 s at Seoul scale before migration 0010)."""
    from sqlalchemy import event

    from tests.conftest import PG_URL
    if PG_URL:
        pytest.skip("plans are checked on SQLite; PostgreSQL plans with statistics")
    login(build.user("auditor"))
    plans = []

    def explain(conn, _cursor, statement, params, _context, _many):
        if statement.startswith("SELECT") and "FROM audit_event" in statement and "reason IS NOT NULL" in statement:
            plans.append(" | ".join(r[-1] for r in conn.exec_driver_sql("EXPLAIN QUERY PLAN " + statement, params)))

    event.listen(db.engine, "before_cursor_execute", explain)
    try:
        assert client.get("/audit/overrides").status_code == 200
    finally:
        event.remove(db.engine, "before_cursor_execute", explain)
    assert len(plans) == 2  # the page and its count
    assert all("ix_audit_event_reasoned" in plan for plan in plans), plans
