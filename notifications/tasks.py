from django.tasks import task

from .services import outbox_deliver


@task
def deliver_outbox_message(message_id: str) -> str | None:
    message = outbox_deliver(message_id=message_id)
    return message.status if message else None


@task
def take_over_outbox_message(message_id: str) -> str | None:
    """Queued with every claim for when its lease ends: a no-op if the message was recorded,
    otherwise the worker that claimed it is gone and this run takes it over."""
    message = outbox_deliver(message_id=message_id)
    return message.status if message else None
