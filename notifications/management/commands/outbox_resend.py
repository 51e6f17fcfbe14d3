from datetime import datetime, time, timedelta

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime

from notifications.models import OutboxMessage
from notifications.services import outbox_resend_period


def _moment(value: str, *, end: bool) -> datetime:
    """A date (Europe/Stockholm; as --until, that whole day is included) or an ISO date-time."""
    day = parse_date(value)
    if day is not None:
        if end:
            day += timedelta(days=1)
        return timezone.make_aware(datetime.combine(day, time.min))
    moment = parse_datetime(value)
    if moment is None:
        raise CommandError(f"Not a date or time: {value!r} (use 2026-12-01 or 2026-12-01T08:30).")
    return moment if timezone.is_aware(moment) else timezone.make_aware(moment)


class Command(BaseCommand):
    help = (
        "Send again the dead letters written in a period (after a long mail outage). "
        "--since is included; --until a date includes that day, a time is the first moment left out."
    )

    def add_arguments(self, parser):
        parser.add_argument("--since", required=True, help="2026-12-01 or 2026-12-01T08:30 (Stockholm time)")
        parser.add_argument("--until", required=True, help="2026-12-01 or 2026-12-01T17:00 (Stockholm time)")
        parser.add_argument("--by", required=True, help="username of the person who asks for it (recorded)")
        parser.add_argument("--dry-run", action="store_true", help="only count them")

    def handle(self, *args, since, until, by, dry_run=False, **options):
        start, end = _moment(since, end=False), _moment(until, end=True)
        if end <= start:
            raise CommandError("--until must come after --since.")
        try:
            actor = get_user_model().objects.get(username=by)
        except get_user_model().DoesNotExist:
            raise CommandError(f"No user {by!r}.") from None
        if dry_run:
            count = OutboxMessage.objects.filter(
                status=OutboxMessage.Status.DEAD, created_at__gte=start, created_at__lt=end
            ).count()
            self.stdout.write(f"{count} dead letter(s) would be sent again.")
            return
        count = outbox_resend_period(actor=actor, since=start, until=end)
        self.stdout.write(f"{count} dead letter(s) queued again, recorded as sent again by {actor.get_username()}.")
