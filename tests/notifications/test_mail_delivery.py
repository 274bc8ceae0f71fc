"""E-mail alerts against a real SMTP server (aiosmtpd): an alert made by a real service goes out at
once with its kind, sender, deadline and link; digest alerts wait for the user's hour (KST) and go
out as one message per user; "none" mails nothing, but concerns and overdue escalations always
reach school leads and coordinators at once; nothing is queued without a verified address or a
mail server (the alert stays in the app); a new address is verified by the link sent to it and
kept encrypted.  Retries, concurrency and crashes: test_mail_workers.py."""
from __future__ import annotations

import datetime as dt
import json

from freezegun import freeze_time
from sqlalchemy import select, text

from app.audit.models import AuditEvent
from app.auth.services import deactivate_user
from app.db import today_kst
from app.extensions import db
from app.guardians.activity import log_activity
from app.guardians.concerns import answer_due, escalate_concern
from app.guardians.models import GuardianConcern
from app.i18n import korean_date
from app.notifications.mail_models import MailPreference, MailSettings
from app.notifications.mail_outbox import (confirm_address, remove_address, request_address, save_choices,
                                          settings_for)
from app.notifications.mail_worker import deliver_due
from app.notifications.models import Notification
from app.notifications.services import notify
from tests.agencies.test_referrals import draft, make_world
from tests.guardians.portal_setup import matched

from .conftest import BASE_URL, SENDER, outbox

NOTHING = {"sent": 0, "retry": 0, "failed": 0}
#: 2026-12-02 (a Wednesday) 10:00 in Seoul
MORNING = dt.datetime(2026, 12, 2, 1, 0)


def audits(action: str) -> list[dict]:
    rows = db.session.execute(select(AuditEvent).filter_by(action=action).order_by(AuditEvent.id)).scalars()
    return [{"object_id": e.object_id, "outcome": e.outcome, **json.loads(e.details or "{}")} for e in rows]


def referral_for(world, client, login):
    """A draft sent to the agency by the school's staff member through the real page."""
    referral = draft(world)
    db.session.commit()
    login(world.staff)
    assert client.post(f"/agencies/referrals/{referral.uid}/send", data={}).status_code == 302
    db.session.expire_all()
    return referral


def alert(user, kind: str = "conference", n: int = 1) -> Notification:
    note = notify(user.id, kind, f"알림 {n}", link=f"/conferences/c{n}")
    db.session.commit()
    return note


# -- at once --------------------------------------------------------------------------------

def test_a_sent_referral_reaches_the_agency_at_once(mail_app, smtp_server, build, agency_with_service, with_address,
                                                     client, login):
    world = make_world(build, agency_with_service)
    address = with_address(world.agent)
    referral = referral_for(world, client, login)
    [row] = outbox()
    assert (row.kind, row.digest, row.status, row.sender_org_id) == ("referral", False, "pending", world.school.id)
    assert deliver_due() == {**NOTHING, "sent": 1}
    [mail] = smtp_server.messages
    assert mail.to == (address,) and mail.message["From"] == SENDER and mail.message["To"] == address
    assert mail.raw.isascii() and mail.message["Auto-Submitted"] == "auto-generated"
    assert mail.subject == f"[이음] 기관 의뢰 (기한 {referral.respond_by:%Y-%m-%d})"
    assert f"{BASE_URL}/agencies/inbox/{referral.uid}" in mail.body.split()
    assert world.school.name in mail.body  # the sender's organisation, nothing about the student
    assert f"기한: {korean_date(referral.respond_by)}" in mail.body
    [row] = outbox()
    assert row.status == "sent" and row.attempts == 1 and row.sent_at is not None and row.lease_owner is None
    assert row.message_id == mail.message_id
    [event] = audits("alert_mailed")
    assert event["object_id"] == str(row.id) and event["kinds"] == ["referral"] and event["user_id"] == world.agent.id
    assert address not in json.dumps(event)
    assert deliver_due() == NOTHING and len(smtp_server.messages) == 1


def test_an_alert_without_a_sender_names_ieum(mail_app, smtp_server, build, with_address):
    lead = build.user("school_lead")
    with_address(lead)
    alert(lead)
    deliver_due()
    [mail] = smtp_server.messages
    assert mail.subject == "[이음] 사례회의" and "이음 (자동 알림)" in mail.body
    assert f"{BASE_URL}/conferences/c1" in mail.body and f"{BASE_URL}/notifications/settings" in mail.body


# -- the daily digest ---------------------------------------------------------------------

