from django.core.management.base import BaseCommand, CommandError

from arenden.journal import journal_verify
from arenden.models import JournalEvent


class Command(BaseCommand):
    help = "Recompute every case's journal hash chain and report the first broken link of each."

    def handle(self, *args, **options):
        broken = journal_verify()
        if broken:
            for link in broken:
                self.stderr.write(
                    f"BROKEN case {link.diarienummer or link.case_id} at event {link.seq}: {link.reason}"
                )
            raise CommandError(f"{len(broken)} broken journal chain(s)")
        count = JournalEvent.objects.count()
        self.stdout.write(self.style.SUCCESS(f"Journal OK: {count} events, every chain intact."))
