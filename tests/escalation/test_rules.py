"""The notices' two rules that have a Python and an SQL form say the same: open (未办结,
NoticeQuerySet.open / Notice.is_open) and unanswered past the reply deadline (逾期未反馈,
overdue_q / Notice.is_overdue), over every state and a deadline before, on and after the
day."""

import datetime

import pytest

from escalation.by_hand import issue_by_hand
from escalation.choices import Level, NoticeState
from escalation.models import Notice
from tests.fixtures.tasks import make_task

pytestmark = pytest.mark.django_db
TODAY = datetime.date(2026, 6, 10)


def test_open_and_overdue_agree_in_python_and_sql(plan, section, agency_a, supervisor):
    combinations = [(state, days) for state in NoticeState.values for days in (-1, 0, 1)]
    for n, (state, days) in enumerate(combinations):
        task = make_task(plan, section, str(n), lead=agency_a, due_on=datetime.date(2026, 12, 31))
        notice = issue_by_hand(task.pk, supervisor, level=Level.BLUE, requirements="x", today=TODAY)
        Notice.objects.filter(pk=notice.pk).update(
            state=state,
            reply_due_on=TODAY + datetime.timedelta(days=days),
            cancel_reason="撤销" if state == NoticeState.CANCELLED else "",
        )
    notices = list(Notice.objects.all())
    assert len(notices) == len(combinations)
    assert {n.pk for n in Notice.objects.overdue(TODAY)} == {n.pk for n in notices if n.is_overdue(TODAY)}
    assert {n.pk for n in Notice.objects.open()} == {n.pk for n in notices if n.is_open}
    # Both found something, and left something out.
    assert 0 < Notice.objects.overdue(TODAY).count() < Notice.objects.open().count() < len(notices)


def test_a_hold_holds_the_same_days_in_python_and_sql(plan, section, agency_a, supervisor):
    from django.utils import timezone

    from escalation.ladder import held_q
    from escalation.models import Hold
    from tasks.models import Task

    cases = [(None, None), (TODAY, None), (TODAY - datetime.timedelta(days=1), None), (None, timezone.now())]
    for n, (until, released_at) in enumerate(cases):
        task = make_task(plan, section, f"h{n}", lead=agency_a, due_on=datetime.date(2026, 12, 31))
        Hold.objects.create(task=task, reason="延期审批中", until=until, held_by=supervisor, released_at=released_at)
    held_in_sql = set(Task.objects.filter(held_q(TODAY)).values_list("pk", flat=True))
    held_in_python = {hold.task_id for hold in Hold.objects.all() if hold.holds_on(TODAY)}
    assert held_in_sql == held_in_python and len(held_in_sql) == 2
