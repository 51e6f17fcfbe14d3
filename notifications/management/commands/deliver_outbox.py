from django.core.management.base import BaseCommand

from notifications.services import outbox_deliver_due, outbox_tasks_sweep


class Command(BaseCommand):
    help = (
        "Deliver every due outbox message, and take over those whose worker's lease ran out; put "
        "outbox tasks a stopped worker left RUNNING back in the queue. A sweep beside the task worker."
    )

    def handle(self, *args, **options):
        swept = outbox_tasks_sweep()
        sent = outbox_deliver_due()
        self.stdout.write(f"Delivered {sent} message(s); {swept} task(s) left running by a stopped worker requeued.")
