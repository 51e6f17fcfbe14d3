from django.core.management.base import BaseCommand

from workflows.staff_digest import staff_digests_send


class Command(BaseCommand):
    help = (
        "Tell staff of cases reaching the FL 12 § six-month mark (notices), then send each member of staff "
        "with anything new their daily digest by e-mail (new tasks, tasks past target, six-month cases, "
        "dead letters), unless they turned it off. Each digest is sent once a day. Run daily."
    )

    def handle(self, *args, **options):
        sent = staff_digests_send()
        self.stdout.write(f"{sent} digest(s) sent.")
