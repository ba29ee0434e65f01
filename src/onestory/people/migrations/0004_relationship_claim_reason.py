from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("people", "0003_relationship_how_to_reach"),
    ]

    operations = [
        migrations.AddField(
            model_name="relationship",
            name="claim_reason",
            field=models.TextField(blank=True, db_default=""),
        ),
    ]
