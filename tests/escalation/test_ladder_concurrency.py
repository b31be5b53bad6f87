"""The 督办单 ladder run twice at once (two threads, two PostgreSQL connections, released
together): each notice is issued once, numbered without gaps, each cause recorded once, and
each recipient told once; the escalation job run again afterwards issues nothing. And the
job on a day off does nothing, and run twice in a row issues once (any database)."""

import datetime
import threading
from collections import Counter

import pytest
from django.db import connection

from escalation import ladder
from escalation.by_hand import issue_by_hand
from escalation.choices import Action, Level, NoticeState, Origin
from escalation.jobs import escalate
from escalation.models import Hold, Notice, RuleCause, Step
from notifications.choices import Channel, Rule
from notifications.models import Delivery, Notification
from tasks.models import Milestone
from tests.fixtures.tasks import make_task
from workdays.choices import DayKind
from workdays.models import CalendarDay

D = datetime.date
# Tue 16 June 2026. The Dragon Boat Festival is 19–21 June, so "within 3 working days" runs
# 17, 18, 22 June. The plan year's pace is 45.6 %: 50 % is on pace, 20 % is 26 points behind
# (yellow), 2 % is 44 points behind (red). The plan reports monthly by the 25th, so no
# report is late yet.
DAY = D(2026, 6, 16)
DUE_SOON = D(2026, 6, 18)
LATE = D(2026, 6, 10)  # 4 working days late: yellow
LONG_LATE = D(2026, 5, 20)  # 18 working days late: red (more than 10)
YEAR_END = D(2026, 12, 31)
# How many tasks of each kind in the race: over BATCH (200) notices in all, so the two runs
# also meet on more than one batch.
PER_KIND = 40


@pytest.fixture
def dragon_boat(db):
    for day in (D(2026, 6, 19), D(2026, 6, 20), D(2026, 6, 21)):
        CalendarDay.objects.create(date=day, kind=DayKind.HOLIDAY, name="端午节")


@pytest.fixture
def ladder_plan(plan, leader):
    plan.leader_in_charge = leader  # told of every red notice
    plan.save()
    return plan


class Expected:
    """What the ladder should issue on DAY: per task, the level, the causes it records
    (level, key) and who is told."""

    def __init__(self):
        self.notices: dict[int, str] = {}
        self.causes: set[tuple[int, str, str]] = set()
        self.told: dict[int, set[int]] = {}

    def add(self, task, level, keys, people):
        self.notices[task.pk] = level
        self.causes |= {(task.pk, lower, key) for lower, key in keys}
        self.told[task.pk] = {person.pk for person in people}

    def per_level(self) -> dict[str, int]:
        counts = Counter(self.notices.values())
        return {level: counts.get(level, 0) for level in Level.values}


