from datetime import timedelta

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from arenden.production import productions_orphans_remove


class Command(BaseCommand):
    help = (
        "Remove produced ZIPs under productions/ that no journal event records (a production whose "
        "process died between the upload and the commit), once older than the grace period."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--grace-hours", type=float, default=None,
            help=f"keep objects younger than this (default ATTACHMENT_ORPHAN_GRACE_HOURS, "
            f"{settings.ATTACHMENT_ORPHAN_GRACE_HOURS:g})",
        )
        parser.add_argument("--dry-run", action="store_true", help="only count what would be removed")

    def handle(self, *args, grace_hours=None, dry_run=False, **options):
        hours = settings.ATTACHMENT_ORPHAN_GRACE_HOURS if grace_hours is None else grace_hours
        if hours < 0:
            raise CommandError("--grace-hours must not be negative")
        checked, removed = productions_orphans_remove(older_than=timedelta(hours=hours), dry_run=dry_run)
        verb = "would remove" if dry_run else "removed"
        self.stdout.write(self.style.SUCCESS(
            f"Productions cleanup: {checked} objects checked, {removed} unrecorded ones {verb} (older than {hours:g} h)."
        ))
