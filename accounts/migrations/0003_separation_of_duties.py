"""Separation of the three administrators (三员分立): the security admin role and the
person behind each administrator account."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0002_agency_alias_history"),
        ("auth", "0012_alter_user_first_name_max_length"),
    ]

    operations = [
        migrations.RemoveConstraint(
            model_name="user",
            name="user_role_valid",
        ),
        migrations.AddField(
            model_name="historicaluser",
            name="person_id",
            field=models.CharField(
                blank=True,
                default="",
                help_text="系统管理员、安全管理员、审计管理员必填；同一人只能担任其中一个角色。",
                max_length=32,
                verbose_name="工号/证件号",
            ),
        ),
        migrations.AddField(
            model_name="user",
            name="person_id",
            field=models.CharField(
                blank=True,
                default="",
                help_text="系统管理员、安全管理员、审计管理员必填；同一人只能担任其中一个角色。",
                max_length=32,
                verbose_name="工号/证件号",
            ),
        ),
        migrations.AlterField(
            model_name="historicaluser",
            name="role",
            field=models.CharField(
                choices=[
                    ("staff", "经办人"),
                    ("leader", "领导"),
                    ("admin", "系统管理员"),
                    ("security", "安全管理员"),
                    ("auditor", "审计管理员"),
                ],
                default="staff",
                max_length=16,
                verbose_name="角色",
            ),
        ),
        migrations.AlterField(
            model_name="user",
            name="role",
            field=models.CharField(
                choices=[
                    ("staff", "经办人"),
                    ("leader", "领导"),
                    ("admin", "系统管理员"),
                    ("security", "安全管理员"),
                    ("auditor", "审计管理员"),
                ],
                default="staff",
                max_length=16,
                verbose_name="角色",
            ),
        ),
        migrations.AddConstraint(
            model_name="user",
            constraint=models.CheckConstraint(
                condition=models.Q(("role__in", ["staff", "leader", "admin", "security", "auditor"])),
                name="user_role_valid",
            ),
        ),
    ]
