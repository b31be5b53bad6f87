"""Readings are history: a correction is a new reading that supersedes the old one, with a reason."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("indicators", "0003_reading_progress_update"),
        ("tasks", "0007_status_agrees_with_percent"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name="historicalreading",
            name="correction_reason",
            field=models.CharField(blank=True, max_length=500, verbose_name="更正原因"),
        ),
        migrations.AddField(
            model_name="historicalreading",
            name="supersedes",
            field=models.ForeignKey(
                blank=True,
                db_constraint=False,
                null=True,
                on_delete=django.db.models.deletion.DO_NOTHING,
                related_name="+",
                to="indicators.reading",
                verbose_name="更正的指标值",
            ),
        ),
        migrations.AddField(
            model_name="reading",
            name="correction_reason",
            field=models.CharField(blank=True, max_length=500, verbose_name="更正原因"),
        ),
        migrations.AddField(
            model_name="reading",
            name="supersedes",
            field=models.OneToOneField(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="superseded_by",
                to="indicators.reading",
                verbose_name="更正的指标值",
            ),
        ),
        migrations.AddConstraint(
            model_name="reading",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    models.Q(("correction_reason", ""), ("supersedes__isnull", True)),
                    models.Q(("supersedes__isnull", False), models.Q(("correction_reason", ""), _negated=True)),
                    _connector="OR",
                ),
                name="reading_correction_has_reason",
            ),
        ),
    ]
