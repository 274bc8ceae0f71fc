"""Monthly access review (접속기록 점검): the per-user summary and marking a month reviewed."""
from __future__ import annotations

import json
import re

import pytest
from freezegun import freeze_time
from sqlalchemy import event, func, select

from app.audit import access_review as ar
from app.audit.models import AuditEvent, AuditReview
from app.audit.services import record
from app.domain import DomainError
from app.extensions import db as extension_db

from ..factories import DEFAULT_PASSWORD, Builder

#: freezes "now" for the marking rules: 2026-04-10 in Seoul
NOW = "2026-04-10 03:00:00"


def at(db, when: str, action: str, actor=None, times: int = 1, **fields) -> None:
    with freeze_time(when):
        for _ in range(times):
            record(action, actor=actor, **fields)
    db.session.commit()


def reviews(db) -> int:
    return db.session.scalar(select(func.count()).select_from(AuditReview))


def marked_events(db) -> list[AuditEvent]:
    return list(db.session.execute(select(AuditEvent).filter_by(action="access_review_marked")).scalars())


@pytest.fixture
def march(build, db):
    """Crafted events around March 2026 (KST): alice, bob and an anonymous failed login."""
    alice, bob = build.user("school_staff"), build.user("auditor")
    # in March (KST)
    at(db, "2026-02-28 15:00:00", "student_viewed", alice, subject="subj-1")   # 03-01 00:00 KST, after hours
    at(db, "2026-03-10 01:00:00", "student_viewed", alice, subject="subj-1")   # 10:00
    at(db, "2026-03-10 02:00:00", "student_viewed", alice, subject="subj-2")   # 11:00
    at(db, "2026-03-10 13:30:00", "student_viewed", alice, subject="subj-3")   # 22:30, after hours
    at(db, "2026-03-10 21:59:59", "case_viewed", alice)                        # 06:59:59, after hours
    at(db, "2026-03-10 22:00:00", "case_list_exported", alice)                 # 07:00, export
    at(db, "2026-03-11 11:59:59", "report_downloaded", alice)                  # 20:59:59, export
    at(db, "2026-03-11 12:00:00", "permission_denied", alice, outcome="denied")  # 21:00, after hours
    at(db, "2026-03-12 03:00:00", "casesexported", alice)                      # no '_': not an export
    at(db, "2026-03-20 05:00:00", "audit_exported", bob, reason="정기 점검")
    at(db, "2026-03-20 06:00:00", "audit_searched", bob)
    at(db, "2026-03-15 16:00:00", "login_failed", None, outcome="denied")      # 01:00 KST
    # outside March (KST) although close in UTC
    at(db, "2026-02-28 14:59:59", "student_viewed", alice, subject="subj-9")   # 02-28 23:59:59 KST
    at(db, "2026-03-31 15:00:00", "student_viewed", alice, subject="subj-9")   # 04-01 00:00 KST
    return alice, bob


def test_summary_counts_per_user(march, db):
    alice, bob = march
    rows = {r.actor_id: r for r in ar.monthly_access_summary("2026-03")}
    assert set(rows) == {alice.id, bob.id, None}
    a, b, anon = rows[alice.id], rows[bob.id], rows[None]
    assert (a.login, a.role) == (alice.login, "school_staff")
    assert (a.events, a.subjects, a.exports, a.denials, a.after_hours, a.unusual) == (9, 3, 2, 1, 4, False)
    assert (b.events, b.subjects, b.exports, b.denials, b.after_hours, b.unusual) == (2, 0, 1, 0, 0, False)
    assert (anon.events, anon.denials, anon.after_hours) == (1, 1, 1)


def test_neighbouring_months_are_separate(march, db):
    alice, _bob = march
    (feb,) = ar.monthly_access_summary("2026-02")
    (apr,) = ar.monthly_access_summary("2026-04")
    assert (feb.actor_id, feb.events, feb.after_hours) == (alice.id, 1, 1)   # 23:59:59 KST
    assert (apr.actor_id, apr.events) == (alice.id, 1)
    assert ar.monthly_access_summary("2026-06") == []


