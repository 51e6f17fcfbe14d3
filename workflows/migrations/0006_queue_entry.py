"""The queues' rows (workflows.models.QueueEntry, issue 7): each open task beside what its
queue filters and sorts by, one index per sort. Filled here from the tasks and applications
there are (workflows.queue_entries.queue_rebuild; nothing on a new database), kept by the door.
"""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


def _fill(apps, schema_editor):
    from workflows.queue_entries import queue_rebuild

    queue_rebuild()


class Migration(migrations.Migration):

    dependencies = [
        ('arenden', '0008_diarium_items'),
        ('bidrag', '0025_repayment_ocr'),
        ('viewflow', '0015_task_scheduled'),
        ('workflows', '0005_assign_tasks_permission'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name='QueueEntry',
            fields=[
                ('task', models.OneToOneField(on_delete=django.db.models.deletion.CASCADE, primary_key=True, related_name='queue_entry', serialize=False, to='viewflow.task')),
                ('permission', models.CharField(blank=True, max_length=255)),
                ('is_wait', models.BooleanField(default=False)),
                ('created', models.DateTimeField()),
                ('status', models.CharField(max_length=30)),
                ('received', models.DateTimeField()),
                ('deadline', models.DateField()),
                ('requested', models.DecimalField(decimal_places=2, max_digits=14)),
                ('target_on', models.DateField()),
                ('demanded', models.BooleanField(default=False)),
                ('application', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='+', to='bidrag.application')),
                ('asked_by', models.ForeignKey(null=True, on_delete=django.db.models.deletion.CASCADE, related_name='+', to=settings.AUTH_USER_MODEL)),
                ('call', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='+', to='bidrag.call')),
                ('case', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='+', to='arenden.case')),
                ('organisation', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='+', to='bidrag.organisation')),
                ('owner', models.ForeignKey(null=True, on_delete=django.db.models.deletion.CASCADE, related_name='+', to=settings.AUTH_USER_MODEL)),
                ('track', models.ForeignKey(null=True, on_delete=django.db.models.deletion.CASCADE, related_name='+', to='bidrag.calltrack')),
            ],
            options={
                'verbose_name': 'köpost',
                'verbose_name_plural': 'köposter',
                'indexes': [models.Index(fields=['permission', 'created', 'task'], name='queue_by_created'), models.Index(fields=['permission', 'received', 'task'], name='queue_by_received'), models.Index(fields=['permission', 'deadline', 'task'], name='queue_by_deadline'), models.Index(fields=['permission', 'requested', 'task'], name='queue_by_requested'), models.Index(condition=models.Q(('owner__isnull', True)), fields=['permission', 'created', 'task'], name='queue_unassigned'), models.Index(fields=['owner', 'created', 'task'], name='queue_mine'), models.Index(condition=models.Q(('is_wait', True)), fields=['asked_by', 'created', 'task'], name='queue_waits'), models.Index(fields=['permission', 'target_on', 'task'], name='queue_by_target'), models.Index(condition=models.Q(('demanded', True)), fields=['permission', 'created', 'task'], name='queue_demanded'), models.Index(fields=['call', 'created'], name='queue_call'), models.Index(fields=['track', 'created'], name='queue_track'), models.Index(fields=['organisation', 'created'], name='queue_organisation')],
            },
        ),
        migrations.RunPython(_fill, migrations.RunPython.noop),
    ]
