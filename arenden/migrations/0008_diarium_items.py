"""Issue 7, the diarium (OSL 5 kap.): an entry's kind of item, whether its counterpart is a
private person, a public description, a secrecy mark and a note (FL 27 §); the public
diarium's order as an index, and its search by sender/recipient as a trigram index.

The trigram index is PostgreSQL's and lives outside the model state, as in bidrag 0016 (the
quick start's SQLite has none).
"""

from django.conf import settings
from django.contrib.postgres.operations import TrigramExtension
from django.db import migrations, models

COUNTERPART_TRGM = "diarium_entry_counterpart_trgm"


def _create(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(
        f'CREATE INDEX IF NOT EXISTS "{COUNTERPART_TRGM}" ON "arenden_diariumentry" '
        'USING gin ((UPPER("counterpart"::text)) gin_trgm_ops)'
    )


def _drop(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(f'DROP INDEX IF EXISTS "{COUNTERPART_TRGM}"')


class Migration(migrations.Migration):

    dependencies = [
        ('arenden', '0007_journal_head_guard'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name='diariumentry',
            name='counterpart_private',
            field=models.BooleanField(default=False, verbose_name='avsändaren/mottagaren är en privatperson'),
        ),
        migrations.AddField(
            model_name='diariumentry',
            name='kind',
            field=models.CharField(choices=[('ansokan', 'Ansökan'), ('komplettering', 'Komplettering'), ('redovisning', 'Redovisning'), ('beslut', 'Beslut'), ('epost', 'E-post'), ('brev', 'Brev'), ('tjansteanteckning', 'Tjänsteanteckning (FL 27 §)'), ('handling', 'Övrig handling')], default='handling', max_length=20, verbose_name='typ av handling'),
        ),
        migrations.AddField(
            model_name='diariumentry',
            name='note',
            field=models.TextField(blank=True, verbose_name='anteckning'),
        ),
        migrations.AddField(
            model_name='diariumentry',
            name='public_description',
            field=models.CharField(blank=True, max_length=300, verbose_name='beskrivning i den allmänna diarieförteckningen'),
        ),
        migrations.AddField(
            model_name='diariumentry',
            name='secrecy',
            field=models.CharField(blank=True, max_length=200, verbose_name='sekretessmarkering'),
        ),
        migrations.AddIndex(
            model_name='diariumentry',
            index=models.Index(fields=['entry_date', 'created_at', 'id'], name='diarium_entry_date_order'),
        ),
        TrigramExtension(),
        migrations.RunPython(_create, _drop),
    ]
