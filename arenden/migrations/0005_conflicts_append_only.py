from django.db import migrations

from arenden.appendonly import append_only


class Migration(migrations.Migration):
    """Jäv declarations and rulings are records of what happened: never changed or removed."""

    dependencies = [("arenden", "0004_conflict_ruling")]

    operations = [
        append_only("arenden_conflictofinterest", truncate=True),
        append_only("arenden_conflictruling", truncate=True),
    ]
