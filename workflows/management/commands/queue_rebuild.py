"""`manage.py queue_rebuild [--check]`: the queues' rows (workflows.models.QueueEntry)
written anew from viewflow's tasks and the applications, or (--check) only compared with
them: the differences are printed and the command fails if there are any. The door keeps
the rows; this is for after a bulk load, a restore, or to prove nothing drifted."""

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from workflows.queue_entries import queue_drift, queue_rebuild


class Command(BaseCommand):
    help = "Skriv köernas rader på nytt från uppgifterna och ansökningarna (--check: jämför bara)."

    def add_arguments(self, parser):
        parser.add_argument("--check", action="store_true", help="jämför bara, ändra ingenting")

    def handle(self, *args, check=False, **options):
        if check:
            drift = queue_drift()
            for line in drift:
                self.stdout.write(line)
            if drift:
                raise CommandError(f"{len(drift)} köposter skiljer sig från uppgifterna.")
            self.stdout.write("Köerna stämmer med uppgifterna.")
            return
        with transaction.atomic():
            written = queue_rebuild()
        self.stdout.write(f"{written} köposter skrivna.")