def test_digest_alerts_wait_for_each_users_hour_and_go_out_as_one_message(mail_app, smtp_server, build,
                                                                          with_address):
    agent, staff, early = build.user("agency_coordinator"), build.user("school_staff"), build.user("school_staff")
    with freeze_time(MORNING):
        for user, hour in ((agent, 18), (staff, 18), (early, 7)):
            with_address(user, digest_hour=hour)
            save_choices(user, {"referral": "digest"}, hour)
        for n in range(3):
            notify(agent.id, "referral", f"의뢰 소식 {n}", link=f"/agencies/inbox/a{n}")
        notify(agent.id, "check_expiring", "조회 만료 예정", link="/guardians/g1")  # a digest kind by default
        notify(staff.id, "referral", "의뢰 소식", link="/agencies/referrals/s1")
        notify(early.id, "referral", "의뢰 소식", link="/agencies/referrals/e1")
        notify(agent.id, "conference", "사례회의 초대", link="/conferences/c1")  # immediate: not in the digest
        db.session.commit()
        assert deliver_due() == {**NOTHING, "sent": 1}
        [invite] = smtp_server.messages
        assert invite.subject == "[이음] 사례회의"
    six_pm = dt.datetime(2026, 12, 2, 9, 0)  # 18:00 KST
    assert {r.due_at for r in outbox(user_id=agent.id, digest=True)} == {six_pm}
    assert {r.due_at for r in outbox(user_id=early.id)} == {dt.datetime(2026, 12, 2, 22, 0)}  # 07:00 KST tomorrow
    with freeze_time(six_pm - dt.timedelta(seconds=1)):
        assert deliver_due() == NOTHING
    with freeze_time(six_pm):
        for _ in range(3):  # one row at a time: a user's digest rows are still claimed together
            deliver_due(limit=1)
    digests = smtp_server.messages[1:]
    assert sorted(m.to[0].split("@")[0] for m in digests) == sorted([agent.login, staff.login])
    [mine] = [m for m in digests if m.to == (f"{agent.login}@school.test",)]
    assert mine.subject == "[이음] 오늘의 알림 4건"
    links = [word for word in mine.body.split() if word.startswith(BASE_URL)]
    assert links[:4] == [f"{BASE_URL}/agencies/inbox/a{n}" for n in range(3)] + [f"{BASE_URL}/guardians/g1"]
    assert "/conferences/c1" not in mine.body and "/agencies/referrals/s1" not in mine.body
    [theirs] = [m for m in digests if m is not mine]
    assert theirs.subject == "[이음] 오늘의 알림 1건" and f"{BASE_URL}/agencies/referrals/s1" in theirs.body
    assert len({r.message_id for r in outbox(user_id=agent.id, digest=True)}) == 1
    assert not smtp_server.to(f"{early.login}@school.test")
    with freeze_time(dt.datetime(2026, 12, 2, 22, 0)):
        assert deliver_due() == {**NOTHING, "sent": 1}
    assert smtp_server.messages[-1].to == (f"{early.login}@school.test",)
    assert {r.status for r in outbox()} == {"sent"}


# -- who gets mail ----------------------------------------------------------------------------

def alerts_of(user) -> list[Notification]:
    return list(db.session.execute(select(Notification).filter_by(user_id=user.id)).scalars())


def test_a_kind_set_to_none_is_not_mailed_but_stays_in_the_app(mail_app, smtp_server, build, agency_with_service,
                                                               with_address, client, login):
    world = make_world(build, agency_with_service)
    with_address(world.agent)
    save_choices(world.agent, {"referral": "none"}, 8)
    db.session.commit()
    referral_for(world, client, login)
    assert [n.kind for n in alerts_of(world.agent)] == ["referral"]
    assert outbox() == [] and deliver_due() == NOTHING and smtp_server.messages == []


