from django.db import migrations

from arenden.appendonly import truncate_guard


class Migration(migrations.Migration):
    """Decisions refused TRUNCATE too (issue 9), as the journal and the jäv records are:
    migration 0002 guarded their rows only."""

    dependencies = [("bidrag", "0017_join_request_mandate_proof")]

    operations = [truncate_guard("bidrag_decision")]
