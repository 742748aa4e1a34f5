from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('accounts', '0002_audit_append_only_in_the_database'),
    ]

    operations = [
        migrations.AddField(
            model_name='workspace',
            name='seat_limit',
            field=models.PositiveIntegerField(blank=True, help_text='Active members the plan allows; empty means no limit.', null=True),
        ),
    ]
