"""Composite same-plan references (see core/integrity.py)."""

from django.db import migrations

from core.integrity import SamePlanReference


class Migration(migrations.Migration):
    dependencies = [("workplans", "0001_initial")]

    operations = [
        SamePlanReference("workplans", "section", "parent", "section_parent_same_plan"),
    ]
