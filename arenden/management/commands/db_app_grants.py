from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction

from arenden.dbroles import application_grants


class Command(BaseCommand):
    help = (
        "Print (or, with --apply, run) the GRANTs that make ROLE the application's database role: "
        "it owns no table, has no TRUNCATE, and only SELECT and INSERT on the append-only tables. "
        "Run as the tables' owner, after every migrate."
    )

    def add_arguments(self, parser):
        parser.add_argument("role")
        parser.add_argument("--apply", action="store_true", help="run the statements instead of printing them")

    def handle(self, *args, role, apply, **options):
        if connection.vendor != "postgresql":
            raise CommandError("Database roles are for PostgreSQL.")
        statements = application_grants(role)
        if not apply:
            for statement in statements:
                self.stdout.write(f"{statement};")
            return
        with transaction.atomic(), connection.cursor() as cursor:
            for statement in statements:
                cursor.execute(statement)
        self.stdout.write(self.style.SUCCESS(f"{role}: {len(statements)} statements applied."))
