"""The database refuses an administrator account without a person, and a second
administrator role for the same person (三员分立)."""

import django.db.models.functions.text
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("accounts", "0004_admin_person_placeholders")]

    operations = [
        migrations.AddConstraint(
            model_name="user",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    models.Q(("role__in", ("admin", "security", "auditor")), _negated=True),
                    models.Q(("person_id", ""), _negated=True),
                    _connector="OR",
                ),
                name="user_admin_roles_have_person",
            ),
        ),
        migrations.AddConstraint(
            model_name="user",
            constraint=models.UniqueConstraint(
                django.db.models.functions.text.Upper("person_id"),
                condition=models.Q(("role__in", ("admin", "security", "auditor"))),
                name="user_one_admin_role_per_person",
                violation_error_message="此人已担任系统管理员、安全管理员或审计管理员之一，不能再担任另一个。",
            ),
        ),
    ]
