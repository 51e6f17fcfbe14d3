from botocore.exceptions import BotoCoreError, ClientError
from django.core.exceptions import ImproperlyConfigured
from django.core.management.base import BaseCommand, CommandError

from arenden.checkpoints import CheckpointRefused, journal_checkpoint_create


class Command(BaseCommand):
    help = (
        "Verify the journal, then write a signed checkpoint of every chain's head (and a Merkle root "
        "over them) to S3 as a new object, and record it. Run it on a schedule (e.g. hourly)."
    )

    def handle(self, *args, **options):
        try:
            checkpoint = journal_checkpoint_create()
        except ImproperlyConfigured as exc:
            raise CommandError(str(exc)) from exc
        except (BotoCoreError, ClientError) as exc:
            raise CommandError(f"S3 did not answer as it should for the checkpoints: {exc}") from exc
        except CheckpointRefused as exc:
            for finding in exc.findings:
                where = f" at event {finding.seq}" if finding.seq is not None else ""
                self.stderr.write(f"BROKEN case {finding.case_label}{where}: {finding.reason}")
            raise CommandError(
                f"No checkpoint written: the journal does not verify ({len(exc.findings)} finding(s))."
            ) from exc
        lock = (
            f"Object Lock {checkpoint.lock_mode} until {checkpoint.retain_until:%Y-%m-%d}"
            if checkpoint.lock_mode and checkpoint.retain_until
            else "no Object Lock on this bucket"
        )
        self.stdout.write(
            self.style.SUCCESS(
                f"Checkpoint s3://{checkpoint.bucket}/{checkpoint.object_key}: {checkpoint.chain_count} chains, "
                f"{checkpoint.event_count} events, Merkle root {checkpoint.merkle_root} ({lock})."
            )
        )
