"""A real SMTP server for the tests (aiosmtpd on a free local port) that keeps what it receives."""
from __future__ import annotations

import socket
import threading
from contextlib import contextmanager
from dataclasses import dataclass
from email import message_from_bytes
from email.message import EmailMessage
from email.policy import default

from aiosmtpd.controller import Controller


@dataclass(frozen=True)
class Received:
    sender: str
    recipients: tuple[str, ...]
    message: EmailMessage


class Mailbox:
    """An aiosmtpd handler: accepts every mail (but refuses recipients whose address holds ``refuse``)."""

    def __init__(self, refuse: str | None = None) -> None:
        self.refuse = refuse
        self._lock = threading.Lock()
        self._received: list[Received] = []

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if self.refuse and self.refuse in address:
            return "550 5.1.1 No such mailbox here"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        message = message_from_bytes(envelope.original_content or envelope.content, policy=default)
        with self._lock:
            self._received.append(Received(envelope.mail_from, tuple(envelope.rcpt_tos), message))
        return "250 Message accepted for delivery"

    @property
    def received(self) -> list[Received]:
        with self._lock:
            return list(self._received)


def free_port() -> int:
    """A local port nothing listens on (just now)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextmanager
def smtp_server(refuse: str | None = None):
    """Run a real SMTP server on a free port; yield (mailbox, port)."""
    mailbox = Mailbox(refuse)
    port = free_port()
    controller = Controller(mailbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield mailbox, port
    finally:
        controller.stop()
