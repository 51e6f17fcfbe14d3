"""The outbox: written in the caller's transaction, delivered at least once, never inside it.

Delivery takes three steps, and no SMTP traffic happens while a row is locked:

1. *claim*, a short transaction: lock a batch of due rows (``SKIP LOCKED``, oldest first,
   after the run's cursor on (created_at, id)), count each one's attempt, give them one lease
   (``claimed_until``) and one claim token, and queue one watchdog task for when the lease
   ends (with the database task backend the task row commits with the claim);
2. *send* each over one SMTP connection outside any transaction, with the message's stable
   Message-ID, waiting up to ``OUTBOX_SMTP_DATA_TIMEOUT`` for the answer to the end of the
   message; only while a whole conversation still fits in the lease (the rest of the batch
   is released, its attempts not counted);
3. *record*, short transactions: the messages the server took, together, after the batch;
   each failure at once (the error and a retry after ``OUTBOX_RETRY_SECONDS`` doubling, and
   after ``OUTBOX_MAX_ATTEMPTS`` a dead letter).

A worker that dies between 1 and 3 leaves a lease that runs out; the watchdog, or any later
run, takes the batch's unrecorded messages over, and puts the dead worker's task back in the
queue. An attempt whose outcome is unknown (the server had the whole message but gave no
answer, or the worker died before recording) is counted in ``unconfirmed_attempts``: only
such an attempt can leave a second copy, so a message reaches the server at most
``1 + unconfirmed_attempts`` times.
"""

from __future__ import annotations

import email.policy
import logging
import os
import smtplib
import socket
import uuid
from collections.abc import Iterable
from contextlib import contextmanager, suppress
from contextvars import ContextVar
from datetime import datetime, timedelta
from email.utils import format_datetime
from functools import partial
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.core.mail import EmailMessage, mailers
from django.core.mail.backends.smtp import EmailBackend as SMTPBackend
from django.db import transaction
from django.db.models import F, Q, QuerySet
from django.tasks import Task
from django.utils import timezone

from .dead_letters import dead_letter_notify
from .models import OutboxMessage, OutboxResend

if TYPE_CHECKING:
    from django.contrib.auth.models import User  # the person: settings.AUTH_USER_MODEL

logger = logging.getLogger("notifications.outbox")

Status = OutboxMessage.Status

# Our own tasks, safe to run again: the outbox row, not the task, says what has been done.
OUTBOX_TASK_PATHS = (
    "notifications.tasks.deliver_outbox_message",
    "notifications.tasks.take_over_outbox_messages",
    "notifications.tasks.take_over_outbox_message",
)

_not_sent_reason: ContextVar[str | None] = ContextVar("outbox_not_sent_reason", default=None)


class UnconfirmedDelivery(Exception):
    """The server had the whole message and gave no answer in time: it may have taken it."""


# -- writing -------------------------------------------------------------------------------


def message_id_new() -> str:
    return f"<{uuid.uuid4().hex}@{settings.OUTBOX_MESSAGE_ID_DOMAIN}>"


@contextmanager
def outbox_not_sent(*, reason: str):
    """Messages written inside are kept, marked NOT_SENT with ``reason``, and never delivered
    (demo data: its addresses are not anyone's)."""
    token = _not_sent_reason.set(reason)
    try:
        yield
    finally:
        _not_sent_reason.reset(token)


def outbox_enqueue(*, kind: str, reference: str, recipients: list[str], subject: str, body: str) -> list[OutboxMessage]:
    """Write one outbox row per recipient; schedule delivery once the transaction commits."""
    reason = _not_sent_reason.get()
    messages = []
    for r in dict.fromkeys(recipients):
        if not r:
            continue
        message = OutboxMessage(kind=kind, reference=reference, recipient=r, subject=subject, body=body,
                                message_id=message_id_new())
        if reason is None:
            message.raw = _render(message, date=timezone.now())  # once, here: no run renders it again
        else:
            message.status, message.note = Status.NOT_SENT, reason[:200]
        message.save(force_insert=True)
        messages.append(message)
    if reason is None:
        for message in messages:
            # robust: the row is what counts; if its task cannot be queued (Redis down) the
            # change stands and the scheduler's sweep (deliver_outbox) delivers the message.
            transaction.on_commit(partial(_schedule, message.pk), robust=True)
    return messages


def _schedule(message_id, *, run_after=None) -> None:
    from .tasks import deliver_outbox_message

    task = deliver_outbox_message.using(run_after=run_after) if run_after else deliver_outbox_message
    task.enqueue(str(message_id))


