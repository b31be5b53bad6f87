"""The year the scenario test and the page tests score: three agencies, a quarterly plan of
2026, and known events (see test_scenario.py for what each is worth)."""

import dataclasses
import datetime
from decimal import Decimal

from django.utils import timezone

from accounts.models import Agency
from assessment import services
from assessment.choices import SchemeState
from escalation.choices import Level, NoticeState, Origin
from escalation.models import Notice
from indicators.choices import Comparator
from indicators.models import Indicator, Reading
from supervision.choices import Action, CloseOutState, ReportState, RequestKind, RequestState
from supervision.models import ChangeRequest, CloseOut, PeriodReport, ReportRevision, Transition
from tasks.choices import TaskStatus
from tests.fixtures.tasks import make_task
from workplans.choices import ReportingCycle

D = datetime.date
YEAR_END = D(2026, 12, 31)


def at(day: datetime.date, hour: int = 10) -> datetime.datetime:
    return datetime.datetime(day.year, day.month, day.day, hour, tzinfo=timezone.get_current_timezone())


QUARTERS = {
    1: (D(2026, 1, 1), D(2026, 3, 31), D(2026, 3, 25), "2026年第1季度"),
    2: (D(2026, 4, 1), D(2026, 6, 30), D(2026, 6, 25), "2026年第2季度"),
    3: (D(2026, 7, 1), D(2026, 9, 30), D(2026, 9, 25), "2026年第3季度"),
    4: (D(2026, 10, 1), D(2026, 12, 31), D(2026, 12, 25), "2026年第4季度"),
}


def report(task, quarter, author, sent_on, *, late=False, state=ReportState.ACCEPTED):
    start, end, due, label = QUARTERS[quarter]
    row = PeriodReport.objects.create(
        task=task,
        period_start=start,
        period_end=end,
        period_label=label,
        due_on=due,
        state=state,
        author=author,
        revision=1,
        progress="进展",
        status=TaskStatus.IN_PROGRESS,
        percent=50,
        submitted_at=at(sent_on),
        late=late,
    )
    ReportRevision(
        report=row,
        task=task,
        number=1,
        progress="进展",
        status=TaskStatus.IN_PROGRESS,
        percent=50,
        submitted_by=author,
        submitted_at=at(sent_on),
        late=late,
    ).save()
    return row


def notice(task, agency, level, seq, issued_on, supervisor, state=NoticeState.ISSUED, **extra):
    return Notice.objects.create(
        series="督办",
        year=2026,
        seq=seq,
        number=f"督办〔2026〕{seq}号",
        level=level,
        task=task,
        agency=agency,
        origin=Origin.HAND,
        facts="情况",
        requirements="要求",
        reply_due_on=issued_on + datetime.timedelta(days=7),
        state=state,
        issued_by=supervisor,
        issued_on=issued_on,
        issued_at=at(issued_on),
        **extra,
    )


@dataclasses.dataclass
class Year:
    plan: object
    agency_a: Agency
    agency_b: Agency
    agency_c: Agency
    t1: object
    t2: object
    t3: object
    notices: dict
    scheme: object


