from django.core.management.base import BaseCommand

from workflows.reminders import reminders_send


class Command(BaseCommand):
    help = (
        "Remind applicants 7 and 1 days before a supplement or comment deadline, and 30 and 7 days "
        "before the final report is due and when it is overdue. Each reminder is sent once. Run daily."
    )

    def handle(self, *args, **options):
        sent = reminders_send()
        self.stdout.write(f"{sent} reminder(s) sent.")
