"""The leaders' weekly digest: overdue tasks, tasks newly at risk, indicators that miss
their target, agencies that have not reported this cycle and the open red and yellow
督办单, over the agencies a leader oversees; and the leader's own instructions (批示) not yet
settled. Computed once per leader and week by the scan and kept on the delivery rows, so
the inbox and the email say the same thing."""

import datetime

from django.db.models import Count, Q

from accounts.services import scope_agency_ids
from escalation.choices import InstructionState, Level
from escalation.models import Instruction, Notice, overdue_q
from indicators.models import Indicator
from indicators.services import missed_q, target_text, with_latest_reading
from indicators.units import with_unit
from notifications.choices import Channel, Rule
from notifications.models import Delivery
from tasks.choices import FINISHED
from tasks.models import Task, TaskOwner
from tasks.risk import Risk, risk_annotation
from tasks.services import owed_this_cycle_q

LISTED = 10  # items listed under each heading; the counts cover all


def _task_items(tasks) -> list[dict]:
    return [
        {"id": t["id"], "number": t["number"], "heading": t["heading"], "due_on": t["due_on"].isoformat()}
        for t in tasks.values("id", "number", "heading", "due_on")
    ]


def _previous_at_risk(leader, day: datetime.date) -> set[int] | None:
    previous = (
        Delivery.objects.filter(rule=Rule.LEADER_DIGEST, object_id=leader.pk, channel=Channel.INBOX, due_on__lt=day)
        .order_by("-due_on")
        .values_list("payload", flat=True)
        .first()
    )
    return None if previous is None else set(previous.get("at_risk_ids", []))


def _instructions(leader) -> tuple[int, list[dict]]:
    """The leader's own instructions not yet settled (待落实, or answered and waiting for
    the leader), the earliest deadline first: how many, and the first LISTED."""
    pending = (
        Instruction.objects.filter(issued_by=leader, state__in=(InstructionState.OPEN, InstructionState.RESPONDED))
        .select_related("task")
        .only("id", "text", "respond_by", "state", "task__id", "task__number", "task__heading")
        .order_by("respond_by", "id")
    )
    items = [
        {
            "id": i.pk,
            "task_id": i.task_id,
            "task_number": i.task.number,
            "task_heading": i.task.heading,
            "text": i.text[:200],
            "respond_by": i.respond_by.isoformat(),
            "state": i.state,
            "responded": i.state == InstructionState.RESPONDED,
        }
        for i in pending[:LISTED]
    ]
    count = len(items) if len(items) < LISTED else pending.count()
    return count, items


def _open_notices(leader, day: datetime.date) -> dict:
    """The open red and yellow 督办单 the leader sees (on the tasks of their agencies, of
    every published plan: what the dashboard and the 督办 page count), and the open ones
    past their reply deadline unanswered, in one query."""
    return (
        Notice.objects.visible_to(leader)
        .open()
        .aggregate(
            red=Count("pk", filter=Q(level=Level.RED)),
            yellow=Count("pk", filter=Q(level=Level.YELLOW)),
            unanswered_late=Count("pk", filter=overdue_q(day)),
        )
    )


def leader_digest(leader, day: datetime.date) -> dict:
    agency_ids = scope_agency_ids(leader)
    tasks = Task.objects.visible_to(leader).active()
    open_tasks = tasks.exclude(status__in=FINISHED)

    overdue = open_tasks.filter(due_on__lt=day).order_by("due_on", "id")
    at_risk_ids = set(
        open_tasks.annotate(risk=risk_annotation(day))
        .filter(risk__in=[Risk.RED, Risk.AMBER])
        .order_by()
        .values_list("id", flat=True)
    )
    previous = _previous_at_risk(leader, day)
    new_ids = sorted(at_risk_ids - previous) if previous is not None else sorted(at_risk_ids)
    newly = Task.objects.filter(pk__in=new_ids[:LISTED]).order_by("due_on", "id")

    missed = (
        with_latest_reading(Indicator.objects.filter(task__in=tasks.values("pk")))
        .filter(missed_q())
        .order_by("plan_id", "order", "id")
    )
    missed_items = [
        {
            "id": i.pk,
            "task_id": i.task_id,
            "name": i.name,
            "latest": with_unit(i.latest_value, i.unit),
            "target": target_text(i),
        }
        for i in missed[:LISTED]
    ]

    owed = tasks.filter(owed_this_cycle_q(day))
    owners = TaskOwner.objects.filter(task__in=owed.values("pk"))
    if agency_ids is not None:
        owners = owners.filter(agency_id__in=agency_ids)
    unreported = [
        {"id": row["agency_id"], "name": row["agency__name"], "owed": row["owed"]}
        for row in owners.values("agency_id", "agency__name")
        .annotate(owed=Count("task_id", distinct=True))
        .order_by("-owed", "agency__name")
    ]
    instruction_count, instructions = _instructions(leader)
    return {
        "week_of": day.isoformat(),
        "overdue_count": overdue.count(),
        "overdue": _task_items(overdue[:LISTED]),
        "newly_at_risk_count": len(new_ids),
        "newly_at_risk": _task_items(newly),
        "missed_indicator_count": missed.count(),
        "missed_indicators": missed_items,
        "unreported_agencies": unreported,
        "open_notices": _open_notices(leader, day),
        "open_instruction_count": instruction_count,
        "open_instructions": instructions,
        "at_risk_ids": sorted(at_risk_ids),
    }
