"""PlanImport's table takes the imports app's name, and its content type follows it (so the
admin's log entries and any audit event naming it still resolve)."""

from django.db import migrations


def move_content_type(apps, schema_editor):
    ContentType = apps.get_model("contenttypes", "ContentType")
    old = ContentType.objects.filter(app_label="workplans", model="planimport")
    if ContentType.objects.filter(app_label="imports", model="planimport").exists():
        old.delete()
    else:
        old.update(app_label="imports")


def restore_content_type(apps, schema_editor):
    ContentType = apps.get_model("contenttypes", "ContentType")
    ContentType.objects.filter(app_label="imports", model="planimport").update(app_label="workplans")


class Migration(migrations.Migration):
    dependencies = [
        ("contenttypes", "0002_remove_content_type_name"),
        ("imports", "0001_initial"),
    ]

    operations = [
        migrations.AlterModelTable(name="planimport", table=None),
        migrations.RunPython(move_content_type, restore_content_type),
    ]