def enqueue_with_this_transaction(task: Task, message_id, *, run_after: datetime | None = None) -> None:
    """Queue ``task`` (with the one argument ``message_id``, any id, or a list of ids) so that it exists
    exactly when this transaction commits.

    The database backend writes its task row in our transaction, so the two commit together
    and a process killed right after the commit leaves no message without its task. Other
    backends (RQ on Redis) are told after the commit (an earlier task could run before the
    row is visible); a process killed in between, or Redis not answering, leaves a row
    without its task, logged and not raised, for the scheduler's sweeps (``deliver_outbox``,
    ``letters_issue``) to find.
    """
    from django_tasks_db.backend import DatabaseBackend

    in_database = isinstance(task.get_backend(), DatabaseBackend)
    if run_after is not None and run_after.microsecond and not in_database:
        # RQ keeps a deferred task's time in whole seconds, rounded down: run before its row is
        # due, the task would find nothing to do and leave the message to the sweep.
        run_after = run_after.replace(microsecond=0) + timedelta(seconds=1)
    bound = task.using(run_after=run_after) if run_after else task
    argument = [str(i) for i in message_id] if isinstance(message_id, list | tuple) else str(message_id)
    if in_database:
        bound.enqueue(argument)
    else:
        transaction.on_commit(partial(bound.enqueue, argument), robust=True)


# -- delivering ----------------------------------------------------------------------------

#: How many due messages one claim takes (one transaction, one lease watchdog).
OUTBOX_BATCH = 50


def _worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"[:120]


def _due(now: datetime) -> Q:
    pending = Q(status=Status.PENDING) & (Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now))
    abandoned = Q(status=Status.SENDING, claimed_until__lt=now)
    return pending | abandoned


def _after(cursor: tuple[datetime, uuid.UUID] | None) -> Q:
    """The rows after ``cursor`` in the order (created_at, id) a run claims them in."""
    if cursor is None:
        return Q()
    created_at, pk = cursor
    return Q(created_at__gt=created_at) | Q(created_at=created_at, pk__gt=pk)


def _conversation_seconds() -> float:
    """The longest one SMTP conversation may take (the lease check in notifications.apps)."""
    options = getattr(settings, "MAILERS", {}).get("default", {}).get("OPTIONS", {})
    return float(settings.OUTBOX_SMTP_DATA_TIMEOUT) + 6 * float(options.get("timeout") or 0)


class _Claim:
    """Messages claimed together: one transaction, one claim token, one lease, one watchdog."""

    def __init__(self, messages: list[OutboxMessage], token: uuid.UUID | None, until: datetime | None,
                 cursor: tuple[datetime, uuid.UUID] | None, took_over: bool, locked: int) -> None:
        self.messages, self.token, self.until = messages, token, until
        self.cursor, self.took_over, self.locked = cursor, took_over, locked


def _claim_batch(candidates: QuerySet[OutboxMessage], *, size: int,
                 cursor: tuple[datetime, uuid.UUID] | None = None) -> _Claim:
    """Claim up to ``size`` due messages among ``candidates`` after ``cursor``, oldest first, in
    one short transaction: the rows locked ``SKIP LOCKED``, each attempt counted, one lease and
    one claim token for them all, one watchdog task for when the lease ends. A message whose
    worker's lease ran out is taken over (an unconfirmed attempt), or made a dead letter at the
    attempt limit. Commits before returning; no row stays locked."""
    from .tasks import take_over_outbox_messages

    now = timezone.now()
    took_over = False
    token = uuid.uuid4()
    until = now + timedelta(seconds=settings.OUTBOX_LEASE_SECONDS)
    worker = _worker_name()
    with transaction.atomic():
        rows = list(
            candidates.select_for_update(skip_locked=True, of=("self",))
            .filter(_due(now), _after(cursor))
            .order_by("created_at", "pk")[:size]
        )
        if not rows:
            return _Claim([], None, None, cursor, False, 0)
        cursor = (rows[-1].created_at, rows[-1].pk)
        plain: list[OutboxMessage] = []
        claimed: list[OutboxMessage] = []
        for message in rows:
            if message.status == Status.PENDING and message.message_id:
                plain.append(message)  # the common case: one UPDATE for them all, below
                claimed.append(message)
                continue
            if message.status == Status.SENDING:
                # The worker that held it stopped before it recorded the server's answer.
                took_over = True
                message.unconfirmed_attempts += 1
                message.last_error = (
                    f"Worker {message.claimed_by} did not record attempt {message.attempts} before its lease ran "
                    f"out at {message.claimed_until:%Y-%m-%d %H:%M:%S %Z}; the server may have taken the message."
                )
                if message.attempts >= settings.OUTBOX_MAX_ATTEMPTS:
                    _make_dead(message)
                    message.save()
                    continue
            message.attempts += 1
            message.status = Status.SENDING
            message.claim_token, message.claimed_by, message.claimed_until = token, worker, until
            if not message.message_id:
                message.message_id = message_id_new()
            message.save()
            claimed.append(message)
        if plain:
            OutboxMessage.objects.filter(pk__in=[m.pk for m in plain]).update(
                attempts=F("attempts") + 1, status=Status.SENDING, claim_token=token, claimed_by=worker,
                claimed_until=until,
            )
            for message in plain:
                message.attempts += 1
                message.status = Status.SENDING
                message.claim_token, message.claimed_by, message.claimed_until = token, worker, until
        if claimed:
            enqueue_with_this_transaction(
                take_over_outbox_messages, [str(m.pk) for m in claimed], run_after=until + timedelta(seconds=1)
            )
    return _Claim(claimed, token, until, cursor, took_over, len(rows))


