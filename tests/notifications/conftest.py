"""E-mail fixtures: a real SMTP server (aiosmtpd on 127.0.0.1, a free port) and an app pointed at it.

``smtp_server`` keeps every message it accepts, parsed (``.messages``, each with ``.message``,
``.subject``, ``.body`` (decoded), ``.text`` (headers and body), ``.to``, ``.message_id``, ``.raw``), and refuses the next N with ``.refuse(n, 451)``
(temporary) or ``.refuse(n, 550)`` (permanent).  ``mail_app`` is the ``app`` fixture with the mail
settings pointing at it; ``with_address(user)`` gives a user a verified address as if they had
opened the link (tests/notifications/test_mail_delivery.py covers the real verification).
Other test packages reuse ``SmtpServer`` and ``mail_config`` by importing them.
"""
from __future__ import annotations

import email
import email.policy
import socket
import threading
from dataclasses import dataclass

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import select

from app.db import utcnow
from app.extensions import db
from app.notifications.mail_models import MailSettings, OutboxMessage
from tests.agencies.conftest import agency_with_service  # noqa: F401  (fixtures reused here)
from tests.guardians.conftest import coordinator, eligible_guardian  # noqa: F401

SENDER = "ieum@ieum.test"
BASE_URL = "https://ieum.test"
REFUSALS = {451: "451 4.3.0 Try again later", 550: "550 5.1.1 Mailbox unavailable"}


def free_port() -> int:
    """A port nothing listens on right now (also the 'unreachable server' of the retry tests)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@dataclass(frozen=True)
class Received:
    message: email.message.EmailMessage
    to: tuple[str, ...]
    raw: bytes

    @property
    def subject(self) -> str:
        return str(self.message["Subject"])

    @property
    def message_id(self) -> str:
        return str(self.message["Message-ID"])

    @property
    def body(self) -> str:
        return self.message.get_content()

    @property
    def text(self) -> str:
        """Everything a reader sees: headers and body."""
        return "\n".join(f"{name}: {value}" for name, value in self.message.items()) + "\n" + self.body


class Inbox:
    """The aiosmtpd handler: stores what it accepts, refuses what it was told to."""

    def __init__(self) -> None:
        self.messages: list[Received] = []
        self.refusing: list[int] = []
        self.lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope):
        with self.lock:
            if self.refusing:
                return REFUSALS[self.refusing.pop(0)]
            raw = envelope.original_content or envelope.content
            parsed = email.message_from_bytes(raw, policy=email.policy.default)
            self.messages.append(Received(parsed, tuple(envelope.rcpt_tos), raw))
        return "250 2.0.0 OK"


class SmtpServer:
    """``with SmtpServer() as server:`` a real SMTP server on 127.0.0.1 for one test."""

    host = "127.0.0.1"

    def __init__(self) -> None:
        self.inbox = Inbox()
        self.port = free_port()
        self.controller = Controller(self.inbox, hostname=self.host, port=self.port)

    def __enter__(self) -> "SmtpServer":
        self.controller.start()
        return self

    def __exit__(self, *exc) -> None:
        self.controller.stop()

    @property
    def messages(self) -> list[Received]:
        with self.inbox.lock:
            return list(self.inbox.messages)

    def to(self, address: str) -> list[Received]:
        return [m for m in self.messages if address in m.to]

    def refuse(self, n: int, code: int) -> None:
        """Answer the next ``n`` messages with ``code`` (451: try later, 550: never)."""
        assert code in REFUSALS
        with self.inbox.lock:
            self.inbox.refusing.extend([code] * n)


def mail_config(server: SmtpServer | None = None, *, port: int | None = None) -> dict:
    """Settings pointing an app at ``server`` (or at ``port`` on 127.0.0.1), no TLS, no login."""
    return {"MAIL_HOST": SmtpServer.host, "MAIL_PORT": port or server.port, "MAIL_TLS": "none", "MAIL_USER": None,
            "MAIL_PASSWORD": None, "MAIL_SENDER": SENDER, "IEUM_BASE_URL": BASE_URL}


@pytest.fixture
def smtp_server():
    with SmtpServer() as server:
        yield server


@pytest.fixture
def mail_app(app, smtp_server):
    """The test's app (context pushed, as ``app``) with mail going to ``smtp_server``."""
    app.config.update(mail_config(smtp_server))
    return app


@pytest.fixture
def with_address():
    """``with_address(user, address=None, digest_hour=8) -> address``: a verified address (set
    directly, as if the user had opened the link; default ``<login>@school.test``), committed."""
    def _give(user, address: str | None = None, digest_hour: int = 8) -> str:
        address = address or f"{user.login}@school.test"
        settings = db.session.execute(select(MailSettings).filter_by(user_id=user.id)).scalar_one_or_none()
        if settings is None:
            settings = MailSettings(user_id=user.id)
            db.session.add(settings)
        settings.address, settings.verified_at, settings.digest_hour = address, utcnow(), digest_hour
        db.session.commit()
        return address
    return _give


def outbox(**filters) -> list[OutboxMessage]:
    """The outbox rows (fresh from the database), oldest first."""
    db.session.expire_all()
    return list(db.session.execute(select(OutboxMessage).filter_by(**filters).order_by(OutboxMessage.id)).scalars())
