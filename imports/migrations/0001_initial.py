"""PlanImport, moved here from the plans app with its table (workplans_planimport)."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

import imports.models


class Migration(migrations.Migration):
    initial = True

    dependencies = [
        ("workplans", "0006_delete_planimport"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        # The model as the plans app had it, table and all: nothing is written here.
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name="PlanImport",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                            ),
                        ),
                        (
                            "file",
                            models.FileField(upload_to=imports.models.import_upload_path, verbose_name="上传文件"),
                        ),
                        ("original_name", models.CharField(max_length=255, verbose_name="原始文件名")),
                        ("sha256", models.CharField(max_length=64, verbose_name="文件摘要(SHA-256)")),
                        ("size", models.PositiveBigIntegerField(default=0, verbose_name="文件大小(字节)")),
                        (
                            "status",
                            models.CharField(
                                choices=[
                                    ("queued", "排队中"),
                                    ("parsing", "解析中"),
                                    ("parsed", "待确认"),
                                    ("imported", "已导入"),
                                    ("failed", "失败"),
                                ],
                                default="queued",
                                max_length=16,
                                verbose_name="状态",
                            ),
                        ),
                        (
                            "progress",
                            models.PositiveSmallIntegerField(default=0, help_text="0–100", verbose_name="解析进度"),
                        ),
                        (
                            "document",
                            models.JSONField(
                                blank=True, help_text="解析器输出的原始文档", null=True, verbose_name="解析结果"
                            ),
                        ),
                        (
                            "edited_document",
                            models.JSONField(
                                blank=True,
                                help_text="管理员在预览中修改后的文档；未修改时为空",
                                null=True,
                                verbose_name="修改后的文档",
                            ),
                        ),
                        (
                            "owner_mapping",
                            models.JSONField(
                                blank=True,
                                default=dict,
                                help_text="计划中的单位名称 → 单位编号，或 create 表示新建",
                                verbose_name="责任单位对应",
                            ),
                        ),
                        ("error", models.TextField(blank=True, verbose_name="错误信息")),
                        ("created_at", models.DateTimeField(auto_now_add=True, verbose_name="上传时间")),
                        ("updated_at", models.DateTimeField(auto_now=True, verbose_name="更新时间")),
                        (
                            "created_by",
                            models.ForeignKey(
                                blank=True,
                                null=True,
                                on_delete=django.db.models.deletion.SET_NULL,
                                related_name="plan_imports",
                                to=settings.AUTH_USER_MODEL,
                                verbose_name="上传人",
                            ),
                        ),
                        (
                            "plan",
                            models.ForeignKey(
                                blank=True,
                                null=True,
                                on_delete=django.db.models.deletion.SET_NULL,
                                related_name="imports",
                                to="workplans.plan",
                                verbose_name="导入结果",
                            ),
                        ),
                        (
                            "replaces",
                            models.ForeignKey(
                                blank=True,
                                help_text="作为新版本更新的已有计划",
                                null=True,
                                on_delete=django.db.models.deletion.SET_NULL,
                                related_name="replacement_imports",
                                to="workplans.plan",
                                verbose_name="替换的计划",
                            ),
                        ),
                    ],
                    options={
                        "verbose_name": "计划导入",
                        "verbose_name_plural": "计划导入",
                        "db_table": "workplans_planimport",
                        "ordering": ["-created_at", "-id"],
                        "indexes": [models.Index(fields=["sha256", "status"], name="planimport_sha256_status_idx")],
                        "constraints": [
                            models.CheckConstraint(
                                condition=models.Q(("progress__gte", 0), ("progress__lte", 100)),
                                name="planimport_progress_0_100",
                            ),
                            models.CheckConstraint(
                                condition=models.Q(
                                    ("status__in", ["queued", "parsing", "parsed", "imported", "failed"])
                                ),
                                name="planimport_status_valid",
                            ),
                        ],
                    },
                ),
            ],
            database_operations=[],
        ),
    ]
