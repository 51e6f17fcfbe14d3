from django.core.management.base import BaseCommand

from bidrag.services.letters import letter_issue, letters_missing


class Command(BaseCommand):
    help = (
        "Issue the letter of every decision that has none yet (PDF/A to object storage, its "
        "SHA-256 in the journal): the task each decision queues does it at once; this sweeps up after it."
    )

    def handle(self, *args, **options):
        missing = letters_missing()
        for decision_id in missing:
            letter_issue(decision_id=decision_id)
        self.stdout.write(f"{len(missing)} beslutsbrev upprättade.")
