"""A real SMTP server on loopback (aiosmtpd) that keeps what it receives in a list."""

from __future__ import annotations

import email
import email.policy
import threading
import time
from dataclasses import dataclass
from email.message import EmailMessage

from aiosmtpd.controller import Controller

from .ports import LOOPBACK, free_port


@dataclass(frozen=True)
class ReceivedMail:
    """One message as the SMTP server saw it."""

    mail_from: str
    rcpt_tos: tuple[str, ...]
    raw: bytes
    message: EmailMessage  # parsed with email.policy.default

    @property
    def subject(self) -> str:
        return str(self.message["Subject"] or "")

    @property
    def body(self) -> str:
        """The text/plain part (or the only part), decoded."""
        part = self.message.get_body(preferencelist=("plain", "html"))
        return part.get_content() if part is not None else ""


class _CollectingHandler:
    def __init__(self, server: SMTPServer) -> None:
        self.server = server

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd API
        raw = envelope.original_content or envelope.content
        if isinstance(raw, str):
            raw = raw.encode("utf-8")
        mail = ReceivedMail(
            mail_from=envelope.mail_from,
            rcpt_tos=tuple(envelope.rcpt_tos),
            raw=raw,
            message=email.message_from_bytes(raw, policy=email.policy.default),
        )
        with self.server._condition:
            self.server.messages.append(mail)
            self.server._condition.notify_all()
        return "250 Message accepted for delivery"


class SMTPServer:
    """aiosmtpd ``Controller`` on 127.0.0.1 and a free port, collecting into ``messages``.

    ``start()``/``stop()`` or use as a context manager. ``wait_for(count, timeout)``
    blocks until at least ``count`` messages arrived (for mail sent by another process,
    such as the task worker) and returns the list.
    """

    def __init__(self) -> None:
        self.host = LOOPBACK
        self.port = free_port()
        self.messages: list[ReceivedMail] = []
        self._condition = threading.Condition()
        self._controller = Controller(
            _CollectingHandler(self),
            hostname=self.host,
            port=self.port,
            ready_timeout=10,
            # Accept messages for any recipient, whatever the size and encoding.
            decode_data=False,
        )

    def start(self) -> SMTPServer:
        self._controller.start()
        return self

    def stop(self) -> None:
        self._controller.stop()

    def __enter__(self) -> SMTPServer:
        return self.start()

    def __exit__(self, *exc_info) -> None:
        self.stop()

    def wait_for(self, count: int = 1, timeout: float = 10.0) -> list[ReceivedMail]:
        deadline = time.monotonic() + timeout
        with self._condition:
            while len(self.messages) < count:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise TimeoutError(
                        f"expected {count} message(s) on {self.host}:{self.port} within "
                        f"{timeout} s, got {len(self.messages)}"
                    )
                self._condition.wait(remaining)
            return list(self.messages)