def _claim(candidates: QuerySet[OutboxMessage]) -> tuple[OutboxMessage | None, bool]:
    """Claim the oldest due message among ``candidates``: (the claimed message or None, whether a
    lease had run out). Commits before returning; no row stays locked."""
    claim = _claim_batch(candidates, size=1)
    return (claim.messages[0] if claim.messages else None), claim.took_over


def _make_dead(message: OutboxMessage) -> None:
    message.status = Status.DEAD
    message.next_attempt_at = None
    message.claimed_until = None
    message.claim_token = None
    message.claimed_by = ""
    logger.error("Outbox message %s to %s is a dead letter after %s attempts: %s",
                 message.pk, message.recipient, message.attempts, message.last_error)
    dead_letter_notify(message)  # the administrators' notices, in the same transaction


def _render(message: OutboxMessage, *, date: datetime) -> bytes:
    """The bytes Django's SMTP backend would send for ``message`` (its policy, CRLF line ends)."""
    return _email(message, date=date).message(policy=email.policy.SMTP).as_bytes()


def _email(message: OutboxMessage, *, date: datetime | None = None) -> EmailMessage:
    return EmailMessage(
        subject=message.subject,
        body=message.body,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[message.recipient],
        headers={
            "Message-ID": message.message_id,
            "Date": format_datetime(date or message.created_at),
            "X-Bidrag-Reference": message.reference,
        },
    )


def _wait_for_the_end_of_data(connection: smtplib.SMTP, seconds: float) -> None:
    """From DATA on, wait ``seconds`` for the server (not the short EMAIL_TIMEOUT), and report a
    failure there as unconfirmed: the server may already hold the whole message."""
    data = connection.data

    def patient_data(msg: Any) -> tuple[int, bytes]:
        sock = connection.sock
        previous = sock.gettimeout() if sock is not None else None
        if sock is not None:
            sock.settimeout(seconds)
        try:
            return data(msg)
        except OSError as exc:  # a timeout, or the connection dropped (smtplib's are OSErrors too)
            raise UnconfirmedDelivery(f"{type(exc).__name__}: {exc}") from exc
        finally:
            if connection.sock is not None:
                connection.sock.settimeout(previous)

    connection.data = patient_data  # type: ignore[method-assign]


class _Mailer:
    """The default mailer, opened once for a run of messages and opened anew after a failure."""

    def __init__(self) -> None:
        self.backend: Any = None
        self.sender: str | None = None

    def send(self, message: OutboxMessage) -> None:
        if self.backend is None:
            backend = mailers.default
            backend.open()
            if isinstance(backend, SMTPBackend) and backend.connection is not None:
                _wait_for_the_end_of_data(backend.connection, settings.OUTBOX_SMTP_DATA_TIMEOUT)
            self.backend = backend
        try:
            sent = self._send(message)
        except smtplib.SMTPResponseException as exc:
            # The server answered (a refused sender, recipient or message): smtplib has reset the
            # conversation (RSET) and the connection serves the next message; 421 closes it.
            if exc.smtp_code == 421 or getattr(getattr(self.backend, "connection", None), "sock", None) is None:
                self.abandon()
            raise
        except smtplib.SMTPRecipientsRefused:
            if getattr(getattr(self.backend, "connection", None), "sock", None) is None:
                self.abandon()
            raise
        except Exception:
            self.abandon()
            raise
        if sent != 1:
            raise smtplib.SMTPException("the mailer sent nothing")

    def _send(self, message: OutboxMessage) -> int:
        backend = self.backend
        if message.raw is None or not isinstance(backend, SMTPBackend) or backend.connection is None:
            return backend.send_messages([_email(message)])
        # The bytes rendered when the message was written, on the envelope Django would give them.
        if self.sender is None:
            self.sender = backend.prep_address(str(settings.DEFAULT_FROM_EMAIL))
        backend.connection.sendmail(self.sender, [backend.prep_address(message.recipient)], bytes(message.raw))
        return 1

    def abandon(self) -> None:
        """After a failure the conversation is in an unknown state: drop it without QUIT."""
        backend, self.backend = self.backend, None
        connection = getattr(backend, "connection", None)
        if connection is None:
            if backend is not None:
                backend.close()
            return
        with suppress(OSError):
            connection.close()
        backend.connection = None

    def close(self) -> None:
        backend, self.backend = self.backend, None
        if backend is not None:
            try:
                backend.close()
            except Exception as exc:  # QUIT after the message was taken: the message stands
                logger.warning("Closing the mail connection failed: %s", exc)