def test_after_hours_boundaries(build, db):
    user = build.user("school_staff")
    # KST 06:59, 07:00, 20:59, 21:00, 23:59, 00:00 -> outside, inside, inside, outside, outside, outside
    for utc in ("2026-05-04 21:59:00", "2026-05-04 22:00:00", "2026-05-05 11:59:00",
                "2026-05-05 12:00:00", "2026-05-05 14:59:00", "2026-05-05 15:00:00"):
        at(db, utc, "student_viewed", user)
    (row,) = ar.monthly_access_summary("2026-05")
    assert (row.events, row.after_hours) == (6, 4)


def test_summary_is_one_query(march, db):
    statements = []

    def count(_conn, _cursor, statement, *_args):
        statements.append(statement)

    event.listen(db.engine, "before_cursor_execute", count)
    try:
        ar.monthly_access_summary("2026-03")
    finally:
        event.remove(db.engine, "before_cursor_execute", count)
    assert len([s for s in statements if "audit_event" in s]) == 1
    assert "GROUP BY" in statements[-1]


def test_unusual_volume_uses_the_floor_when_the_median_is_small(build, db):
    quiet = [build.user("school_staff") for _ in range(4)]
    busy = build.user("school_staff")
    for user in quiet:
        at(db, "2026-05-06 01:00:00", "student_viewed", user, times=10)
    at(db, "2026-05-06 02:00:00", "student_viewed", busy, times=201)
    rows = ar.monthly_access_summary("2026-05")
    assert ar.volume_rule(rows) == ar.VolumeRule(median=10, threshold=200)
    assert [(r.actor_id, r.unusual) for r in rows][0] == (busy.id, True)  # flagged users come first
    assert not any(r.unusual for r in rows[1:])


def test_unusual_volume_uses_three_times_the_median_when_larger():
    def row(n, actor_id=1):
        return ar.AccessRow(actor_id, "u", "school_staff", n, 0, 0, 0, 0)
    rows = [row(100), row(100), row(120), row(350), row(5000, actor_id=None)]
    assert ar.volume_rule(rows) == ar.VolumeRule(median=110, threshold=330)  # anonymous not counted
    assert ar.volume_rule([]) == ar.VolumeRule(median=0, threshold=200)


# -- marking ----------------------------------------------------------------------------------

@freeze_time(NOW)
def test_mark_month_reviewed_writes_the_mark_and_its_event(build, db):
    auditor = build.user("auditor")
    review = ar.mark_month_reviewed("2026-03", "  야간 접속 2건 사유 확인, 이상 없음  ", auditor)
    db.session.commit()
    assert (review.month, review.reviewer_id, review.comment) == ("2026-03", auditor.id, "야간 접속 2건 사유 확인, 이상 없음")
    (marked,) = marked_events(db)
    assert (marked.actor_id, marked.object_type, marked.reason) == (auditor.id, "audit_review", review.comment)
    assert json.loads(marked.details) == {"month": "2026-03"}


@pytest.mark.parametrize("month,comment,field,message", [
    ("2026-03", "   ", "comment", "점검 의견을 입력해 주세요."),
    ("2026-13", "확인", "month", "YYYY-MM 형식"),
    ("03-2026", "확인", "month", "YYYY-MM 형식"),
    ("2026-05", "확인", "month", "아직 오지 않은 달"),
    ("2026-04", "확인", "month", "끝난 뒤에"),
])
@freeze_time(NOW)
def test_mark_refuses_bad_input_and_writes_nothing(month, comment, field, message, build, db):
    auditor = build.user("auditor")
    with pytest.raises(DomainError) as refused:
        ar.mark_month_reviewed(month, comment, auditor)
    assert refused.value.field == field and message in refused.value.message
    db.session.rollback()
    assert reviews(db) == 0 and marked_events(db) == []


