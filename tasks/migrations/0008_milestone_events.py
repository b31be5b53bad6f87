"""Milestone completion as an append-only record (MilestoneEvent); the milestones done
before it existed get their 完成 event, from the progress update that marked them when
there is one."""

import datetime

import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models


def record_the_milestones_already_done(apps, schema_editor):
    Milestone = apps.get_model("tasks", "Milestone")
    MilestoneEvent = apps.get_model("tasks", "MilestoneEvent")
    events = []
    for milestone in Milestone.objects.filter(done_on__isnull=False).select_related("done_by_update"):
        update = milestone.done_by_update
        at = (
            update.created_at
            if update is not None
            else datetime.datetime.combine(milestone.done_on, datetime.time(12), tzinfo=datetime.UTC)
        )
        events.append(
            MilestoneEvent(
                milestone_id=milestone.pk,
                task_id=milestone.task_id,
                kind="done",
                done_on=milestone.done_on,
                recorded_by_id=update.author_id if update is not None else None,
                recorded_at=at,
                progress_update_id=update.pk if update is not None else None,
            )
        )
    MilestoneEvent.objects.bulk_create(events, batch_size=500)


class Migration(migrations.Migration):
    dependencies = [
        ("tasks", "0007_status_agrees_with_percent"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="MilestoneEvent",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                (
                    "kind",
                    models.CharField(
                        choices=[("done", "完成"), ("reopened", "撤销完成")], max_length=16, verbose_name="事项"
                    ),
                ),
                ("done_on", models.DateField(blank=True, null=True, verbose_name="完成日期")),
                ("recorded_at", models.DateTimeField(default=django.utils.timezone.now, verbose_name="操作时间")),
                ("reason", models.CharField(blank=True, max_length=500, verbose_name="原因")),
                (
                    "milestone",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="events",
                        to="tasks.milestone",
                        verbose_name="时间节点",
                    ),
                ),
                (
                    "progress_update",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="milestone_events",
                        to="tasks.progressupdate",
                        verbose_name="进展记录",
                    ),
                ),
                (
                    "recorded_by",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="milestone_events",
                        to=settings.AUTH_USER_MODEL,
                        verbose_name="操作人",
                    ),
                ),
                (
                    "task",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="milestone_events",
                        to="tasks.task",
                        verbose_name="任务",
                    ),
                ),
            ],
            options={
                "verbose_name": "时间节点完成记录",
                "verbose_name_plural": "时间节点完成记录",
                "ordering": ["milestone", "recorded_at", "id"],
                "indexes": [models.Index(fields=["milestone", "recorded_at"], name="milestone_event_time_idx")],
                "constraints": [
                    models.CheckConstraint(
                        condition=models.Q(("kind__in", ["done", "reopened"])), name="milestone_event_kind_valid"
                    ),
                    models.CheckConstraint(
                        condition=models.Q(
                            models.Q(("kind", "reopened"), _negated=True),
                            models.Q(("reason", ""), _negated=True),
                            _connector="OR",
                        ),
                        name="milestone_reopened_has_reason",
                    ),
                    models.CheckConstraint(
                        condition=models.Q(
                            models.Q(("kind", "done"), _negated=True), ("done_on__isnull", False), _connector="OR"
                        ),
                        name="milestone_done_has_date",
                    ),
                ],
            },
        ),
        migrations.RunPython(record_the_milestones_already_done, migrations.RunPython.noop),
    ]
