"""Alerts: at most five on a home page, every one on the "모두 보기" page with filters and pages,
모두 확인, and alerts that resolve by themselves when their object is handled or the case closes."""
import html as htmllib
import json

from sqlalchemy import func, select

from app.audit.models import AuditEvent
from app.cases import services as s
from app.notifications.models import Notification
from app.notifications.services import notify, object_key, resolve, unread_count, unread_for


def text(response) -> str:
    return htmllib.unescape(response.get_data(as_text=True))


def alerts(db, user, n):
    for i in range(n):
        notify(user.id, "referral", f"알림 {i + 1:02d}", link="/home/lead")
    db.session.commit()


def test_home_shows_five_newest_with_the_total_and_a_link_to_all(client, login, build, db):
    lead = build.user("school_lead")
    alerts(db, lead, 7)
    login(lead)
    page = text(client.get("/home/lead"))
    panel = page[page.index('data-testid="home-notifications"'):]
    panel = panel[:panel.index("</section>")]
    assert panel.count('data-testid="notification"') == 5
    assert 'data-testid="unread-total">7<' in panel and "2건 더" in panel
    assert 'href="/notifications/"' in panel


def test_list_page_paginates_filters_and_reads_all(client, login, build, db, app):
    lead = build.user("school_lead")
    other = build.user("school_lead")
    app.config["PAGE_SIZE"] = 10
    alerts(db, lead, 12)
    notify(lead.id, "concern", "우려 보고 하나", link="/home/lead")
    notify(other.id, "referral", "남의 알림", link="/home/lead")
    db.session.commit()
    login(lead)
    first = text(client.get("/notifications/"))
    assert first.count('data-testid="notification"') == 10 and "남의 알림" not in first
    assert "page=2" in first
    second = text(client.get("/notifications/?page=2"))
    assert second.count('data-testid="notification"') == 3
    only = text(client.get("/notifications/?kind=concern"))
    assert only.count('data-testid="notification"') == 1 and "우려 보고 하나" in only
    done = client.post("/notifications/read-all", data={"next": "/notifications/"}, follow_redirects=True)
    assert "알림 13건을 확인했습니다." in text(done)
    assert unread_count(lead) == 0 and unread_count(other) == 1
    assert text(client.get("/notifications/?state=all")).count('data-testid="notification"') == 10
    # a change like any other (issue 19): one audit event with the count, none when nothing was unread
    read_all = db.session.execute(select(AuditEvent).filter_by(action="notifications_read_all")).scalars().all()
    assert [(e.actor_id, json.loads(e.details)["count"]) for e in read_all] == [(lead.id, 13)]
    client.post("/notifications/read-all", data={"next": "/notifications/"})
    assert db.session.execute(select(func.count(AuditEvent.id)).filter_by(
        action="notifications_read_all")).scalar_one() == 1


def test_read_one_goes_back_only_inside_the_app_and_not_for_others(client, login, build, db):
    lead, other = build.user("school_lead"), build.user("school_lead")
    mine = notify(lead.id, "referral", "내 알림")
    theirs = notify(other.id, "referral", "남의 알림")
    db.session.commit()
    login(lead)
    away = client.post(f"/notifications/{mine.uid}/read", data={"next": "https://evil.example/"})
    assert away.status_code == 302 and away.headers["Location"] == "/"
    assert client.post(f"/notifications/{theirs.uid}/read").status_code == 404
    db.session.expire_all()
    assert db.session.get(Notification, theirs.id).read_at is None
    assert db.session.get(Notification, mine.id).read_at is not None
    read = db.session.execute(select(AuditEvent).filter_by(action="notification_read")).scalars().all()
    assert [(e.actor_id, e.object_id, e.outcome) for e in read] == [(lead.id, mine.uid, "allowed")]


def test_resolving_an_object_clears_the_alert_for_everyone(build, db):
    first, second = build.user("school_lead"), build.user("district_coordinator")
    for user in (first, second):
        notify(user.id, "concern", "우려 보고", about=object_key("concern", 41))
    notify(first.id, "referral", "다른 일", about=object_key("referral", 41))
    db.session.commit()
    assert resolve(object_key("concern", 41)) == 2
    db.session.commit()
    assert [n.text for n in unread_for(first)] == ["다른 일"] and unread_for(second) == []


def test_closing_or_withdrawing_a_case_resolves_its_alerts(build, db):
    case = build.case(status="in_support")
    lead = db.session.get(type(case.owner), case.owner_id)
    notify(lead.id, "case", "이 사례에 관한 알림", case_id=case.id)
    other = build.case(case.school, lead=lead)
    notify(lead.id, "case", "다른 사례 알림", case_id=other.id)
    db.session.commit()
    s.close_case(case, lead, reason="goals_met", outcomes={n.id: ("resolved", "") for n in case.needs})
    db.session.commit()
    assert [n.text for n in unread_for(lead)] == ["다른 사례 알림"]
    s.withdraw_request(other, lead, reason="잘못 접수")
    db.session.commit()
    assert unread_for(lead) == []
    assert db.session.scalar(select(func.count(Notification.id)).where(Notification.resolved_at.is_not(None))) == 2
