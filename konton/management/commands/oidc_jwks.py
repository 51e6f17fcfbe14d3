import json

from django.core.management.base import BaseCommand

from konton.oidc import public_jwks


class Command(BaseCommand):
    help = "Print our public key (from OIDC_PRIVATE_KEY) as a JWKS, to register with the e-ID broker."

    def handle(self, *args, **options):
        self.stdout.write(json.dumps(public_jwks(), indent=2))
