from django.tasks import task

from .services import outbox_deliver


@task
def deliver_outbox_message(message_id: str) -> str | None:
    message = outbox_deliver(message_id=message_id)
    return message.status if message else None
