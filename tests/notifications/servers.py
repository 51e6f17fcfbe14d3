"""SMTP servers that misbehave as real ones do, on top of the harness's aiosmtpd server."""

from __future__ import annotations

import asyncio
import email
import email.policy
from collections import Counter

from tests.harness.smtp import ReceivedMail, SMTPServer


class _Handler:
    def __init__(self, server: MisbehavingSMTPServer) -> None:
        self.server = server

    async def handle_EHLO(self, server, session, envelope, hostname, responses):  # noqa: N802 - aiosmtpd API
        session.host_name = hostname
        with self.server._condition:
            self.server.greetings += 1  # one a connection: Django's backend says EHLO once
        return responses

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # noqa: N802 - aiosmtpd API
        if address in self.server.refuse_recipients:
            return "550 5.1.1 No such mailbox"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd API
        raw = envelope.original_content or envelope.content
        mail = ReceivedMail(
            mail_from=envelope.mail_from,
            rcpt_tos=tuple(envelope.rcpt_tos),
            raw=raw,
            message=email.message_from_bytes(raw, policy=email.policy.default),
        )
        owner = self.server
        with owner._condition:
            owner.seen.append(mail)
            if owner.refuse_next > 0:
                owner.refuse_next -= 1
                return "451 4.3.0 Try again later"
            owner.messages.append(mail)  # taken: from here on it is the receiver's
            owner._condition.notify_all()
        if owner.answer_after:
            await asyncio.sleep(owner.answer_after)
        return "250 Message accepted for delivery"


class MisbehavingSMTPServer(SMTPServer):
    """Takes every message (``messages``) but answers the end of it only after
    ``answer_after`` seconds; refuses the next ``refuse_next`` messages with 451 (``seen`` has
    every message offered, refused or not); refuses the addresses in ``refuse_recipients`` at
    RCPT with 550. All can be changed while it runs. ``greetings`` counts the EHLOs (the
    connections a client opened)."""

    def __init__(self, *, answer_after: float = 0.0, refuse_next: int = 0) -> None:
        super().__init__()
        self.answer_after = answer_after
        self.refuse_next = refuse_next
        self.refuse_recipients: set[str] = set()
        self.greetings = 0
        self.seen: list[ReceivedMail] = []
        self._controller.handler = _Handler(self)

    def copies(self) -> Counter[str]:
        """How many copies of each Message-ID the server took."""
        with self._condition:
            return Counter(str(mail.message["Message-ID"]) for mail in self.messages)
