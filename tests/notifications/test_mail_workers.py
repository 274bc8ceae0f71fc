"""The outbox worker: a refused message waits and is retried after a growing back-off (451), is
given up and audited (550, or too many tries); an unreachable server, or one without the STARTTLS
it is configured for, only delays everything;
two workers running at once never send the same alert twice (a lease on SQLite, row locks on
PostgreSQL: run with IEUM_TEST_DATABASE_URL for the second); a worker that dies between sending and
marking loses its lease, and the row goes out again with the same Message-ID; ``flask
notifications send --once`` delivers what is due and says how much."""
from __future__ import annotations

import datetime as dt
import gc
import json
import threading

from freezegun import freeze_time
from sqlalchemy import func, select

from app.audit.models import AuditEvent
from app.db import utcnow
from app.extensions import db
from app.mail import SmtpTransport
from app.notifications.mail_messages import build as build_message
from app.notifications.mail_models import OutboxMessage
from app.notifications.mail_worker import (LEASE, MAX_ATTEMPTS, backoff, claim, deliver_due, mark_failed,
                                           mark_sent)
from app.notifications.models import Notification
from app.notifications.services import notify

from .conftest import free_port, outbox

NOTHING = {"sent": 0, "retry": 0, "failed": 0}
MORNING = dt.datetime(2026, 12, 2, 1, 0)
WORKERS, USERS, ALERTS_EACH = 2, 8, 5


def audit_count(action: str) -> int:
    return db.session.scalar(select(func.count()).select_from(AuditEvent).filter_by(action=action))


def audits(action: str) -> list[dict]:
    rows = db.session.execute(select(AuditEvent).filter_by(action=action).order_by(AuditEvent.id)).scalars()
    return [{"object_id": e.object_id, "outcome": e.outcome, **json.loads(e.details or "{}")} for e in rows]


def alert(user, kind: str = "conference", n: int = 1) -> Notification:
    note = notify(user.id, kind, f"알림 {n}", link=f"/conferences/c{n}")
    db.session.commit()
    return note


# -- two workers, a crash, the command ------------------------------------------------------

