from django.core.management.base import BaseCommand, CommandError

from bidrag.models import DecisionLetter
from bidrag.services.letters import letters_verify


class Command(BaseCommand):
    help = (
        "Re-read every stored decision letter from object storage and check it against its row and the "
        "SHA-256 in the case's journal; name every decision without a letter (run letters_issue first)."
    )

    def handle(self, *args, **options):
        problems = letters_verify()
        for problem in problems:
            self.stderr.write(f"BROKEN {problem}")
        if problems:
            raise CommandError(f"{len(problems)} decision letter problem(s)")
        self.stdout.write(self.style.SUCCESS(f"Letters OK: {DecisionLetter.objects.count()} as sent."))
