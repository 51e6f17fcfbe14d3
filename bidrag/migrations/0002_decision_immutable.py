from django.db import migrations

from arenden.appendonly import append_only


class Migration(migrations.Migration):
    dependencies = [("bidrag", "0001_initial"), ("arenden", "0002_journal_append_only")]

    operations = [append_only("bidrag_decision")]