def _record_sent(messages: list[OutboxMessage]) -> None:
    """One short transaction for every message the server took since the last one."""
    if not messages:
        return
    # The server took them: that stands even if a lease ran out and another worker holds one now.
    with transaction.atomic():
        OutboxMessage.objects.filter(pk__in=[m.pk for m in messages]).exclude(status=Status.SENT).update(
            status=Status.SENT, sent_at=timezone.now(), last_error="", next_attempt_at=None,
            claimed_until=None, claim_token=None, claimed_by="",
        )


def _record_failure(message: OutboxMessage, exc: Exception) -> None:
    from .tasks import deliver_outbox_message

    with transaction.atomic():
        current = (
            OutboxMessage.objects.select_for_update(of=("self",))
            .filter(pk=message.pk, status=Status.SENDING, claim_token=message.claim_token)
            .first()
        )
        if current is None:
            return  # taken over after our lease ran out, or sent meanwhile: theirs to record
        current.last_error = f"{type(exc).__name__}: {exc}"[:2000]
        if isinstance(exc, UnconfirmedDelivery):
            current.unconfirmed_attempts += 1
        if current.attempts >= settings.OUTBOX_MAX_ATTEMPTS:
            _make_dead(current)
        else:
            delay = settings.OUTBOX_RETRY_SECONDS * (2 ** (current.attempts - 1))
            current.status = Status.PENDING
            current.next_attempt_at = timezone.now() + timedelta(seconds=delay)
            current.claimed_until = None
            current.claim_token = None
            current.claimed_by = ""
            enqueue_with_this_transaction(deliver_outbox_message, current.pk, run_after=current.next_attempt_at)
        current.save()


def _release(messages: list[OutboxMessage], token: uuid.UUID | None) -> None:
    """Give back claimed messages not yet offered to the server: the attempt is not counted, and
    the message is due again at once (for another run, or its watchdog)."""
    if not messages or token is None:  # (a claim with messages always has its token)
        return
    with transaction.atomic():
        OutboxMessage.objects.filter(pk__in=[m.pk for m in messages], status=Status.SENDING,
                                     claim_token=token).update(
            status=Status.PENDING, attempts=F("attempts") - 1, claimed_until=None, claim_token=None,
            claimed_by="",
        )


def _deliver_claim(claim: _Claim, mailer: _Mailer, *, finish_by: datetime | None = None) -> int:
    """Send the claim's messages over ``mailer`` with no transaction open; record the sent ones
    together after the batch, each failure at once. A message is offered to the server only
    while a whole SMTP conversation still fits in its lease (and before ``finish_by``); the
    rest are released, their attempt not counted."""
    sent: list[OutboxMessage] = []
    conversation = timedelta(seconds=_conversation_seconds())
    ends = min(t for t in (claim.until, finish_by) if t is not None) if (claim.until or finish_by) else None
    try:
        for n, message in enumerate(claim.messages):
            if ends is not None and n and timezone.now() + conversation >= ends:
                # (the first message was claimed a moment ago with a whole lease: it always goes)
                _release(claim.messages[n:], claim.token)
                logger.warning("Released %s claimed outbox message(s) unsent: their lease, or the run, would "
                               "end before another SMTP conversation could.", len(claim.messages) - n)
                break
            try:
                mailer.send(message)
            except Exception as exc:  # any transport failure: keep the message, try later
                _record_failure(message, exc)
                continue
            sent.append(message)
    finally:
        _record_sent(sent)  # also when stopped by an exception of our own: what the server took
    return len(sent)


