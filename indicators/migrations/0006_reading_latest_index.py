# The latest reading read off one index, without a sort (with_latest_reading).

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("indicators", "0005_baseline_target"),
    ]

    operations = [
        migrations.RemoveIndex(
            model_name="reading",
            name="reading_indicator_asof_idx",
        ),
        migrations.AddIndex(
            model_name="reading",
            index=models.Index(fields=["indicator", "-as_of", "-id"], name="reading_indicator_latest_idx"),
        ),
    ]
