"""Issue 7, completeness: the call says how long an applicant has to complete the application
when the case officer asks (Call.supplement_days, default 14 days)."""

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('bidrag', '0021_payment_accounts'),
    ]

    operations = [
        migrations.AddField(
            model_name='call',
            name='supplement_days',
            field=models.PositiveSmallIntegerField(default=14, help_text='Kalenderdagar från begäran. Infaller sista dagen på en lördag, söndag eller helgdag flyttas den till nästa vardag.', verbose_name='svarstid vid begäran om komplettering (dagar)'),
        ),
    ]
