"""Time travel through autumn 2026 on the working-day calendar (Mid-Autumn and National
Day off, the make-up Saturday 10-10 worked): which 督办单 the ladder issues, escalates,
supersedes and closes on each day, and that a held or closed-out task is left alone."""

import datetime

import pytest

from audit.models import AuditEvent
from escalation import holds, ladder, notices
from escalation.choices import Action, Cause, Level, NoticeState, Origin
from escalation.jobs import escalate
from escalation.models import Notice, RuleCause, Step
from notifications.choices import Rule
from notifications.models import Delivery
from supervision import closeout, requests
from supervision.choices import ReportState, RequestKind
from supervision.models import PeriodReport
from tasks.models import Milestone
from tests.fixtures.tasks import make_task
from workdays.choices import DayKind
from workdays.models import CalendarDay
from workplans.choices import ReportingCycle

pytestmark = pytest.mark.django_db
D = datetime.date


@pytest.fixture
def autumn_2026(db):
    holidays = [D(2026, 9, 25), D(2026, 9, 26), D(2026, 9, 27)] + [D(2026, 10, d) for d in range(1, 8)]
    for day in holidays:
        CalendarDay.objects.create(date=day, kind=DayKind.HOLIDAY, name="国庆节")
    for day in (D(2026, 9, 20), D(2026, 10, 10)):
        CalendarDay.objects.create(date=day, kind=DayKind.WORKDAY, name="国庆节")


@pytest.fixture
def quarterly_plan(plan, staff_a):
    plan.reporting_cycle = ReportingCycle.QUARTERLY
    plan.report_due_day = 25
    plan.save()
    return plan


def _reported(task, author, start, end):
    """The cycle's report sent, so the ladder's report rule stays quiet for it."""
    PeriodReport.objects.create(
        task=task,
        period_start=start,
        period_end=end,
        period_label="季度",
        due_on=end,
        state=ReportState.ACCEPTED,
        author=author,
    )


def _task(plan, section, agency_a, agency_b, staff_a, number, due_on, percent):
    task = make_task(
        plan, section, number, lead=agency_a, co_owners=[agency_b], due_on=due_on, percent=percent, status="in_progress"
    )
    _reported(task, staff_a, D(2026, 7, 1), D(2026, 9, 30))
    _reported(task, staff_a, D(2026, 10, 1), D(2026, 12, 31))
    return task


def _open(task):
    return list(Notice.objects.open().filter(task=task).values_list("level", flat=True))


@pytest.fixture
def committed(django_capture_on_commit_callbacks):
    """What waits for the commit (the close-out closing notices, the messages) runs at the
    end of each block, as it would once its transaction commits."""
    return lambda: django_capture_on_commit_callbacks(execute=True)


@pytest.fixture
def run(committed):
    def go(day):
        with committed():
            return ladder.run(day)

    return go


