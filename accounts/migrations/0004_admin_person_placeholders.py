"""Existing administrator accounts get a placeholder person (from their id, so each is
distinct) for the security admin to replace with the real ID; nobody stays a Django
superuser, and only system admins keep the Django admin."""

from django.db import migrations

ADMIN_ROLES = ("admin", "security", "auditor")


def forward(apps, schema_editor):
    User = apps.get_model("accounts", "User")
    for pk in User.objects.filter(role__in=ADMIN_ROLES, person_id="").values_list("pk", flat=True):
        User.objects.filter(pk=pk).update(person_id=f"待补-{pk}")
    User.objects.update(is_superuser=False)
    User.objects.exclude(role="admin").update(is_staff=False)


class Migration(migrations.Migration):
    dependencies = [("accounts", "0003_separation_of_duties")]

    operations = [migrations.RunPython(forward, migrations.RunPython.noop)]