def test_two_workers_at_once_send_every_alert_exactly_once(mail_app, smtp_server, build, with_address):
    users = [build.user("school_staff") for _ in range(USERS)]
    for user in users:
        with_address(user)
        for n in range(ALERTS_EACH):
            notify(user.id, "conference", f"사례회의 {n}", link=f"/conferences/u{user.id}n{n}")
    db.session.commit()
    total = USERS * ALERTS_EACH
    assert len(outbox(status="pending")) == total
    db.session.commit()  # the test's own session holds no transaction while the workers run
    start = threading.Barrier(WORKERS)
    results: dict[str, object] = {}

    def work(name: str) -> None:
        with mail_app.app_context():
            try:
                start.wait(timeout=60)
                sent = 0
                while True:
                    counts = deliver_due(worker=name, limit=3)
                    assert counts["retry"] == counts["failed"] == 0, counts
                    if not counts["sent"]:
                        break
                    sent += counts["sent"]
                results[name] = sent
            except BaseException as error:  # reported by the main thread
                results[name] = error
            finally:
                db.session.remove()

    threads = [threading.Thread(target=work, args=(f"worker-{i}",)) for i in range(WORKERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=300)
    assert not any(thread.is_alive() for thread in threads)
    assert all(isinstance(n, int) for n in results.values()), results
    assert sum(results.values()) == total
    received = smtp_server.messages
    ids = [m.message_id for m in received]
    assert len(received) == total and len(set(ids)) == total
    rows = outbox()
    assert {r.status for r in rows} == {"sent"} and {r.attempts for r in rows} == {1}
    assert sorted(r.message_id for r in rows) == sorted(ids)
    for row in rows:  # each message went to the row's own user, with the row's own link
        [mail] = [m for m in received if m.message_id == row.message_id]
        assert mail.to == (f"{row.user.login}@school.test",) and row.link in mail.body
    assert audit_count("alert_mailed") == total


def test_a_worker_that_dies_after_sending_is_repeated_with_the_same_message_id(mail_app, smtp_server, build,
                                                                               with_address):
    lead = build.user("school_lead")
    address = with_address(lead)
    with freeze_time(MORNING):
        notify(lead.id, "conference", "사례회의 초대", link="/conferences/c1")
        db.session.commit()
        [(message_id, ids)] = claim("crashed").items()
        rows = list(db.session.execute(select(OutboxMessage).where(OutboxMessage.id.in_(ids))).scalars())
        message = build_message(rows, address, message_id)
        db.session.commit()
        with SmtpTransport(mail_app.config) as transport:
            transport.send(message)
        # ... and the worker dies here, before mark_sent
        assert deliver_due(worker="second") == NOTHING  # the row is still leased
    [row] = outbox()
    assert (row.status, row.lease_owner, row.message_id) == ("pending", "crashed", message_id)
    with freeze_time(MORNING + LEASE):
        assert deliver_due(worker="second") == NOTHING  # not before the lease has run out
    with freeze_time(MORNING + LEASE + dt.timedelta(seconds=1)):
        assert deliver_due(worker="second") == {**NOTHING, "sent": 1}
        mark_sent(ids, "crashed")  # the first worker waking up late changes nothing
        assert mark_failed(ids, "crashed", RuntimeError("late")) == "pending"
        assert deliver_due(worker="third") == NOTHING
    first, second = smtp_server.messages
    assert first.message_id == second.message_id == message_id and first.to == second.to == (address,)
    assert first.body == second.body
    [row] = outbox()
    assert (row.status, row.attempts, row.lease_owner, row.last_error) == ("sent", 1, None, None)
    assert audit_count("alert_mailed") == 1


def test_the_command_sends_what_is_due_once(mail_app, smtp_server, build, with_address):
    lead = build.user("school_lead")
    with_address(lead)
    notify(lead.id, "conference", "사례회의 초대", link="/conferences/c1")
    db.session.commit()
    result = mail_app.test_cli_runner().invoke(args=["notifications", "send", "--once"])
    assert result.exit_code == 0, result.output
    assert "보냄 1건, 다시 시도 예정 0건, 실패 0건" in result.output
    assert len(smtp_server.messages) == 1 and outbox()[0].status == "sent"


def test_the_command_refuses_to_start_without_a_mail_server(app):
    result = app.test_cli_runner().invoke(args=["notifications", "send", "--once"])
    assert result.exit_code != 0 and "메일 서버가 설정되지 않았습니다" in result.output


# -- refusals and retries -------------------------------------------------------------------

def test_a_temporary_refusal_is_retried_after_a_growing_back_off(mail_app, smtp_server, build, with_address):
    lead = build.user("school_lead")
    with_address(lead)
    smtp_server.refuse(2, 451)
    with freeze_time(MORNING):
        alert(lead)
        assert deliver_due() == {**NOTHING, "retry": 1}
        [row] = outbox()
        assert (row.status, row.attempts, row.due_at) == ("pending", 1, MORNING + backoff(1))
        assert row.last_error == "SMTPDataError:451" and row.lease_owner is None
        first_id = row.message_id
        assert deliver_due() == NOTHING  # not due yet
    second = MORNING + backoff(1)
    with freeze_time(second):
        assert deliver_due() == {**NOTHING, "retry": 1}
    [row] = outbox()
    assert row.attempts == 2 and row.due_at == second + backoff(2) and backoff(2) > backoff(1)
    with freeze_time(row.due_at):
        assert deliver_due() == {**NOTHING, "sent": 1}
    [mail] = smtp_server.messages
    [row] = outbox()
    assert row.status == "sent" and row.attempts == 3 and mail.message_id == row.message_id == first_id
    assert audits("alert_mail_failed") == []


def test_a_permanent_refusal_gives_up_and_is_audited(mail_app, smtp_server, build, with_address):
    lead, staff = build.user("school_lead"), build.user("school_staff")
    address = with_address(lead)
    other = with_address(staff)
    smtp_server.refuse(1, 550)
    alert(lead)
    alert(staff, n=2)
    assert deliver_due() == {**NOTHING, "failed": 1, "sent": 1}  # the next message still goes out
    assert [m.to for m in smtp_server.messages] == [(other,)]
    row, sent = outbox()
    assert sent.status == "sent"
    assert (row.status, row.attempts, row.last_error) == ("failed", 1, "SMTPDataError:550")
    [event] = audits("alert_mail_failed")
    assert event["object_id"] == str(row.id) and event["outcome"] == "failed" and event["error"] == "SMTPDataError:550"
    assert address not in json.dumps(event)
    with freeze_time(utcnow() + dt.timedelta(days=1)):
        assert deliver_due() == NOTHING
    assert len(smtp_server.messages) == 1


def test_too_many_temporary_refusals_give_up(mail_app, smtp_server, build, with_address):
    lead = build.user("school_lead")
    with_address(lead)
    smtp_server.refuse(MAX_ATTEMPTS, 451)
    alert(lead)
    for attempt in range(1, MAX_ATTEMPTS + 1):
        with freeze_time(outbox()[0].due_at):
            assert deliver_due() == {**NOTHING, ("failed" if attempt == MAX_ATTEMPTS else "retry"): 1}
    [row] = outbox()
    assert row.status == "failed" and row.attempts == MAX_ATTEMPTS and len(audits("alert_mail_failed")) == 1


def test_an_unreachable_server_delays_every_message(mail_app, smtp_server, build, with_address):
    lead, staff = build.user("school_lead"), build.user("school_staff")
    mail_app.config["MAIL_PORT"] = free_port()  # nothing listens there
    with freeze_time(MORNING):
        for user in (lead, staff):
            with_address(user)
            alert(user)
        assert deliver_due() == {**NOTHING, "retry": 2}
    rows = outbox()
    assert [(r.status, r.attempts, r.due_at) for r in rows] == [("pending", 1, MORNING + backoff(1))] * 2
    assert all(r.last_error == "ConnectionRefusedError" for r in rows)
    mail_app.config["MAIL_PORT"] = smtp_server.port
    with freeze_time(MORNING + backoff(1)):
        assert deliver_due() == {**NOTHING, "sent": 2}
    assert sorted(m.message_id for m in smtp_server.messages) == sorted(r.message_id for r in rows)


def test_a_server_without_starttls_is_a_temporary_failure_that_leaves_no_connection_open(mail_app, smtp_server,
                                                                                         build, with_address):
    lead = build.user("school_lead")
    with_address(lead)
    mail_app.config["MAIL_TLS"] = "starttls"  # the test server offers no TLS: never send in clear instead
    with freeze_time(MORNING):
        alert(lead)
        assert deliver_due() == {**NOTHING, "retry": 1}
    gc.collect()  # an abandoned socket would warn now (filterwarnings=error)
    [row] = outbox()
    assert (row.status, row.last_error) == ("pending", "SMTPNotSupportedError") and smtp_server.messages == []