def build_year(plan, section, agency_a, agency_b, commission, staff_a, supervisor, leader, admin_user) -> Year:
    """The year, with an active scheme at the default points and weights and one leader
    evaluation (C +1)."""
    agency_c = Agency.objects.create(name="规划发展处", parent=commission)
    plan.reporting_cycle = ReportingCycle.QUARTERLY
    plan.report_due_day = 25
    plan.issued_on = D(2026, 1, 1)
    plan.save()

    # T1: A leads, B helps; reported on time twice, closed out on time, indicator attained.
    t1 = make_task(
        plan, section, "1", lead=agency_a, co_owners=[agency_b], due_on=D(2026, 6, 30), heading="家庭医生签约"
    )
    report(t1, 1, staff_a, D(2026, 3, 20))
    report(t1, 2, staff_a, D(2026, 6, 20))
    CloseOut.objects.create(
        task=t1,
        state=CloseOutState.APPROVED,
        summary="已完成",
        submitted_by=staff_a,
        submitted_at=at(D(2026, 6, 28)),
        decided_by=supervisor,
        decided_at=at(D(2026, 7, 3)),
    )
    t1.status, t1.percent, t1.completed_on = TaskStatus.CLOSED, 100, D(2026, 6, 28)
    t1.save()
    coverage = Indicator.objects.create(plan=plan, task=t1, name="签约覆盖率", target=95, unit="%")
    Reading.objects.create(plan=plan, indicator=coverage, value=Decimal("96"), as_of=D(2026, 6, 28), reporter=staff_a)

    # T2: B leads, C helps; a delay asked in time and approved (due 6-30 → 9-30); Q1 late by
    # two working days, Q2 on time but returned by the office (and once by the unit head,
    # which scores nothing), Q3 and Q4 missing; yellow and red notices to B, a cancelled
    # blue one; still open at the year's end.
    t2 = make_task(plan, section, "2", lead=agency_b, co_owners=[agency_c], due_on=D(2026, 9, 30), heading="慢病管理")
    report(t2, 1, staff_a, D(2026, 3, 27), late=True)
    q2 = report(t2, 2, staff_a, D(2026, 6, 24), state=ReportState.RETURNED)
    Transition(
        task=t2,
        report=q2,
        action=Action.UNIT_RETURN,
        state_before=ReportState.PENDING_SIGNOFF,
        state_after=ReportState.UNIT_RETURNED,
        actor=leader,
        comment="单位审核退回",
        created_at=at(D(2026, 6, 24), 15),
    ).save()
    Transition(
        task=t2,
        report=q2,
        action=Action.RETURN,
        state_before=ReportState.PENDING_REVIEW,
        state_after=ReportState.RETURNED,
        actor=supervisor,
        comment="佐证材料不足，请补充",
        created_at=at(D(2026, 6, 26)),
    ).save()
    ChangeRequest.objects.create(
        task=t2,
        kind=RequestKind.DELAY,
        state=RequestState.APPROVED,
        steps=["supervisor"],
        reason="受疫情影响",
        current_due_on=D(2026, 6, 30),
        proposed_due_on=D(2026, 9, 30),
        approved_due_on=D(2026, 9, 30),
        filed_by=staff_a,
        filed_at=at(D(2026, 6, 1)),
        filed_late=False,
        decided_at=at(D(2026, 6, 5)),
    )
    t2.status, t2.percent = TaskStatus.LAGGING, 60
    t2.save()
    notices = {
        "yellow": notice(t2, agency_b, Level.YELLOW, 1, D(2026, 10, 15), supervisor),
        "red": notice(t2, agency_b, Level.RED, 2, D(2026, 11, 10), supervisor),
        "cancelled": notice(
            t2, agency_b, Level.BLUE, 4, D(2026, 10, 1), supervisor, state=NoticeState.CANCELLED, cancel_reason="误发"
        ),
    }

    # T3: C leads alone; all four reports on time, a delay of a step asked after its date
    # (refused), a blue notice, an indicator missed, closed out on time before Q4's due day.
    t3 = make_task(plan, section, "3", lead=agency_c, due_on=YEAR_END, heading="妇幼健康")
    for quarter, sent in ((1, D(2026, 3, 10)), (2, D(2026, 6, 10)), (3, D(2026, 9, 10)), (4, D(2026, 12, 18))):
        report(t3, quarter, staff_a, sent)
    ChangeRequest.objects.create(
        task=t3,
        kind=RequestKind.DELAY,
        state=RequestState.REJECTED,
        steps=["supervisor"],
        reason="来不及",
        current_due_on=D(2026, 3, 31),
        proposed_due_on=D(2026, 5, 31),
        filed_by=staff_a,
        filed_at=at(D(2026, 4, 2)),
        filed_late=True,
        decided_at=at(D(2026, 4, 8)),
    )
    notices["blue"] = notice(t3, agency_c, Level.BLUE, 3, D(2026, 8, 10), supervisor)
    deaths = Indicator.objects.create(
        plan=plan, task=t3, name="孕产妇死亡率", comparator=Comparator.AT_MOST, target=7, unit="1/10万"
    )
    Reading.objects.create(plan=plan, indicator=deaths, value=Decimal("8"), as_of=D(2026, 12, 1), reporter=staff_a)
    CloseOut.objects.create(
        task=t3,
        state=CloseOutState.APPROVED,
        summary="已完成",
        submitted_by=staff_a,
        submitted_at=at(D(2026, 12, 20)),
        decided_by=supervisor,
        decided_at=at(D(2026, 12, 22)),
    )
    t3.status, t3.percent, t3.completed_on = TaskStatus.CLOSED, 100, D(2026, 12, 20)
    t3.save()

    scheme = services.create_scheme(plan, admin_user)
    scheme = services.set_state(scheme.pk, admin_user, version=scheme.version, state=SchemeState.ACTIVE)
    services.add_evaluation(scheme.pk, leader, agency_id=agency_c.pk, points=Decimal("1"), reason="主动作为，成效明显")
    scheme.refresh_from_db()
    return Year(plan, agency_a, agency_b, agency_c, t1, t2, t3, notices, scheme)
