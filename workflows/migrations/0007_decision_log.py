"""The decision log and its exports (issue 9).

* decision_log_order: the log's order (newest decision first, the id breaking ties), read
  from either end by arenden.keyset;
* decision_reasons_swedish: full-text search in the reasons, Swedish configuration (GIN).
  Its expression is the one Django writes for SearchVector("reasons", config="swedish")
  (workflows.decision_log.reasons_document): to_tsvector('swedish'::regconfig,
  COALESCE(reasons, '')). PostgreSQL uses an expression index only for the very same
  expression, config and COALESCE included. PostgreSQL only: the quick start's SQLite
  matches the words as written;
* disbursement_newest: the disbursement export's order;
* workflows_dataexport: who exported what, append-only as the journal is.

bidrag owns bidrag_decision and bidrag_disbursement; these indexes serve the decision log
and are made here, as 0004 made the queue's.
"""

import django.db.models.deletion
import uuid
from django.conf import settings
from django.db import migrations, models

from arenden.appendonly import append_only

INDEXES = {
    "decision_log_order": "ON bidrag_decision (decided_at, id)",
    "disbursement_newest": "ON bidrag_disbursement (prepared_at, id)",
}
POSTGRESQL_ONLY = {
    "decision_reasons_swedish": (
        "ON bidrag_decision USING gin (to_tsvector('swedish'::regconfig, COALESCE(reasons, ''::text)))"
    ),
}


def _create(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for name, definition in POSTGRESQL_ONLY.items():
            schema_editor.execute(f"CREATE INDEX IF NOT EXISTS {name} {definition}")


def _drop(apps, schema_editor):
    for name in POSTGRESQL_ONLY:
        schema_editor.execute(f"DROP INDEX IF EXISTS {name}")


class Migration(migrations.Migration):

    dependencies = [
        ('bidrag', '0026_reconsiderations'),
        ('workflows', '0006_queue_entry'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name='DataExport',
            fields=[
                ('id', models.UUIDField(default=uuid.uuid4, editable=False, primary_key=True, serialize=False)),
                ('kind', models.CharField(choices=[('beslutslogg', 'Beslutslogg'), ('utbetalningar', 'Utbetalningar')], max_length=16, verbose_name='vad')),
                ('file_format', models.CharField(choices=[('csv', 'CSV'), ('xlsx', 'XLSX')], max_length=8, verbose_name='format')),
                ('filters', models.JSONField(blank=True, default=dict, verbose_name='urval')),
                ('made_at', models.DateTimeField(auto_now_add=True, verbose_name='gjord')),
                ('made_by', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL, verbose_name='gjord av')),
            ],
            options={
                'verbose_name': 'export',
                'verbose_name_plural': 'exporter',
                'indexes': [models.Index(fields=['made_at', 'id'], name='workflows_export_newest')],
            },
        ),
        append_only("workflows_dataexport", truncate=True),
    ] + [
        migrations.RunSQL(
            sql=f"CREATE INDEX IF NOT EXISTS {name} {definition}",
            reverse_sql=f"DROP INDEX IF EXISTS {name}",
        )
        for name, definition in INDEXES.items()
    ] + [migrations.RunPython(_create, _drop)]