def test_a_year_of_autumn_on_the_ladder(
    run, committed, autumn_2026, quarterly_plan, section, agency_a, agency_b, staff_a, supervisor, leader
):
    plan = quarterly_plan
    slipping = _task(plan, section, agency_a, agency_b, staff_a, "1", D(2026, 9, 29), 70)
    milestone_task = _task(plan, section, agency_a, agency_b, staff_a, "2", D(2026, 12, 31), 75)
    Milestone.objects.create(task=milestone_task, due_on=D(2026, 10, 12), text="完成中期评估")
    delayed = _task(plan, section, agency_a, agency_b, staff_a, "3", D(2026, 9, 30), 70)
    far_behind = _task(plan, section, agency_a, agency_b, staff_a, "4", D(2026, 12, 31), 60)
    calm = _task(plan, section, agency_a, agency_b, staff_a, "5", D(2026, 12, 31), 90)

    # Thu 09-24: due within 3 working days (09-28, 09-29, 09-30) and below 80 %: blue.
    # Task 4 is 14 points behind the year's pace (73 %): nothing yet.
    result = run(D(2026, 9, 24))
    assert result.issued == {"blue": 2, "yellow": 0, "red": 0}
    blue = Notice.objects.get(task=slipping)
    assert blue.level == Level.BLUE and blue.origin == Origin.RULE and blue.causes == [Cause.DUE_SOON]
    assert blue.number == "督办〔2026〕1号" and blue.agency == agency_a
    assert list(blue.copied_to.all()) == [agency_b]
    # 5 working days, the holiday skipped: 09-28, 09-29, 09-30, 10-08, 10-09.
    assert blue.reply_due_on == D(2026, 10, 9)
    assert "70%" in blue.facts
    # Again the same morning: nothing more.
    assert run(D(2026, 9, 24)).total == 0

    # The delay for task 3 is approved on 09-28 (to 11-30), and the office holds its
    # ladder until the end of October.
    request = requests.file_request(
        delayed.pk,
        staff_a,
        kind=RequestKind.DELAY,
        reason="等待设备到货",
        proposed_due_on=D(2026, 11, 30),
        today=D(2026, 9, 28),
    )
    while request.state not in ("approved", "rejected"):
        decider = supervisor if request.state == "pending_supervisor" else leader
        request = requests.decide_request(
            request.pk, decider, version=request.version, approve=True, today=D(2026, 9, 28)
        )
    assert request.state == "approved"
    holds.hold(delayed.pk, supervisor, reason="延期已批准，待新时限", until=D(2026, 10, 31), today=D(2026, 9, 28))

    # Wed 09-30: task 1 is overdue: yellow, and its blue is superseded.
    result = run(D(2026, 9, 30))
    assert result.issued == {"blue": 0, "yellow": 1, "red": 0}
    blue.refresh_from_db()
    yellow = Notice.objects.get(task=slipping, level=Level.YELLOW)
    assert blue.state == NoticeState.SUPERSEDED and blue.superseded_by == yellow
    superseded = AuditEvent.objects.get(
        object_type="escalation.notice", object_id=str(blue.pk), detail__action="supersede"
    )
    assert superseded.detail["after"] == {"state": "superseded", "version": 2, "superseded_by": yellow.number}
    assert yellow.number == "督办〔2026〕3号"
    assert yellow.reply_due_on == D(2026, 10, 10)  # 10-08, 10-09, the make-up Saturday
    assert Notice.objects.filter(task=delayed).get().state == NoticeState.ISSUED  # its blue, still open

    # The holiday: the job does nothing.
    assert escalate("2026-10-03") == {"day": "2026-10-03", "skipped": True}

    # Fri 10-09: task 2's milestone is due within 3 working days (10-10, 10-12, 10-13).
    result = run(D(2026, 10, 9))
    assert result.issued == {"blue": 1, "yellow": 0, "red": 0}
    milestone_blue = Notice.objects.get(task=milestone_task)
    assert milestone_blue.causes == [Cause.MILESTONE_DUE_SOON] and "完成中期评估" in milestone_blue.facts
    assert milestone_blue.reply_due_on == D(2026, 10, 15)  # 10-10 (worked), 10-12 … 10-15

    # Task 4's figure is corrected down to 35 %.
    type(far_behind).objects.filter(pk=far_behind.pk).update(percent=35)

    # Mon 10-12: task 1's yellow went unanswered past 10-10: red. Task 3's blue is past its
    # deadline too, but its ladder is held. Task 4 is now 44 points behind (pace 78 %): red at once.
    result = run(D(2026, 10, 12))
    assert result.issued == {"blue": 0, "yellow": 0, "red": 2}
    red = Notice.objects.get(task=slipping, level=Level.RED)
    assert red.causes == [Cause.IGNORED] and yellow.number in red.facts
    assert _open(slipping) == [Level.RED]
    assert _open(delayed) == [Level.BLUE]
    assert _open(far_behind) == [Level.RED]
    assert Notice.objects.get(task=far_behind).causes == [Cause.BEHIND]
    # The red recorded the yellow cause beside it: no yellow follows when the red closes.
    assert RuleCause.objects.filter(task=far_behind, level=Level.YELLOW, key="behind:2026").exists()

    # Task 2's staff acknowledge and answer the blue in time; the office closes it.
    milestone_blue = notices.acknowledge(milestone_blue.pk, staff_a, version=milestone_blue.version)
    milestone_blue = notices.answer(
        milestone_blue.pk, staff_a, version=milestone_blue.version, text="评估已启动", today=D(2026, 10, 14)
    )
    notices.decide(milestone_blue.pk, supervisor, Action.CLOSE, version=milestone_blue.version, comment="同意办结")
    # Fri 10-16: task 2's answered blue does not climb; task 4 is not issued again.
    assert run(D(2026, 10, 16)).total == 0

    # Task 4 is finished and closed out: its red closes with it.
    far_behind.refresh_from_db()
    close_out = closeout.request_close_out(far_behind.pk, staff_a, task_version=far_behind.version, summary="已完成")
    with committed():
        closeout.decide_close_out(
            close_out.pk,
            supervisor,
            version=close_out.version,
            approve=True,
            evidence_checked=True,
            milestones_checked=True,
            indicators_checked=True,
        )
    assert _open(far_behind) == []
    closed = Notice.objects.get(task=far_behind)
    assert closed.state == NoticeState.CLOSED
    assert Step.objects.filter(notice=closed, action=Action.CLOSE, actor__isnull=True).count() == 1

    # Mon 11-02: task 3's hold has lapsed and its blue is still unanswered: yellow.
    result = run(D(2026, 11, 2))
    assert result.issued["yellow"] == 1
    assert _open(delayed) == [Level.YELLOW]
    assert _open(calm) == []

    # Numbers ran without gaps, in the order issued.
    numbers = list(Notice.objects.order_by("seq").values_list("seq", flat=True))
    assert numbers == list(range(1, len(numbers) + 1))


