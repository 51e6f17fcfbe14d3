from django.tasks import task

from .services import outbox_deliver, outbox_deliver_due, outbox_deliver_with_others


@task
def deliver_outbox_message(message_id: str) -> str | None:
    """Its message, then the others due over the same connection (their own tasks find them sent)."""
    message = outbox_deliver_with_others(message_id=message_id)
    return message.status if message else None


@task
def take_over_outbox_messages(message_ids: list[str]) -> int:
    """Queued with every claim (a batch of messages) for when its lease ends: a no-op for the
    messages recorded by then; the others' worker is gone and this run takes them over."""
    return outbox_deliver_due(among=message_ids, limit=len(message_ids))


@task
def take_over_outbox_message(message_id: str) -> str | None:
    """The watchdog of a single claim, as queued before claims came in batches (kept for the
    tasks still in a queue)."""
    message = outbox_deliver(message_id=message_id)
    return message.status if message else None
