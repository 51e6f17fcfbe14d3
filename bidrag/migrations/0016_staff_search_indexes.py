"""The all-cases page (issue 7): its status filter read from an index in the page's order,
and its search by diarienummer, organisation name or project title answered by trigram
indexes, so that `icontains` (UPPER(col) LIKE UPPER('%…%')) reads the index instead of
every row.

The trigram indexes are PostgreSQL's (GIN, pg_trgm) and live outside the model state: the
quick start's SQLite has neither, and SQLite rebuilds a table's Meta indexes whenever a
later migration alters it. The extension is trusted (PostgreSQL 13+): the database owner
may create it.
"""

from django.contrib.postgres.operations import TrigramExtension
from django.db import migrations, models

# (index, table, column): each as UPPER(column), the expression Django's icontains compares.
TRIGRAM_INDEXES = [
    ("case_diarienummer_trgm", "arenden_case", "diarienummer"),
    ("organisation_name_trgm", "bidrag_organisation", "name"),
    ("application_title_trgm", "bidrag_application", "title"),
]


def _create(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name, table, column in TRIGRAM_INDEXES:
        schema_editor.execute(
            f'CREATE INDEX IF NOT EXISTS "{name}" ON "{table}" USING gin ((UPPER("{column}"::text)) gin_trgm_ops)'
        )


def _drop(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name, _table, _column in TRIGRAM_INDEXES:
        schema_editor.execute(f'DROP INDEX IF EXISTS "{name}"')


class Migration(migrations.Migration):

    dependencies = [
        ("arenden", "0005_conflicts_append_only"),
        ("bidrag", "0015_application_steps_tracks_budget_years"),
    ]

    operations = [
        migrations.AddIndex(
            model_name="application",
            index=models.Index(fields=["status", "-created_at", "-id"], name="application_status_newest"),
        ),
        TrigramExtension(),
        migrations.RunPython(_create, _drop),
    ]
