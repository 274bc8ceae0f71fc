"""Who hears about a transfer, and in which words.

The new school's leads are asked to answer (kind "transfer", about the transfer: it resolves once
answered or cancelled); the old school's leads hear the answer as news; past the answer day the
daily command tells the leads of both schools and the coordinators of both offices once (kind
"transfer_overdue", always mailed at once: notifications/mail_outbox.py).  Texts are stored lazy
messages, so each reader sees them in their own language.
"""
from __future__ import annotations

import datetime as dt

from flask_babel import lazy_gettext as _l

from ..audit.services import record
from ..cases.chronology import add_event
from ..guardians.recipients import office_coordinators, school_leads
from ..notifications.services import notify, object_key, resolve
from .transfer_models import CaseTransfer


def link(transfer: CaseTransfer) -> str:
    return f"/records/transfers/{transfer.uid}"


def key(transfer: CaseTransfer) -> str:
    return object_key("transfer", transfer)


def notify_new(transfer: CaseTransfer) -> int:
    """Ask the new school's leads to accept or return it by the due day."""
    text = _l("%(school)s에서 %(name)s 학생의 전학 이관을 보냈습니다. %(day)s까지 접수 또는 반송해 주세요.",
              school=transfer.from_school.name, name=transfer.student.name, day=transfer.due_on)
    users = school_leads(transfer.to_school_id)
    for user in users:
        notify(user.id, "transfer", text, link=link(transfer), about=key(transfer), deadline=transfer.due_on,
               student_id=transfer.student_id)
    return len(users)


def notify_sender_side(transfer: CaseTransfer, text) -> None:
    """News for the old school's leads (and whoever sent it, if no longer a lead there)."""
    ids = {u.id for u in school_leads(transfer.from_school_id)} | {transfer.sent_by_id}
    for user_id in sorted(ids):
        notify(user_id, "transfer", text, link=link(transfer), student_id=transfer.student_id)


def notify_receiver_side(transfer: CaseTransfer, text) -> None:
    """News for the new school's leads (a cancelled transfer)."""
    for user in school_leads(transfer.to_school_id):
        notify(user.id, "transfer", text, link=link(transfer), student_id=transfer.student_id)


def resolve_transfer(transfer: CaseTransfer) -> int:
    """Every alert asking for something about this transfer is answered."""
    return resolve(key(transfer))


def overdue_recipients(transfer: CaseTransfer) -> list:
    """The leads of both schools and the coordinators of both offices, each once."""
    people = {}
    for user in (school_leads(transfer.from_school_id) + school_leads(transfer.to_school_id)
                 + office_coordinators(transfer.from_school.office_code)
                 + office_coordinators(transfer.to_school.office_code)):
        people.setdefault(user.id, user)
    return list(people.values())


def escalate_overdue(transfer: CaseTransfer, today: dt.date) -> int:
    """A transfer past its answer day: alert both schools' leads and both offices' coordinators,
    once per person (dedupe keys) and once per transfer (``overdue_alerted_on``).  Returns the
    alerts created."""
    if transfer.status != "sent" or transfer.due_on >= today or transfer.overdue_alerted_on is not None:
        return 0
    text = _l("%(from)s → %(to)s: %(name)s 학생 전학 이관의 회신 기한(%(day)s)이 지났습니다.",
              name=transfer.student.name, day=transfer.due_on, **{"from": transfer.from_school.name,
                                                                   "to": transfer.to_school.name})
    created = 0
    for user in overdue_recipients(transfer):
        created += notify(user.id, "transfer_overdue", text, link=link(transfer), about=key(transfer),
                          deadline=transfer.due_on, dedupe_key=f"transfer-overdue:{transfer.id}:{user.id}",
                          student_id=transfer.student_id) is not None
    transfer.overdue_alerted_on = today
    add_event(transfer.case, "transfer", _l("전학 이관 회신 기한(%(day)s) 경과 — 두 학교 관리자·교육지원청 담당자에게 알림",
                                          day=transfer.due_on))
    record("transfer_overdue_alerted", obj=transfer, subject=transfer.student, actor=None,
           details={"notified": created, "due_on": transfer.due_on.isoformat()})
    return created
