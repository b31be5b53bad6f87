"""Seeds and reads the fault tests' private database, in a process of its own (the tests'
own process is connected to pytest's database, not to the private cluster).

    python -m tests.faults.probe seed '{"staff": 3, "robot_url": "http://127.0.0.1:…"}'
    python -m tests.faults.probe due_tasks '{"agency_id": 2, "count": 4}'
    python -m tests.faults.probe state

Prints one JSON document.
"""

import datetime
import json
import os
import sys

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

import django

django.setup()

from django.contrib.sessions.models import Session  # noqa: E402
from django.db import transaction  # noqa: E402
from django.utils import timezone  # noqa: E402

from accounts.choices import AgencyLevel  # noqa: E402
from accounts.models import Agency, User  # noqa: E402
from core.roles import Role  # noqa: E402
from dashboards.models import Export, Snapshot  # noqa: E402
from notifications.choices import Channel  # noqa: E402
from notifications.models import Delivery, Notification, Preference, Robot  # noqa: E402
from tasks.choices import OwnerRole  # noqa: E402
from tasks.models import ProgressUpdate, Task, TaskOwner  # noqa: E402
from tests.conftest import PASSWORD  # noqa: E402
from workplans.choices import PlanStatus  # noqa: E402
from workplans.models import Plan, Section  # noqa: E402

ALWAYS = {"quiet_start": datetime.time(0), "quiet_end": datetime.time(0)}  # no quiet hours


def _user(username, role, agency, **extra):
    user = User(username=username, role=role, agency=agency, full_name=username, **extra)
    user.set_password(PASSWORD)
    user.save()
    return user


def _due_tasks(plan, section, agency, count, start):
    """Tasks due tomorrow, reported this cycle: each calls for one 1-day reminder per
    recipient and channel, today, whatever the date (a deadline tomorrow is announced on a
    day off too, where a 7-day heads-up waits for a working day)."""
    due = timezone.localdate() + datetime.timedelta(days=1)
    tasks = []
    for n in range(start, start + count):
        task = Task.objects.create(
            plan=plan,
            section=section,
            number=str(n),
            heading=f"故障演练任务{n}",
            due_on=due,
            last_progress_at=timezone.now(),
        )
        TaskOwner.objects.create(task=task, agency=agency, role=OwnerRole.LEAD)
        tasks.append(task.pk)
    return tasks


@transaction.atomic
def seed(staff=3, robot_url="", reminder_tasks_per_agency=0):
    """Two agencies under a commission, `staff` staff users in each with one task apiece
    (due at year end: no reminder), a leader; robots and due tasks when asked."""
    commission = Agency.objects.create(name="演练市卫生健康委员会", level=AgencyLevel.CITY)
    agencies = [
        Agency.objects.create(name=name, level=AgencyLevel.DEPARTMENT, parent=commission)
        for name in ("医政医管处", "疾病预防控制处")
    ]
    year = timezone.localdate().year
    plan = Plan.objects.create(
        title=f"{year}年演练市卫生健康工作要点", year=year, issuer=commission, status=PlanStatus.ACTIVE
    )
    section = Section.objects.create(plan=plan, label="一", title="提升服务能力")
    out = {"plan": plan.pk, "agencies": [a.pk for a in agencies], "staff": [], "robots": []}
    number = 1
    for a_index, agency in enumerate(agencies):
        for s_index in range(staff):
            user = _user(
                f"staff{a_index}{s_index}",
                Role.STAFF,
                agency,
                email=f"staff{a_index}{s_index}@example.org",
                phone=f"1380000{a_index}{s_index:03d}",
            )
            Preference.objects.create(user=user, email=True, wecom=bool(robot_url), **ALWAYS)
            task = Task.objects.create(
                plan=plan,
                section=section,
                number=str(number),
                heading=f"日常任务{number}",
                due_on=datetime.date(year, 12, 31),
                last_progress_at=timezone.now(),
            )
            TaskOwner.objects.create(task=task, agency=agency, role=OwnerRole.LEAD)
            number += 1
            out["staff"].append({"username": user.username, "id": user.pk, "task": task.pk})
        if robot_url:
            robot = Robot.objects.create(
                agency=agency, kind=Channel.WECOM, name=f"工作群{a_index}", webhook_url=robot_url
            )
            out["robots"].append(robot.pk)
    leader = _user("leader", Role.LEADER, commission)
    out["leader"] = {"username": leader.username, "id": leader.pk}
    out["due_tasks"] = []
    for agency in agencies:
        start = 100 + len(out["due_tasks"])
        out["due_tasks"] += _due_tasks(plan, section, agency, reminder_tasks_per_agency, start=start)
    return out


@transaction.atomic
def due_tasks(agency_ids, count, start):
    plan = Plan.objects.get()
    section = Section.objects.get(plan=plan)
    ids = []
    for agency_id in agency_ids:
        ids += _due_tasks(plan, section, Agency.objects.get(pk=agency_id), count, start + len(ids))
    return ids


def state():
    """Everything the fault tests check, in one read."""
    tasks = {
        t.pk: {"version": t.version, "percent": t.percent, "status": t.status, "history": t.history.count()}
        for t in Task.objects.all()
    }
    return {
        "tasks": tasks,
        "updates": list(
            ProgressUpdate.objects.order_by("pk").values("task_id", "note", "percent", "submission_key", "author_id")
        ),
        "deliveries": [
            {**d, "handed_over_at": d["handed_over_at"] and d["handed_over_at"].isoformat()}
            for d in Delivery.objects.order_by("pk").values(
                "pk",
                "rule",
                "object_id",
                "channel",
                "recipient_id",
                "robot_id",
                "state",
                "attempts",
                "last_error",
                "handed_over_at",
            )
        ],
        "notifications": list(Notification.objects.values("recipient_id", "task_id", "delivery_id", "rule")),
        "exports": list(Export.objects.values("pk", "status", "error")),
        "snapshots": list(Snapshot.objects.values("day", "plan_id", "scope", "section_id", "agency_id")),
        "sessions": Session.objects.count(),
    }


def main():
    command = sys.argv[1]
    args = json.loads(sys.argv[2]) if len(sys.argv) > 2 else {}
    result = {"seed": seed, "due_tasks": due_tasks, "state": state}[command](**args)
    print(json.dumps(result, default=str, ensure_ascii=False))


if __name__ == "__main__":
    main()