def outbox_deliver(*, message_id, mailer: _Mailer | None = None) -> OutboxMessage | None:
    """Deliver one message if it is due (or its lease ran out); None if there was nothing to do."""
    claim = _claim_batch(OutboxMessage.objects.filter(pk=message_id), size=1)
    if claim.took_over:
        outbox_tasks_sweep()
    if not claim.messages:
        return None
    own = mailer is None
    mailer = mailer or _Mailer()
    try:
        _deliver_claim(claim, mailer)
    finally:
        if own:
            mailer.close()
    return OutboxMessage.objects.get(pk=message_id)


def outbox_deliver_due(*, limit: int = 500, batch: int = OUTBOX_BATCH, among: Iterable | None = None,
                       finish_by: datetime | None = None, mailer: _Mailer | None = None) -> int:
    """Deliver every due message (of ``among``, ids, if given), and those whose worker's lease ran
    out, over one connection: claimed ``batch`` at a time, oldest first, each at most once per
    run (a cursor on (created_at, id), not a list of those seen), up to ``limit`` claimed and,
    with ``finish_by``, no SMTP conversation that could end after it. Returns how many were sent."""
    candidates = OutboxMessage.objects.all()
    if among is not None:
        candidates = candidates.filter(pk__in=list(among))
    sent = 0
    seen = 0
    swept = False
    cursor = None
    conversation = timedelta(seconds=_conversation_seconds())
    own = mailer is None
    mailer = mailer or _Mailer()
    try:
        while seen < limit and (finish_by is None or timezone.now() + conversation < finish_by):
            claim = _claim_batch(candidates, size=min(batch, limit - seen), cursor=cursor)
            if claim.took_over and not swept:
                outbox_tasks_sweep()
                swept = True
            if not claim.locked:
                break
            seen += claim.locked
            cursor = claim.cursor
            sent += _deliver_claim(claim, mailer, finish_by=finish_by)
    finally:
        if own:
            mailer.close()
    return sent


def outbox_deliver_with_others(*, message_id) -> OutboxMessage | None:
    """A task's delivery: its own message (claimed alone, as ``outbox_deliver``), then, once the
    server took it, every other due message over the same connection, in batches, for as long as
    the task may run (one lease: RQ stops a job after a lease and a minute). The tasks of the
    messages sent here find them sent and end at once."""
    started = timezone.now()
    mailer = _Mailer()
    try:
        message = outbox_deliver(message_id=message_id, mailer=mailer)
        if message is not None and message.status == Status.SENT:
            outbox_deliver_due(finish_by=started + timedelta(seconds=settings.OUTBOX_LEASE_SECONDS), mailer=mailer)
    finally:
        mailer.close()
    return message


def outbox_tasks_sweep() -> int:
    """Put the outbox's tasks that a dead worker left RUNNING for longer than a lease back in
    the queue (they are safe to run again). Returns how many."""
    from django_tasks_db.compat import TaskResultStatus
    from django_tasks_db.models import DBTaskResult

    now = timezone.now()
    cutoff = now - timedelta(seconds=settings.OUTBOX_LEASE_SECONDS)
    swept = DBTaskResult.objects.filter(
        status=TaskResultStatus.RUNNING, task_path__in=OUTBOX_TASK_PATHS, started_at__lt=cutoff
    ).update(status=TaskResultStatus.READY, run_after=now)
    if swept:
        logger.warning("Put %s outbox task(s) left running by a stopped worker back in the queue.", swept)
    return swept


# -- dead letters --------------------------------------------------------------------------


def outbox_resend(*, actor: User, message_ids: Iterable, via: str) -> int:
    """Queue dead letters again, each with a new round of attempts; records who did it."""
    from .tasks import deliver_outbox_message

    now = timezone.now()
    count = 0
    with transaction.atomic():
        for message in OutboxMessage.objects.select_for_update(of=("self",)).filter(
            pk__in=list(message_ids), status=Status.DEAD
        ):
            OutboxResend.objects.create(
                message=message, by=actor, via=via, attempts_before=message.attempts, last_error=message.last_error
            )
            message.status = Status.PENDING
            message.attempts = 0
            message.next_attempt_at = now
            message.save(update_fields=["status", "attempts", "next_attempt_at"])
            enqueue_with_this_transaction(deliver_outbox_message, message.pk)
            count += 1
    return count


def outbox_resend_period(*, actor: User, since: datetime, until: datetime, via: str = OutboxResend.Via.COMMAND) -> int:
    """Queue again every dead letter written from ``since`` up to (not including) ``until``."""
    ids = OutboxMessage.objects.filter(status=Status.DEAD, created_at__gte=since, created_at__lt=until).values_list(
        "pk", flat=True
    )
    return outbox_resend(actor=actor, message_ids=list(ids), via=via)