@freeze_time(NOW)
def test_mark_refuses_a_month_already_reviewed(build, db):
    auditor = build.user("auditor")
    ar.mark_month_reviewed("2026-03", "확인", auditor)
    db.session.commit()
    with pytest.raises(DomainError, match="이미 점검 완료") as refused:
        ar.mark_month_reviewed("2026-03", "다시", build.user("auditor"))
    assert refused.value.field == "month"
    db.session.rollback()
    assert reviews(db) == 1 and len(marked_events(db)) == 1


@freeze_time("2026-03-31 15:30:00")  # already April 1st in Seoul
def test_the_month_ends_in_korean_time(build, db):
    ar.mark_month_reviewed("2026-03", "확인", build.user("auditor"))
    db.session.commit()
    assert reviews(db) == 1


# -- pages ------------------------------------------------------------------------------------

@pytest.fixture
def auditor(build, login):
    with freeze_time(NOW):
        user = build.user("auditor")
        login(user)
    return user


@freeze_time(NOW)
def test_review_page_shows_counts_rule_and_is_recorded(march, auditor, client, db):
    alice, _bob = march
    response = client.get("/audit/review?month=2026-03")
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    row = re.search(rf'<tr data-actor="{alice.login}">(.*?)</tr>', page, re.S).group(1)
    assert re.findall(r"<td class=\"num\">(\d+)</td>", row) == ["9", "3", "2", "1", "4"]
    rule = re.search(r'data-testid="volume-rule">(.*?)</li>', page, re.S).group(1)
    assert "중앙값의 3배와 200건 중 큰 값" in rule and "중앙값 5.5건, 기준 200건" in rule
    assert "점검 전" in page and 'name="mark-comment"' in page
    viewed = db.session.execute(select(AuditEvent).filter_by(action="access_review_viewed")).scalar_one()
    assert (viewed.actor_id, viewed.object_id) == (auditor.id, "2026-03")


@freeze_time(NOW)
def test_review_defaults_to_last_month_and_filters_attention(build, auditor, client, db):
    calm = build.user("school_staff")
    at(db, "2026-03-10 01:00:00", "student_viewed", calm)
    night = build.user("school_staff")
    at(db, "2026-03-10 14:00:00", "student_viewed", night)
    page = client.get("/audit/review").get_data(as_text=True)
    assert "2026년 3월" in page and f'data-actor="{calm.login}"' in page
    page = client.get("/audit/review?month=2026-03&attention=y").get_data(as_text=True)
    assert f'data-actor="{night.login}"' in page and f'data-actor="{calm.login}"' not in page


@freeze_time(NOW)
def test_review_page_paginates_and_has_an_empty_state(build, auditor, client, db, monkeypatch):
    from app.audit import views
    monkeypatch.setattr(views, "REVIEW_PAGE_SIZE", 2)
    users = [build.user("school_staff") for _ in range(3)]
    for n, user in enumerate(users):
        at(db, "2026-03-10 01:00:00", "student_viewed", user, times=n + 1)
    first = client.get("/audit/review?month=2026-03").get_data(as_text=True)
    second = client.get("/audit/review?month=2026-03&page=2").get_data(as_text=True)
    shown = re.findall(r'data-actor="([^"]+)"', first) + re.findall(r'data-actor="([^"]+)"', second)
    assert shown == [u.login for u in reversed(users)]  # busiest first
    assert "page=2" in first and "page=3" not in first + second
    assert "이 달에는 접속기록이 없습니다." in client.get("/audit/review?month=2025-01").get_data(as_text=True)


@freeze_time(NOW)
def test_bad_month_is_explained(auditor, client):
    response = client.get("/audit/review?month=2026-3")
    assert response.status_code == 400
    assert re.search(r'id="month-error">달을 YYYY-MM 형식', response.get_data(as_text=True))


@freeze_time(NOW)
def test_marking_through_the_page(march, auditor, client, db):
    response = client.post("/audit/review/mark", data={"mark-month": "2026-03", "mark-comment": "야간 접속 확인함"})
    assert response.status_code == 302 and response.headers["Location"].endswith("/audit/review?month=2026-03")
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "점검 완료" in page and auditor.login in page and "야간 접속 확인함" in page
    assert 'name="mark-comment"' not in page
    (marked,) = marked_events(db)
    assert marked.actor_id == auditor.id and marked.reason == "야간 접속 확인함"


