"""The mail seam: a :class:`MailTransport` protocol, an SMTP implementation and a Null one, chosen by
``settings.mail_backend``. Only jobs call :meth:`MailTransport.send` — never a request handler.
"""

from __future__ import annotations

import smtplib
import ssl
from email.message import EmailMessage
from typing import Any, Protocol

from parley.config import Settings


class MailTransport(Protocol):
    def send(self, message: EmailMessage) -> None:
        """Hand the message to the next hop, or raise (the job queue retries with backoff)."""


class NullTransport:
    """Drops every message (development, tests that do not look at mail). Counts what it dropped."""

    def __init__(self) -> None:
        self.dropped = 0

    def send(self, message: EmailMessage) -> None:
        self.dropped += 1


class SmtpTransport:
    """SMTP submission: plain (local relays), STARTTLS (587) or implicit TLS (465), optional login."""

    def __init__(
        self,
        host: str,
        port: int,
        *,
        tls: str = "starttls",
        user: str | None = None,
        password: str | None = None,
        timeout: float = 20.0,
        context: ssl.SSLContext | None = None,
    ) -> None:
        self.host, self.port, self.tls = host, port, tls
        self.user, self.password, self.timeout = user, password, timeout
        self.context = context or ssl.create_default_context()

    def send(self, message: EmailMessage) -> None:
        client: smtplib.SMTP
        if self.tls == "tls":
            client = smtplib.SMTP_SSL(self.host, self.port, timeout=self.timeout, context=self.context)
        else:
            client = smtplib.SMTP(self.host, self.port, timeout=self.timeout)
        with client:
            if self.tls == "starttls":
                client.starttls(context=self.context)
            if self.user:
                client.login(self.user, self.password or "")
            client.send_message(message)


def build_transport(settings: Settings) -> MailTransport:
    if settings.mail_backend == "smtp":
        return SmtpTransport(
            settings.smtp_host,
            settings.smtp_port,
            tls=settings.smtp_tls,
            user=settings.smtp_user,
            password=settings.smtp_password.get_secret_value() if settings.smtp_password else None,
            timeout=settings.smtp_timeout,
        )
    return NullTransport()


def transport_for(registry: Any) -> MailTransport:
    """The process's transport: an injected one (``registry.extras["mail_transport"]``) or from settings."""
    found = registry.extras.get("mail_transport")
    if found is None:
        found = registry.extras["mail_transport"] = build_transport(registry.settings)
    return found  # type: ignore[no-any-return]
