from django.core.management.base import BaseCommand

from workflows.door import deadlines_run


class Command(BaseCommand):
    help = (
        "Return cases whose supplement or comment deadline has passed to the case officer. "
        "Run daily (cron or systemd timer)."
    )

    def handle(self, *args, **options):
        passed = deadlines_run()
        self.stdout.write(f"{passed} case(s) returned to handling after a passed deadline.")
