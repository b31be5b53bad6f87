"""已完成 is no longer final: tasks marked done before the close-out (销号) existed move on.

- done in an archived plan: the year is over and nobody will check it now, so the task is
  closed out (已销号) as it stood — completed_on the day of its latest progress update (its
  due date when it has none), and an approved CloseOut recording that, checklist ticked,
  submitted by that update's author with its note (or "迁移：原已完成任务"). A task with no
  update has no author to name: it is closed without a CloseOut row.
- done in an active or draft plan: the task stays 已完成 and gets a pending CloseOut from its
  latest done update (its author and time; decided by the day it was submitted, so it shows
  as due at once), which the supervision office checks like any new one. A task with no
  done update has no author either: it stays 已完成 with no CloseOut (the task page lets the
  lead file one).

Historical models, bulk writes, and no audit records or Transition rows: a migration is not a
person's act, and the trail records people's acts (README, "Upgrading")."""

from django.db import migrations
from django.utils import timezone

MIGRATED_SUMMARY = "迁移：原已完成任务"
BATCH_SIZE = 1000


def close_out_done_tasks(apps, schema_editor):
    Task = apps.get_model("tasks", "Task")
    ProgressUpdate = apps.get_model("tasks", "ProgressUpdate")
    CloseOut = apps.get_model("supervision", "CloseOut")

    tasks = list(Task.objects.filter(status="done").select_related("plan").order_by("pk"))
    if not tasks:
        return
    # The latest update of each task, and the latest one that said done: one query.
    latest, latest_done = {}, {}
    updates = ProgressUpdate.objects.filter(task_id__in=[t.pk for t in tasks]).order_by("task_id", "created_at", "id")
    for update in updates.only("id", "task_id", "author_id", "created_at", "note", "status"):
        latest[update.task_id] = update
        if update.status == "done":
            latest_done[update.task_id] = update
    pending_tasks = set(
        CloseOut.objects.filter(task_id__in=[t.pk for t in tasks], state="pending").values_list("task_id", flat=True)
    )

    closed, close_outs = [], []
    for task in tasks:
        if task.plan.status == "archived":
            update = latest.get(task.pk)
            task.status = "closed"
            task.completed_on = timezone.localdate(update.created_at) if update else task.due_on
            closed.append(task)
            if update is not None:
                close_outs.append(
                    CloseOut(
                        task_id=task.pk,
                        state="approved",
                        summary=(update.note or "").strip() or MIGRATED_SUMMARY,
                        progress_update_id=update.pk,
                        submitted_by_id=update.author_id,
                        submitted_at=update.created_at,
                        evidence_checked=True,
                        milestones_checked=True,
                        indicators_checked=True,
                        decided_at=update.created_at,
                    )
                )
        elif task.pk not in pending_tasks:
            update = latest_done.get(task.pk)
            if update is None:
                continue
            close_outs.append(
                CloseOut(
                    task_id=task.pk,
                    state="pending",
                    summary=(update.note or "").strip() or MIGRATED_SUMMARY,
                    progress_update_id=update.pk,
                    submitted_by_id=update.author_id,
                    submitted_at=update.created_at,
                    decision_due_on=timezone.localdate(update.created_at),
                )
            )
    Task.objects.bulk_update(closed, ["status", "completed_on"], batch_size=BATCH_SIZE)
    CloseOut.objects.bulk_create(close_outs, batch_size=BATCH_SIZE)


class Migration(migrations.Migration):
    dependencies = [
        ("supervision", "0001_initial"),
        ("tasks", "0009_closed_status_and_baseline"),
    ]

    # Not reversible: which 已销号 tasks were 已完成 before is not kept.
    operations = [migrations.RunPython(close_out_done_tasks, migrations.RunPython.noop)]
