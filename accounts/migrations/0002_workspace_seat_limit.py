from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('accounts', '0001_initial'),
    ]

    operations = [
        migrations.AddField(
            model_name='workspace',
            name='seat_limit',
            field=models.PositiveIntegerField(blank=True, help_text='Active members the plan allows; empty means no limit.', null=True),
        ),
    ]