@pytest.mark.parametrize("data,field,message", [
    ({"mark-month": "2026-03", "mark-comment": "  "}, "mark-comment", "점검 의견을 입력해 주세요."),
    ({"mark-month": "2026-05", "mark-comment": "확인"}, "mark-month", "아직 오지 않은 달은 점검할 수 없습니다."),
    ({"mark-month": "2026-04", "mark-comment": "확인"}, "mark-month", "이번 달은 끝난 뒤에"),
    ({"mark-month": "2026/03", "mark-comment": "확인"}, "mark-month", "달을 YYYY-MM 형식"),
])
@freeze_time(NOW)
def test_marking_refused_shows_the_message_next_to_the_field(data, field, message, auditor, client, db):
    response = client.post("/audit/review/mark", data=data)
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert re.search(rf'id="{field}-error">{re.escape(message)}', page)
    assert "입력한 내용을 확인해 주세요" in page  # and in the summary on top
    assert reviews(db) == 0 and marked_events(db) == []


@freeze_time(NOW)
def test_marking_a_reviewed_month_again_is_refused(build, auditor, client, db):
    ar.mark_month_reviewed("2026-03", "처음 점검", build.user("auditor"))
    db.session.commit()
    response = client.post("/audit/review/mark", data={"mark-month": "2026-03", "mark-comment": "두 번째"})
    assert response.status_code == 400
    assert re.search(r'id="mark-month-error">2026년 3월은 이미 점검 완료로 표시되었습니다', response.get_data(as_text=True))
    assert reviews(db) == 1 and len(marked_events(db)) == 1
    assert db.session.scalar(select(AuditReview.comment)) == "처음 점검"


def test_mark_form_carries_a_csrf_token(make_app):
    """With CSRF on (as in production), the page's mark form posts a valid token."""
    app = make_app(WTF_CSRF_ENABLED=True)
    with app.app_context(), freeze_time(NOW):
        auditor = Builder().user("auditor")
        client = app.test_client()
        login_page = client.get("/login").get_data(as_text=True)
        token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', login_page).group(1)
        client.post("/login", data={"login": auditor.login, "password": DEFAULT_PASSWORD, "csrf_token": token})
        page = client.get("/audit/review?month=2026-03").get_data(as_text=True)
        token = re.search(r'name="mark-csrf_token" type="hidden" value="([^"]+)"', page).group(1)
        data = {"mark-month": "2026-03", "mark-comment": "확인"}
        assert client.post("/audit/review/mark", data=data).status_code == 400
        response = client.post("/audit/review/mark", data={**data, "mark-csrf_token": token})
        assert response.status_code == 302
        assert reviews(extension_db) == 1


def test_the_month_is_read_from_the_covering_review_index_whatever_the_statistics(app, db):
    """SQLite: the aggregate names its index (FROM audit_event INDEXED BY ix_audit_event_review),
    since the planner's own choice followed ANALYZE's statistics (a skip-scan of the action index
    once made the review 1.4 s instead of 0.6 s at Seoul scale); PostgreSQL gets a plain FROM."""
    from sqlalchemy import event

    from app.audit.access_review import monthly_access_summary
    from tests.conftest import PG_URL
    statements = []

    def keep(conn, _cursor, statement, params, _context, _many):
        if "count(DISTINCT" in statement:
            statements.append((statement, params))

    event.listen(db.engine, "before_cursor_execute", keep)
    try:
        monthly_access_summary("2026-11")
    finally:
        event.remove(db.engine, "before_cursor_execute", keep)
    ((statement, params),) = statements
    if PG_URL:
        assert "INDEXED BY" not in statement
        return
    assert "FROM audit_event INDEXED BY ix_audit_event_review" in statement
    plan = " | ".join(r[-1] for r in db.session.connection().exec_driver_sql("EXPLAIN QUERY PLAN " + statement,
                                                                             params))
    assert "COVERING INDEX ix_audit_event_review" in plan, plan
