"""The one adapter between Ieum and an SMTP server (the standard library's smtplib).

Settings (instance/config.py or the environment): IEUM_MAIL_HOST, IEUM_MAIL_PORT (587),
IEUM_MAIL_TLS (starttls | ssl | none), IEUM_MAIL_USER, IEUM_MAIL_PASSWORD, IEUM_MAIL_SENDER, and
IEUM_BASE_URL, the address users open Ieum at (links in messages).
"""
from __future__ import annotations

import smtplib
import ssl
from email.message import EmailMessage

#: seconds to wait for the server before a delivery counts as failed (and is retried)
SMTP_TIMEOUT = 30


class TemporaryMailError(Exception):
    """Worth retrying later: the server was unreachable or answered 4xx."""


class PermanentMailError(Exception):
    """Retrying will not help: the server answered 5xx (e.g. an unknown recipient)."""


def error_code(error: Exception) -> str:
    """The error class and SMTP code: what a failure records (never the server's text, which
    may repeat the address)."""
    code = getattr(error, "smtp_code", None)
    if code is None and isinstance(error, smtplib.SMTPRecipientsRefused) and error.recipients:
        code = next(iter(error.recipients.values()))[0]
    return f"{type(error).__name__}:{code}" if code else type(error).__name__


def classify(error: Exception) -> Exception:
    """An smtplib or socket error as a temporary or permanent delivery failure."""
    code = getattr(error, "smtp_code", None)
    if code is None and isinstance(error, smtplib.SMTPRecipientsRefused) and error.recipients:
        code = min(c for c, _ in error.recipients.values())
    if isinstance(code, int) and code >= 500:
        return PermanentMailError(error_code(error))
    return TemporaryMailError(error_code(error))


class SmtpTransport:
    """One connection for a batch of messages: ``with SmtpTransport(config) as mail: mail.send(m)``."""

    def __init__(self, config) -> None:
        self.host = config["MAIL_HOST"]
        self.port = int(config.get("MAIL_PORT") or 587)
        self.tls = (config.get("MAIL_TLS") or "starttls").lower()
        self.user = config.get("MAIL_USER")
        self.password = config.get("MAIL_PASSWORD")
        self.smtp: smtplib.SMTP | None = None

    def __enter__(self) -> "SmtpTransport":
        try:
            if self.tls == "ssl":
                self.smtp = smtplib.SMTP_SSL(self.host, self.port, timeout=SMTP_TIMEOUT,
                                             context=ssl.create_default_context())
            else:
                self.smtp = smtplib.SMTP(self.host, self.port, timeout=SMTP_TIMEOUT)
                if self.tls == "starttls":
                    self.smtp.starttls(context=ssl.create_default_context())
            if self.user:
                self.smtp.login(self.user, self.password or "")
        except (OSError, smtplib.SMTPException) as error:
            if self.smtp is not None:  # connected, then STARTTLS or the sign-in failed: hang up
                self.smtp.close()
            raise classify(error) from None
        return self

    def send(self, message: EmailMessage) -> None:
        try:
            self.smtp.send_message(message)
        except (OSError, smtplib.SMTPException) as error:
            raise classify(error) from None

    def __exit__(self, *exc) -> None:
        try:
            self.smtp.quit()
        except (OSError, smtplib.SMTPException):
            pass  # the messages were accepted or not already; a lost goodbye changes nothing
