from django.core.management.base import BaseCommand

from notifications.services import outbox_deliver_due


class Command(BaseCommand):
    help = "Deliver every pending outbox message that is due (a sweep beside the task worker)."

    def handle(self, *args, **options):
        sent = outbox_deliver_due()
        self.stdout.write(f"Delivered {sent} message(s).")
