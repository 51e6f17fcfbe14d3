"""The outbox: write in the caller's transaction, deliver after commit with retries."""

from datetime import timedelta
from functools import partial

from django.conf import settings
from django.core.mail import EmailMessage
from django.db import transaction
from django.utils import timezone

from .models import OutboxMessage


def outbox_enqueue(*, kind: str, reference: str, recipients: list[str], subject: str, body: str) -> list[OutboxMessage]:
    """Write one outbox row per recipient; schedule delivery once the transaction commits."""
    messages = [
        OutboxMessage.objects.create(kind=kind, reference=reference, recipient=r, subject=subject, body=body)
        for r in dict.fromkeys(recipients)
        if r
    ]
    for message in messages:
        transaction.on_commit(partial(_schedule, message.pk))
    return messages


def _schedule(message_id, *, run_after=None) -> None:
    from .tasks import deliver_outbox_message

    task = deliver_outbox_message.using(run_after=run_after) if run_after else deliver_outbox_message
    task.enqueue(str(message_id))


def outbox_deliver(*, message_id) -> OutboxMessage | None:
    """Send one message. On failure record the error and schedule a retry with backoff."""
    with transaction.atomic():
        message = (
            OutboxMessage.objects.select_for_update(skip_locked=True, of=("self",))
            .filter(pk=message_id, status=OutboxMessage.Status.PENDING)
            .first()
        )
        if message is None:
            return None  # already sent, given up, or being sent by another worker
        message.attempts += 1
        try:
            EmailMessage(
                subject=message.subject,
                body=message.body,
                from_email=settings.DEFAULT_FROM_EMAIL,
                to=[message.recipient],
                headers={"X-Bidrag-Reference": message.reference},
            ).send(fail_silently=False)
        except Exception as exc:  # any transport failure: keep the message, try later
            message.last_error = f"{type(exc).__name__}: {exc}"[:2000]
            if message.attempts >= settings.OUTBOX_MAX_ATTEMPTS:
                message.status = OutboxMessage.Status.FAILED
                message.next_attempt_at = None
            else:
                delay = settings.OUTBOX_RETRY_SECONDS * (2 ** (message.attempts - 1))
                message.next_attempt_at = timezone.now() + timedelta(seconds=delay)
                when = message.next_attempt_at
                transaction.on_commit(lambda: _schedule(message.pk, run_after=when))
        else:
            message.status = OutboxMessage.Status.SENT
            message.sent_at = timezone.now()
            message.last_error = ""
            message.next_attempt_at = None
        message.save()
        return message


def outbox_deliver_due(*, limit: int = 500) -> int:
    """Deliver every pending message that is due; a sweep for messages whose task was lost."""
    now = timezone.now()
    due = (
        OutboxMessage.objects.filter(status=OutboxMessage.Status.PENDING)
        .exclude(next_attempt_at__gt=now)
        .order_by("created_at")
        .values_list("pk", flat=True)[:limit]
    )
    sent = 0
    for pk in list(due):
        message = outbox_deliver(message_id=pk)
        if message is not None and message.status == OutboxMessage.Status.SENT:
            sent += 1
    return sent
