"""The outbox: written in the caller's transaction, delivered at least once, never inside it.

Delivering one message takes three steps, and no SMTP traffic happens while a row is locked:

1. *claim*, a short transaction: lock the row (``SKIP LOCKED``), count the attempt, give it a
   lease (``claimed_until``) and a claim token, and queue a watchdog task for when the lease
   ends (with the database task backend the task row commits with the claim);
2. *send* over SMTP outside any transaction, with the message's stable Message-ID, waiting up
   to ``OUTBOX_SMTP_DATA_TIMEOUT`` for the answer to the end of the message;
3. *record*, another short transaction: sent; or the error and a retry after
   ``OUTBOX_RETRY_SECONDS`` doubling, and after ``OUTBOX_MAX_ATTEMPTS`` a dead letter.

A worker that dies between 1 and 3 leaves a lease that runs out; the watchdog, or any later
run, takes the message over, and puts the dead worker's task back in the queue. An attempt
whose outcome is unknown (the server had the whole message but gave no answer, or the
worker died) is counted in ``unconfirmed_attempts``: only such an attempt can leave a
second copy, so a message reaches the server at most ``1 + unconfirmed_attempts`` times.
"""

from __future__ import annotations

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
from django.db.models import Q, QuerySet
from django.tasks import Task
from django.utils import timezone

from .dead_letters import dead_letter_notify
from .models import OutboxMessage, OutboxResend

if TYPE_CHECKING:
    from django.contrib.auth.models import User  # the person: settings.AUTH_USER_MODEL

logger = logging.getLogger("notifications.outbox")

Status = OutboxMessage.Status

# Our own tasks, safe to run again: the outbox row, not the task, says what has been done.
OUTBOX_TASK_PATHS = ("notifications.tasks.deliver_outbox_message", "notifications.tasks.take_over_outbox_message")

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
    messages = [
        OutboxMessage.objects.create(
            kind=kind, reference=reference, recipient=r, subject=subject, body=body, message_id=message_id_new(),
            **({"status": Status.NOT_SENT, "note": reason[:200]} if reason is not None else {}),
        )
        for r in dict.fromkeys(recipients)
        if r
    ]
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
    """Queue ``task`` (with the one argument ``message_id``, any id) so that it exists
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
    if in_database:
        bound.enqueue(str(message_id))
    else:
        transaction.on_commit(partial(bound.enqueue, str(message_id)), robust=True)


# -- delivering ----------------------------------------------------------------------------


def _worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"[:120]


def _due(now: datetime) -> Q:
    pending = Q(status=Status.PENDING) & (Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now))
    abandoned = Q(status=Status.SENDING, claimed_until__lt=now)
    return pending | abandoned


def _claim(candidates: QuerySet[OutboxMessage]) -> tuple[OutboxMessage | None, bool]:
    """Claim the oldest due message among ``candidates``: (the claimed message or None, whether a
    lease had run out). Commits before returning; no row stays locked."""
    from .tasks import take_over_outbox_message

    now = timezone.now()
    took_over = False
    with transaction.atomic():
        message = (
            candidates.select_for_update(skip_locked=True, of=("self",)).filter(_due(now)).order_by("created_at").first()
        )
        if message is None:
            return None, False
        if message.status == Status.SENDING:
            # The worker that held it stopped before it recorded the server's answer.
            took_over = True
            message.unconfirmed_attempts += 1
            message.last_error = (
                f"Worker {message.claimed_by} did not record attempt {message.attempts} before its lease ran out "
                f"at {message.claimed_until:%Y-%m-%d %H:%M:%S %Z}; the server may have taken the message."
            )
            if message.attempts >= settings.OUTBOX_MAX_ATTEMPTS:
                _make_dead(message)
                message.save()
                return None, took_over
        message.attempts += 1
        message.status = Status.SENDING
        message.claim_token = uuid.uuid4()
        message.claimed_by = _worker_name()
        message.claimed_until = now + timedelta(seconds=settings.OUTBOX_LEASE_SECONDS)
        if not message.message_id:
            message.message_id = message_id_new()
        message.save()
        enqueue_with_this_transaction(
            take_over_outbox_message, message.pk, run_after=message.claimed_until + timedelta(seconds=1)
        )
    return message, took_over


def _make_dead(message: OutboxMessage) -> None:
    message.status = Status.DEAD
    message.next_attempt_at = None
    message.claimed_until = None
    message.claim_token = None
    message.claimed_by = ""
    logger.error("Outbox message %s to %s is a dead letter after %s attempts: %s",
                 message.pk, message.recipient, message.attempts, message.last_error)
    dead_letter_notify(message)  # the administrators' notices, in the same transaction


def _email(message: OutboxMessage) -> EmailMessage:
    return EmailMessage(
        subject=message.subject,
        body=message.body,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[message.recipient],
        headers={
            "Message-ID": message.message_id,
            "Date": format_datetime(message.created_at),
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

    def send(self, message: OutboxMessage) -> None:
        if self.backend is None:
            backend = mailers.default
            backend.open()
            if isinstance(backend, SMTPBackend) and backend.connection is not None:
                _wait_for_the_end_of_data(backend.connection, settings.OUTBOX_SMTP_DATA_TIMEOUT)
            self.backend = backend
        try:
            sent = self.backend.send_messages([_email(message)])
        except Exception:
            self.abandon()
            raise
        if sent != 1:
            raise smtplib.SMTPException("the mailer sent nothing")

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


def _record_sent(message: OutboxMessage) -> None:
    # The server took it: that stands even if the lease ran out and another worker holds it now.
    with transaction.atomic():
        OutboxMessage.objects.filter(pk=message.pk).exclude(status=Status.SENT).update(
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


def _deliver_claimed(message: OutboxMessage, mailer: _Mailer) -> bool:
    try:
        mailer.send(message)
    except Exception as exc:  # any transport failure: keep the message, try later
        _record_failure(message, exc)
        return False
    _record_sent(message)
    return True


def outbox_deliver(*, message_id) -> OutboxMessage | None:
    """Deliver one message if it is due (or its lease ran out); None if there was nothing to do."""
    message, took_over = _claim(OutboxMessage.objects.filter(pk=message_id))
    if took_over:
        outbox_tasks_sweep()
    if message is None:
        return None
    mailer = _Mailer()
    try:
        _deliver_claimed(message, mailer)
    finally:
        mailer.close()
    return OutboxMessage.objects.get(pk=message.pk)


def outbox_deliver_due(*, limit: int = 500) -> int:
    """Deliver every due message, and those whose worker's lease ran out, over one connection;
    each message at most once per run. Returns how many were sent."""
    seen: list[uuid.UUID] = []
    sent = 0
    swept = False
    mailer = _Mailer()
    try:
        while len(seen) < limit:
            message, took_over = _claim(OutboxMessage.objects.exclude(pk__in=seen))
            if took_over and not swept:
                outbox_tasks_sweep()
                swept = True
            if message is None:
                if took_over:
                    continue  # that one became a dead letter; look for the next
                break
            seen.append(message.pk)
            sent += _deliver_claimed(message, mailer)
    finally:
        mailer.close()
    return sent


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
