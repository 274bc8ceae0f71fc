"""The guardian's home and portal run the same number of SQL statements however much data there
is around them; only the audit trail grows with what is shown (one event per student, by design),
and those events go in with one INSERT after the page is rendered."""
from sqlalchemy import func, select

from app.audit.models import AuditEvent
from app.extensions import db
from app.notifications.services import notify

from ..cases.test_page_views import sign_in
from ..querycount import fresh_page, is_audit_append
from .portal_setup import SHARED_GOAL, matched

PAGES = ("/guardians/me", "/home/guardian")


def _get(app, user, url):
    """(statements other than audit appends, audit appends, events appended, html), read with an
    empty session."""
    client = sign_in(app, user)
    before = db.session.scalar(select(func.count(AuditEvent.id)))
    seen, html = fresh_page(client, url)
    appends = [s for s in seen if is_audit_append(s)]
    return len(seen) - len(appends), len(appends), db.session.scalar(select(func.count(AuditEvent.id))) - before, html


def test_guardian_home_and_portal_do_not_grow(app, build, eligible_guardian, coordinator):
    first = matched(build, eligible_guardian, coordinator, student_name="박하늘")
    notify(first.user.id, "case", "첫 알림", link="/guardians/me")
    db.session.commit()
    small = {url: _get(app, first.user, url) for url in PAGES}
    # a second student of the same guardian, other guardians' students, more alerts
    second = matched(build, eligible_guardian, coordinator, guardian=first.guardian, student_name="김바다")
    others = [matched(build, eligible_guardian, coordinator) for _ in range(3)]
    for i in range(12):
        notify(first.user.id, "case", f"알림 {i}", link="/guardians/me")
    db.session.commit()
    for url in PAGES:
        reads, appends, events, html = _get(app, first.user, url)
        assert (reads, appends) == small[url][:2] and appends == 1, url
        assert events == small[url][2] + 1, url  # one more student shown: one more view event
        assert "하늘" in html and "바다" in html and SHARED_GOAL in html
        assert all(o.case.student.given_name not in html for o in others if o.case.student.given_name != "하늘")
        assert second.case.student.name not in html  # given names only
