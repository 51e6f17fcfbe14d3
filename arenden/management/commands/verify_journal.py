import time

from botocore.exceptions import BotoCoreError, ClientError
from django.core.exceptions import ImproperlyConfigured
from django.core.management.base import BaseCommand, CommandError

from arenden.checkpoints import journal_audit


class Command(BaseCommand):
    help = (
        "Recompute every case's journal hash chain, hold it against the case's head and the latest "
        "signed checkpoint, and check the diarienummer serials for gaps; report the first broken "
        "link of each case and every missing case."
    )

    def handle(self, *args, **options):
        started = time.perf_counter()
        try:
            audit = journal_audit()
        except ImproperlyConfigured as exc:
            raise CommandError(str(exc)) from exc
        except (BotoCoreError, ClientError) as exc:
            raise CommandError(f"S3 did not answer as it should for the checkpoints: {exc}") from exc
        seconds = time.perf_counter() - started
        if audit.findings:
            for finding in audit.findings:
                where = f" at event {finding.seq}" if finding.seq is not None else ""
                subject = f"case {finding.case_label}{where}" if finding.case_label != "-" else "journal"
                self.stderr.write(f"BROKEN {subject}: {finding.reason}")
            raise CommandError(
                f"{len(audit.findings)} broken journal chain(s), missing case(s) or checkpoint problem(s)"
            )
        rate = audit.event_count / seconds if seconds else 0
        self.stdout.write(
            self.style.SUCCESS(f"Journal OK: {audit.event_count} events, every chain intact ({seconds:.2f} s, {rate:,.0f} events/s).")
        )
        if audit.checkpoint is None:
            self.stdout.write("No checkpoint yet: run manage.py journal_checkpoint to guard against rewritten chains.")
        else:
            self.stdout.write(
                f"Every chain of checkpoint {audit.checkpoint.object_key} ({audit.checkpoint_chains} chains) "
                "is still there, grown or unchanged."
            )
        self.stdout.write("Diarienummer serials: no gaps, every numbered case exists.")
