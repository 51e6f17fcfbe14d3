"""Issue 9: every read of a case recorded (arenden.CaseRead), append-only like the journal:
UPDATE, DELETE and TRUNCATE refused by the database (arenden.appendonly), so the
application's role gets only SELECT and INSERT on it (arenden.dbroles)."""

import uuid

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

from arenden.appendonly import append_only


class Migration(migrations.Migration):

    dependencies = [
        ('arenden', '0008_diarium_items'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name='CaseRead',
            fields=[
                ('id', models.UUIDField(default=uuid.uuid4, editable=False, primary_key=True, serialize=False)),
                ('reader_label', models.CharField(max_length=300)),
                ('reader_roles', models.JSONField(default=list)),
                ('read_at', models.DateTimeField()),
                ('kind', models.CharField(choices=[('arende', 'Ärendet'), ('handelselogg', 'Händelseloggen'), ('lasningar', 'Läsningarna av ärendet'), ('ansokan', 'Ansökan, sökandens sida'), ('inskickad', 'Ansökan som den skickades in'), ('kvitto', 'Mottagningskvitto'), ('bilaga', 'Bilaga'), ('beslutsbrev', 'Beslutsbrev')], max_length=20)),
                ('object_id', models.UUIDField(blank=True, null=True)),
                ('detail', models.CharField(blank=True, max_length=300)),
                ('case', models.ForeignKey(db_constraint=False, db_index=False, on_delete=django.db.models.deletion.PROTECT, related_name='reads', to='arenden.case')),
                ('reader', models.ForeignKey(db_constraint=False, db_index=False, on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL)),
            ],
            options={
                'verbose_name': 'läsning av ärende',
                'verbose_name_plural': 'läsningar av ärenden',
                'indexes': [models.Index(fields=['case', 'read_at', 'id'], name='case_read_case_order'), models.Index(fields=['reader', 'read_at', 'id'], name='case_read_reader_order'), models.Index(fields=['read_at', 'id'], name='case_read_order')],
            },
        ),
        append_only("arenden_caseread", truncate=True),
    ]
