from django.db import migrations

from arenden.appendonly import append_only


class Migration(migrations.Migration):
    dependencies = [("arenden", "0001_initial")]

    operations = [append_only("arenden_journalevent", truncate=True)]