def test_concerns_and_escalations_reach_leads_and_coordinators_at_once_whatever_they_chose(
        mail_app, smtp_server, build, with_address, eligible_guardian, coordinator):
    pair = matched(build, eligible_guardian, coordinator)
    staff = build.user("school_staff", organisation=pair.case.school)
    for user in (pair.lead, coordinator, staff):
        with_address(user)
        save_choices(user, {"concern": "none", "concern_overdue": "digest"}, 8)
    # a choice stored some other way (e.g. under an earlier role) cannot switch it off either
    db.session.merge(MailPreference(user_id=pair.lead.id, kind="concern", mode="none"))
    db.session.commit()
    log_activity(pair.assignment, pair.user, occurred_on=today_kst(), minutes=40, kind="daily_life",
                 notes="함께 숙제함", concern=True, concern_description="학생이 요즘 많이 지쳐 보였습니다.")
    db.session.commit()
    concern = db.session.execute(select(GuardianConcern)).scalar_one()
    assert {n.user_id for n in db.session.execute(select(Notification).filter_by(kind="concern")).scalars()} >= {
        pair.lead.id, coordinator.id, staff.id}  # everyone is told in the app
    rows = outbox()
    assert sorted((r.user_id, r.kind, r.digest) for r in rows) == sorted(
        [(pair.lead.id, "concern", False), (coordinator.id, "concern", False)])
    escalate_concern(concern)
    db.session.commit()
    overdue = outbox(kind="concern_overdue")
    assert sorted((r.user_id, r.digest) for r in overdue) == sorted([(pair.lead.id, False), (coordinator.id, False)])
    assert deliver_due() == {**NOTHING, "sent": 4}
    due = f" (기한 {answer_due(concern):%Y-%m-%d})"
    subjects = sorted((m.to[0], m.subject) for m in smtp_server.messages)
    assert subjects == sorted((f"{u.login}@school.test", s) for u in (pair.lead, coordinator)
                              for s in ("[이음] 우려 보고" + due, "[이음] 우려 미확인"))
    assert all(f"{BASE_URL}/guardians/concerns/{concern.uid}" in m.body for m in smtp_server.messages)
    assert not smtp_server.to(f"{staff.login}@school.test")


def test_nothing_is_queued_without_a_verified_address(mail_app, smtp_server, build):
    waiting, nobody = build.user("school_lead"), build.user("school_staff")
    settings = MailSettings(user_id=waiting.id)
    settings.pending = "waiting@school.test"  # asked for, link not opened yet
    db.session.add(settings)
    db.session.commit()
    for user in (waiting, nobody):
        alert(user)
    assert outbox() == [] and len(alerts_of(waiting)) == len(alerts_of(nobody)) == 1


def test_queued_mail_is_dropped_when_the_account_is_deactivated_or_the_address_removed(mail_app, smtp_server,
                                                                                       build, with_address):
    leaver, careful = build.user("school_staff"), build.user("school_staff")
    for user in (leaver, careful):
        with_address(user)
        alert(user)
    deactivate_user(leaver, reason="전출")
    remove_address(careful)
    db.session.commit()
    assert deliver_due() == {**NOTHING, "failed": 1}
    assert sorted((r.user_id, r.status, r.last_error) for r in outbox()) == sorted(
        [(leaver.id, "failed", "no_verified_address"), (careful.id, "failed", "address_removed")])
    assert smtp_server.messages == []


def test_nothing_is_queued_without_a_mail_server(app, build, with_address):
    lead = build.user("school_lead")
    with_address(lead)
    alert(lead)
    assert outbox() == [] and len(alerts_of(lead)) == 1
    assert deliver_due() == NOTHING


# -- the address ------------------------------------------------------------------------------

def test_a_new_address_is_verified_by_the_link_sent_to_it_and_kept_encrypted(mail_app, smtp_server, build):
    user = build.user("agency_coordinator")
    address = "new.person@agency-mail.test"
    with mail_app.test_request_context():
        request_address(user, address)
    db.session.commit()
    alert(user)  # not verified yet: nothing for alerts
    assert [r.purpose for r in outbox()] == ["verify"]
    assert deliver_due() == {**NOTHING, "sent": 1}
    [mail] = smtp_server.messages
    assert mail.to == (address,) and mail.subject == "[이음] 메일 주소 확인"
    [link] = [w for w in mail.body.split() if w.startswith(f"{BASE_URL}/notifications/settings/verify/")]
    confirm_address(user, link.rsplit("/", 1)[1])
    db.session.commit()
    settings = settings_for(user.id)
    assert (settings.address, settings.pending) == (address, None) and settings.verified_at is not None
    raw = db.session.execute(text("SELECT address_enc FROM mail_settings WHERE user_id = :u"), {"u": user.id}).scalar()
    assert raw and "new.person" not in raw and "agency-mail" not in raw
    assert [e["outcome"] for e in audits("mail_address_verified")] == ["allowed"]
    alert(user, n=2)
    assert deliver_due() == {**NOTHING, "sent": 1}
    assert smtp_server.messages[-1].to == (address,) and "/conferences/c2" in smtp_server.messages[-1].body
