import uuid

from django.db import migrations, models


class Migration(migrations.Migration):
    # Its own migration: PostgreSQL refuses to alter a table with pending trigger events,
    # which the key-filling UPDATEs of 0013 leave behind in the same transaction.

    dependencies = [
        ('bidrag', '0013_organisation_mandates'),
    ]

    operations = [
        migrations.AlterField(
            model_name='membership',
            name='key',
            field=models.UUIDField(default=uuid.uuid4, editable=False, unique=True),
        ),
    ]
