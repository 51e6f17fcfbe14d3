"""Issue 7: assessment scores per criterion and assessor, and the call's scoring scale."""

import django.core.validators
import django.db.models.deletion
import uuid
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('bidrag', '0019_decision_letters_and_reasons'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name='Assessment',
            fields=[
                ('id', models.UUIDField(default=uuid.uuid4, editable=False, primary_key=True, serialize=False)),
                ('total', models.PositiveIntegerField(default=0, verbose_name='summa')),
                ('created_at', models.DateTimeField(auto_now_add=True, verbose_name='bedömd')),
                ('updated_at', models.DateTimeField(auto_now=True, verbose_name='ändrad')),
            ],
            options={
                'verbose_name': 'bedömning',
                'verbose_name_plural': 'bedömningar',
                'ordering': ['created_at'],
            },
        ),
        migrations.CreateModel(
            name='Score',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('criterion', models.CharField(max_length=60, verbose_name='bedömningsgrund')),
                ('criterion_name', models.CharField(max_length=200, verbose_name='bedömningsgrund (namn)')),
                ('value', models.PositiveSmallIntegerField(verbose_name='poäng')),
                ('scale_max', models.PositiveSmallIntegerField(verbose_name='skalans högsta poäng')),
                ('reason', models.TextField(verbose_name='motivering')),
                ('position', models.PositiveSmallIntegerField(default=0)),
            ],
            options={
                'verbose_name': 'poäng',
                'verbose_name_plural': 'poäng',
                'ordering': ['position'],
            },
        ),
        migrations.AddField(
            model_name='call',
            name='score_scale_max',
            field=models.PositiveSmallIntegerField(default=5, help_text='Varje bedömningsgrund får 1 till så här många poäng.', validators=[django.core.validators.MinValueValidator(2), django.core.validators.MaxValueValidator(10)], verbose_name='bedömningsskalans högsta poäng'),
        ),
        migrations.AddField(
            model_name='assessment',
            name='application',
            field=models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='assessments', to='bidrag.application'),
        ),
        migrations.AddField(
            model_name='assessment',
            name='assessor',
            field=models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL, verbose_name='bedömare'),
        ),
        migrations.AddField(
            model_name='score',
            name='assessment',
            field=models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='scores', to='bidrag.assessment'),
        ),
        migrations.AddConstraint(
            model_name='assessment',
            constraint=models.UniqueConstraint(fields=('application', 'assessor'), name='assessment_one_per_assessor'),
        ),
        migrations.AddConstraint(
            model_name='score',
            constraint=models.UniqueConstraint(fields=('assessment', 'criterion'), name='score_once_per_criterion'),
        ),
        migrations.AddConstraint(
            model_name='score',
            constraint=models.CheckConstraint(condition=models.Q(('value__gte', 1), ('value__lte', models.F('scale_max'))), name='score_on_scale'),
        ),
    ]
