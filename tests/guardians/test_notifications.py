"""Notifications on the home pages: unread alerts with a 확인 button, concerns marked 우려."""
import app.guardians.portal_views  # noqa: F401  (routes exist before apps are created)

import pytest
from sqlalchemy import select

from app.audit.models import AuditEvent
from app.db import today_kst
from app.extensions import db
from app.guardians.activity import log_activity
from app.guardians.models import GuardianConcern
from app.notifications.models import Notification
from app.notifications.services import notify

from .portal_setup import matched


@pytest.fixture
def concern(build, eligible_guardian, coordinator):
    pair = matched(build, eligible_guardian, coordinator)
    pair.staff = build.user("school_staff", organisation=pair.case.school)
    log_activity(pair.assignment, pair.user, occurred_on=today_kst(), minutes=40, kind="emotional",
                 notes="학생이 집에 가기 싫다고 함", concern=True,
                 concern_description="학생이 집에 가기 싫다고 여러 번 말했습니다.")
    db.session.commit()
    return pair


def _panel(html: str) -> str:
    start = html.index('data-testid="home-notifications"')
    return html[start:html.index("</section>", start)]


@pytest.mark.parametrize("who", ["lead", "staff", "coordinator"])
def test_a_concern_shows_on_the_school_team_and_coordinator_home_pages(concern, coordinator, client, login, who):
    login({"lead": concern.lead, "staff": concern.staff, "coordinator": coordinator}[who])
    response = client.get("/", follow_redirects=True)
    panel = _panel(response.get_data(as_text=True))
    assert 'data-testid="concern-badge"' in panel and "우려" in panel
    concern_uid = db.session.execute(select(GuardianConcern.uid)).scalar_one()
    assert f'href="/guardians/concerns/{concern_uid}"' in panel
    assert "학생이 집에 가기 싫다고 함" not in panel  # the notes stay on the log
    assert "확인" in panel


def test_confirming_removes_the_alert_from_the_panel(concern, client, login):
    login(concern.lead)
    note = db.session.execute(select(Notification).filter_by(user_id=concern.lead.id)).scalar_one()
    response = client.post(f"/notifications/{note.uid}/read")
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(Notification, note.id).read_at is not None
    html = client.get("/home/lead").get_data(as_text=True)
    assert "새 알림이 없습니다" in _panel(html)


def test_someone_elses_alert_cannot_be_confirmed(concern, coordinator, client, login):
    login(concern.lead)
    theirs = db.session.execute(select(Notification).filter_by(user_id=coordinator.id)).scalar_one()
    assert client.post(f"/notifications/{theirs.uid}/read").status_code == 404
    assert client.post("/notifications/nope/read").status_code == 404
    db.session.expire_all()
    assert db.session.get(Notification, theirs.id).read_at is None
    denied = db.session.execute(select(AuditEvent).filter_by(action="permission_denied")).scalars().all()
    assert [e.object_id for e in denied] == [theirs.uid, "nope"]


def test_other_alerts_have_no_concern_badge(build, client, login):
    user = build.user("school_staff")
    notify(user.id, "check_expiring", "안내 알림입니다.")
    db.session.commit()
    login(user)
    panel = _panel(client.get("/home/school").get_data(as_text=True))
    assert "안내 알림입니다." in panel and "concern-badge" not in panel


def test_home_pages_without_alerts_say_so(build, client, login):
    login(build.user("district_coordinator"))
    assert "새 알림이 없습니다" in _panel(client.get("/home/district").get_data(as_text=True))