def build(plan, section, agency_a, agency_b, staff_a, staff_b, leader, supervisor, per_kind) -> Expected:
    """`per_kind` tasks of each kind the ladder acts on, led in turn by A and B (every
    other one copying the other agency), and the tasks it leaves alone."""
    expected = Expected()
    staff = {agency_a.pk: staff_a, agency_b.pk: staff_b}
    numbers = iter(range(1, 100_000))

    def task(n, due_on, percent):
        lead, other = (agency_a, agency_b) if n % 2 else (agency_b, agency_a)
        co = [other] if n % 4 < 2 else []
        made = make_task(
            plan,
            section,
            str(next(numbers)),
            lead=lead,
            co_owners=co,
            due_on=due_on,
            percent=percent,
            status="in_progress",
        )
        people = {staff[lead.pk]} | {staff[agency.pk] for agency in co}
        return made, people

    for n in range(per_kind):
        made, people = task(n, DUE_SOON, 50)
        expected.add(made, Level.BLUE, [(Level.BLUE, f"due:{DUE_SOON}")], people)

        made, people = task(n, YEAR_END, 50)
        milestone = Milestone.objects.create(task=made, due_on=DUE_SOON, text="完成中期评估")
        expected.add(made, Level.BLUE, [(Level.BLUE, f"milestone:{milestone.pk}:{DUE_SOON}")], people)

        made, people = task(n, LATE, 50)
        expected.add(made, Level.YELLOW, [(Level.YELLOW, f"overdue:{LATE}")], people)

        made, people = task(n, YEAR_END, 20)
        expected.add(made, Level.YELLOW, [(Level.YELLOW, "behind:2026")], people)

        made, people = task(n, LONG_LATE, 50)
        keys = [(Level.RED, f"overdue_long:{LONG_LATE}"), (Level.YELLOW, f"overdue:{LONG_LATE}")]
        expected.add(made, Level.RED, keys, people | {leader})

        made, people = task(n, YEAR_END, 2)
        expected.add(made, Level.RED, [(Level.RED, "behind:2026"), (Level.YELLOW, "behind:2026")], people | {leader})

    # Notices issued by hand earlier and not answered by their reply deadline: the next level up.
    for n in range(3):
        made, people = task(n, YEAR_END, 50)
        blue = issue_by_hand(made.pk, supervisor, level=Level.BLUE, requirements="请加快推进", today=D(2026, 6, 1))
        assert blue.reply_due_on == D(2026, 6, 8)
        expected.add(made, Level.YELLOW, [(Level.YELLOW, f"ignored:{blue.pk}")], people)

        made, people = task(n, YEAR_END, 50)
        yellow = issue_by_hand(made.pk, supervisor, level=Level.YELLOW, requirements="请说明原因", today=D(2026, 6, 8))
        assert yellow.reply_due_on == D(2026, 6, 11)
        expected.add(made, Level.RED, [(Level.RED, f"ignored:{yellow.pk}")], people | {leader})

    # Left alone: on pace and far from due; overdue but held.
    task(0, YEAR_END, 60)
    held, _people = task(1, LATE, 10)
    Hold.objects.create(task=held, reason="延期申请审批中", until=D(2026, 6, 30), held_by=supervisor)
    return expected


def ladder_notices():
    return Notice.objects.filter(origin=Origin.RULE)


def check_issued_once(expected: Expected) -> None:
    """Every notice, cause and delivery the ladder should have written on DAY, each once."""
    notices = list(ladder_notices().values_list("task_id", "level", "issued_on", "state"))
    assert sorted((task_id, level) for task_id, level, _on, _state in notices) == sorted(expected.notices.items())
    assert {(on, state) for _task, _level, on, state in notices} == {(DAY, NoticeState.ISSUED)}

    # Numbered in one run without gaps or repeats, the notices by hand included.
    seqs = list(Notice.objects.order_by("seq").values_list("seq", flat=True))
    assert seqs == list(range(1, len(seqs) + 1))
    numbers = list(Notice.objects.values_list("number", flat=True))
    assert len(set(numbers)) == len(numbers)

    # One RuleCause per cause: the notice's own level's and the lower ones true that day.
    rule_causes = list(RuleCause.objects.filter(notice__origin=Origin.RULE).values_list("task_id", "level", "key"))
    assert len(rule_causes) == len(expected.causes)
    assert set(rule_causes) == expected.causes

    # One issue step per notice; the lower open notices by hand superseded once each.
    steps = dict(
        Step.objects.filter(notice__origin=Origin.RULE, action=Action.ISSUE).values_list("pk", "notice__task_id")
    )
    assert sorted(steps.values()) == sorted(expected.notices)
    assert Step.objects.filter(action=Action.SUPERSEDE).count() == 6
    assert not Notice.objects.filter(origin=Origin.HAND, state__in=(NoticeState.ISSUED, NoticeState.ACKNOWLEDGED))

    # Each recipient told once per notice, in the inbox (nobody here has an email address).
    deliveries = list(
        Delivery.objects.filter(rule=Rule.ESCALATION, object_id__in=list(steps)).values_list(
            "object_id", "recipient_id", "channel"
        )
    )
    wanted = {(step, person, Channel.INBOX) for step, task_id in steps.items() for person in expected.told[task_id]}
    assert len(deliveries) == len(wanted)
    assert set(deliveries) == wanted
    inbox = Notification.objects.filter(rule=Rule.ESCALATION, delivery__object_id__in=list(steps))
    assert inbox.count() == len(wanted)


