from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from konton.services import NotAnAdministrator, second_factor_reset


class Command(BaseCommand):
    help = (
        "Remove every two-step device (authenticator apps and backup codes) of a staff member "
        "who lost theirs; at their next login they set up a new app. Recorded, with the "
        "administrator named by --by, in konton's second-factor events (admin) and the log."
    )

    def add_arguments(self, parser):
        parser.add_argument("username", help="the staff member whose devices go")
        parser.add_argument("--by", required=True, help="the username of the administrator doing it (recorded)")

    def handle(self, *args, username, by, **options):
        User = get_user_model()
        try:
            user = User.objects.get_by_natural_key(username)
        except User.DoesNotExist:
            raise CommandError(f"Användaren {username!r} finns inte.") from None
        try:
            administrator = User.objects.get_by_natural_key(by)
        except User.DoesNotExist:
            raise CommandError(f"--by: användaren {by!r} finns inte.") from None
        try:
            removed = second_factor_reset(user=user, by=administrator)
        except NotAnAdministrator:
            raise CommandError(f"--by: {by!r} är inte en aktiv administratör.") from None
        self.stdout.write(
            f"{len(removed)} device(s) of {user.get_username()} removed ({'; '.join(removed) or 'none'}); "
            f"recorded as done by {administrator.get_username()}. At the next login they set up a new app."
        )