def test_the_addressees_are_told_once_per_notice(
    run, autumn_2026, quarterly_plan, section, agency_a, agency_b, staff_a, staff_b, supervisor
):
    _task(quarterly_plan, section, agency_a, agency_b, staff_a, "1", D(2026, 9, 29), 70)
    run(D(2026, 9, 24))
    run(D(2026, 9, 24))
    inbox = Delivery.objects.filter(rule=Rule.ESCALATION, channel="inbox")
    # The lead's staff, and the co-owner's staff (copied).
    assert sorted(inbox.values_list("recipient__username", flat=True)) == sorted([staff_a.username, staff_b.username])


def test_a_notice_by_hand_is_not_repeated_by_the_ladder(
    run, autumn_2026, quarterly_plan, section, agency_a, agency_b, staff_a, supervisor
):
    from escalation.by_hand import issue_by_hand

    task = _task(quarterly_plan, section, agency_a, agency_b, staff_a, "1", D(2026, 9, 29), 70)
    notice = issue_by_hand(task.pk, supervisor, level=Level.YELLOW, requirements="请说明滞后原因", today=D(2026, 9, 30))
    assert notice.origin == Origin.HAND and notice.issued_by == supervisor
    assert notice.wants_evidence and not notice.wants_plan
    # The office closes it (after a talk on the phone, say): nothing is left open.
    notices.decide(notice.pk, supervisor, Action.CLOSE, version=notice.version)
    assert not notices.open_notices(task.pk).exists()
    # The next morning the task is still overdue: the hand notice covered that cause.
    assert run(D(2026, 10, 8)).total == 0


def test_the_command_runs_the_ladder_on_working_days_only(
    autumn_2026, quarterly_plan, section, agency_a, agency_b, staff_a
):
    from io import StringIO

    from django.core.management import call_command

    _task(quarterly_plan, section, agency_a, agency_b, staff_a, "1", D(2026, 9, 29), 70)
    out = StringIO()
    call_command("escalate", day="2026-10-03", stdout=out)
    assert "不是工作日" in out.getvalue() and not Notice.objects.exists()
    call_command("escalate", day="2026-09-24", stdout=out)
    assert "蓝色 1" in out.getvalue() and Notice.objects.count() == 1
    call_command("escalate", day="2026-09-24", stdout=out)
    assert Notice.objects.count() == 1