@pytest.fixture
def celery_join_flag_restored():
    """Two threads running eager jobs at once (the announce jobs, with no broker) race on
    Celery's process-wide "joining a result would block" flag (celery.result
    .denied_join_result saves and restores it around each eager run), which can leave it
    set and make a later test's result.get() refuse. Workers are separate processes in
    production; here the flag is put back as it was."""
    from celery import _state

    before = _state.task_join_will_block()
    yield
    _state._set_task_join_will_block(before)


def run_together(work, n=2) -> list:
    """`work()` in `n` threads, each on its own connection, released at once by a barrier."""
    barrier = threading.Barrier(n)
    results, errors = [], []

    def one():
        try:
            barrier.wait(timeout=10)
            results.append(work())
        except Exception as error:
            errors.append(repr(error))
        finally:
            connection.close()

    threads = [threading.Thread(target=one) for _ in range(n)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(thread.is_alive() for thread in threads), "a ladder run did not finish"
    assert errors == []
    return results


@pytest.mark.skipif(connection.vendor != "postgresql", reason="needs PostgreSQL's row locks to race for real")
@pytest.mark.django_db(transaction=True)
def test_two_ladders_at_once_issue_each_notice_once_and_tell_each_person_once(
    celery_join_flag_restored,
    dragon_boat,
    ladder_plan,
    section,
    agency_a,
    agency_b,
    staff_a,
    staff_b,
    leader,
    supervisor,
):
    # given: tasks of every kind the ladder acts on, over one batch's worth
    expected = build(ladder_plan, section, agency_a, agency_b, staff_a, staff_b, leader, supervisor, PER_KIND)
    assert len(expected.notices) > ladder.BATCH
    hand_deliveries = Delivery.objects.filter(rule=Rule.ESCALATION).count()

    # when: two ladders start at the same moment
    results = run_together(lambda: ladder.run(DAY))

    # then: between them they issued each notice once
    per_level = {level: sum(result.issued[level] for result in results) for level in Level.values}
    assert per_level == expected.per_level() == {"blue": 80, "yellow": 83, "red": 83}
    check_issued_once(expected)

    # and the job the next time round finds nothing to do
    notices, deliveries = Notice.objects.count(), Delivery.objects.count()
    assert escalate(DAY.isoformat()) == {"day": DAY.isoformat(), "issued": dict.fromkeys(Level.values, 0), "closed": 0}
    assert Notice.objects.count() == notices
    assert Delivery.objects.count() == deliveries
    assert deliveries - hand_deliveries == sum(len(people) for people in expected.told.values())


@pytest.mark.django_db
def test_the_job_rests_on_days_off_and_issues_once_when_run_twice(
    dragon_boat,
    ladder_plan,
    section,
    agency_a,
    agency_b,
    staff_a,
    staff_b,
    leader,
    supervisor,
    django_capture_on_commit_callbacks,
):
    expected = build(ladder_plan, section, agency_a, agency_b, staff_a, staff_b, leader, supervisor, 1)
    hand_notices = Notice.objects.count()

    # The Dragon Boat holiday (a Friday) and the weekend after it: nothing.
    for day in ("2026-06-19", "2026-06-20", "2026-06-21"):
        with django_capture_on_commit_callbacks(execute=True):
            assert escalate(day) == {"day": day, "skipped": True}
    assert Notice.objects.count() == hand_notices
    assert not RuleCause.objects.filter(notice__origin=Origin.RULE).exists()

    # The working day, twice in a row: issued the first time only.
    with django_capture_on_commit_callbacks(execute=True):
        first = escalate(DAY.isoformat())
    assert first["issued"] == expected.per_level() == {"blue": 2, "yellow": 5, "red": 5}
    with django_capture_on_commit_callbacks(execute=True):
        second = escalate(DAY.isoformat())
    assert second == {"day": DAY.isoformat(), "issued": dict.fromkeys(Level.values, 0), "closed": 0}
    check_issued_once(expected)
