"""The admin home: active accounts by role, locked, inactive and still-temporary accounts, each a
SQL count, with links to the filtered user list and the organisation screens."""
from __future__ import annotations

import datetime as dt
import re

from sqlalchemy import event

from app.admin.services import admin_figures
from app.auth.models import LoginThrottle
from app.db import utcnow


def role_count(html: str, role: str) -> int:
    match = re.search(rf'<tr data-role="{role}">.*?<td class="num">(\d+)</td>', html, re.S)
    return int(match.group(1))


def test_the_home_shows_account_counts_and_links(client, admin, build, db):
    school = build.school()
    build.user("school_staff", organisation=school)
    build.user("school_staff", organisation=school)
    gone = build.user("school_staff", organisation=school)
    gone.active = False
    locked = build.user("district_coordinator")
    db.session.add(LoginThrottle(login=locked.login_key, failures=5, locked_until=utcnow() + dt.timedelta(minutes=9)))
    # an expired lock and a lock on a login nobody has are not locked accounts
    db.session.add(LoginThrottle(login="nobody", failures=5, locked_until=utcnow() + dt.timedelta(minutes=9)))
    expired = build.user("auditor")
    db.session.add(LoginThrottle(login=expired.login_key, failures=5, locked_until=utcnow() - dt.timedelta(minutes=1)))
    db.session.commit()
    html = client.get("/home/admin").get_data(as_text=True)
    assert role_count(html, "school_staff") == 2 and role_count(html, "admin") == 1
    assert role_count(html, "district_coordinator") == 1 and role_count(html, "guardian") == 0
    assert "잠긴 계정 1개" in html and "비활성 계정 1개" in html
    assert 'href="/admin/users?locked=y"' in html and 'href="/admin/users?status=inactive"' in html
    assert 'href="/admin/organisations"' in html and 'href="/admin/users/new"' in html
    assert 'href="/handling/"' in html and "준비 중" not in html


def test_the_counts_take_a_fixed_number_of_queries(app, build, db):
    """Aggregates in SQL: the query count does not grow with the number of accounts."""
    def queries() -> int:
        seen = []
        listener = lambda *args: seen.append(1)  # noqa: E731
        event.listen(db.engine, "before_cursor_execute", listener)
        try:
            admin_figures()
        finally:
            event.remove(db.engine, "before_cursor_execute", listener)
        return len(seen)

    build.user("school_staff")
    few = queries()
    for _ in range(5):
        build.user("school_staff")
    assert queries() == few <= 5  # four counts (and, on SQLite, the transaction's BEGIN)
