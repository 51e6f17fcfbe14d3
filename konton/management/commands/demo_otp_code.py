from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from konton.demo import DEMO_TOTP_KEY, demo_totp_code


class Command(BaseCommand):
    help = "Print the current two-step code of the demo staff users (demo only: DJANGO_DEBUG=1)."

    def handle(self, *args, **options):
        if not settings.DEBUG:
            raise CommandError("demo_otp_code is for the demo; it runs only with DJANGO_DEBUG=1.")
        self.stdout.write(f"{demo_totp_code()}  (key {DEMO_TOTP_KEY}, a new code every 30 seconds)")
