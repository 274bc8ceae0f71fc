"""The words of an e-mail: the kind of alert, who it is from, a deadline and a link — nothing else.

Templates (templates/mail/*.txt) see only the names in ``ALLOWED_NAMES``; tests/notifications/
test_mail_content.py parses every template and fails on any other name, so a student's name, a
need or any free text can never reach a mailbox.  The notification's own text is never read here.
"""
from __future__ import annotations

from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate, make_msgid

from flask import current_app, render_template
from flask_babel import gettext

from .mail_models import OutboxMessage
from .services import KINDS

#: every name a mail template may use; ``items`` holds ``MailItem``s
ALLOWED_NAMES = frozenset({"kind_label", "sender", "deadline", "link", "items", "settings_link", "sign_in_link",
                           "expires_hours"})
ALLOWED_ITEM_FIELDS = frozenset({"kind_label", "sender", "deadline", "link"})


@dataclass(frozen=True)
class MailItem:
    kind_label: str
    sender: str
    deadline: object  # a date or None
    link: str


def absolute(path: str | None) -> str:
    base = current_app.config["IEUM_BASE_URL"].rstrip("/")
    return base + (path if path and path.startswith("/") else "/")


def item_of(row: OutboxMessage) -> MailItem:
    sender = row.sender_org.name if row.sender_org is not None else gettext("이음 (자동 알림)")
    return MailItem(kind_label=str(KINDS.get(row.kind, gettext("알림"))), sender=sender, deadline=row.deadline,
                    link=absolute(row.link))


def new_message_id() -> str:
    sender = current_app.config.get("MAIL_SENDER") or "ieum@localhost"
    return make_msgid(idstring="ieum", domain=sender.rsplit("@", 1)[-1])


def build(rows: list[OutboxMessage], address: str, message_id: str) -> EmailMessage:
    """One message for ``rows`` (one immediate alert, a digest, or a verification link)."""
    first = rows[0]
    common = {"settings_link": absolute("/notifications/settings"), "sign_in_link": absolute("/login")}
    if first.purpose == "verify":
        subject = gettext("[이음] 메일 주소 확인")
        body = render_template("mail/verify.txt", link=absolute(first.link), expires_hours=48, **common)
    elif first.digest:
        items = [item_of(row) for row in rows]
        subject = gettext("[이음] 오늘의 알림 %(n)d건", n=len(items))
        body = render_template("mail/digest.txt", items=items, **common)
    else:
        item = item_of(first)
        subject = gettext("[이음] %(kind)s", kind=item.kind_label)
        if item.deadline:
            subject += " " + gettext("(기한 %(day)s)", day=item.deadline.strftime("%Y-%m-%d"))
        body = render_template("mail/alert.txt", kind_label=item.kind_label, sender=item.sender,
                               deadline=item.deadline, link=item.link, **common)
    message = EmailMessage()
    message["Subject"] = subject
    message["From"] = current_app.config["MAIL_SENDER"]
    message["To"] = address
    message["Date"] = formatdate(localtime=False)
    message["Message-ID"] = message_id
    message["Auto-Submitted"] = "auto-generated"
    # 7-bit clean: smtplib sends an 8bit body without BODY=8BITMIME, which strict relays refuse
    message.set_content(body, cte="quoted-printable")
    return message
