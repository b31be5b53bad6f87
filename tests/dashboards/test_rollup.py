"""The daily rollup: the snapshot figures per plan, section and owner agency, written once per day."""

import datetime
import io
import threading
import types
from decimal import Decimal

import pytest
from django.core.management import CommandError, call_command
from django.db import connection, connections

from dashboards.models import Snapshot, SnapshotScope
from dashboards.rollup import figures_query, rollup_day
from imports.choices import ImportStatus
from imports.models import PlanImport
from indicators.models import Indicator, Reading
from tasks.choices import TaskStatus
from tasks.models import ProgressUpdate, Task
from tests.conftest import make_task
from workplans.choices import PlanStatus, ReportingCycle
from workplans.models import Plan, Section

pytestmark = pytest.mark.django_db

DAY = datetime.date(2026, 6, 15)
FIGURES = (
    "tasks",
    "not_started",
    "in_progress",
    "done",
    "lagging",
    "on_hold",
    "closed",
    "overdue",
    "at_risk",
    "mean_percent",
    "indicators",
    "indicators_met",
    "indicators_missed",
    "report_due",
    "reported",
)


def local(*args) -> datetime.datetime:
    from django.utils import timezone

    return timezone.make_aware(datetime.datetime(*args))  # noqa: DTZ001 - made aware here, in the site's zone


def report(task, author, at):
    """A progress update at `at` that leaves the task's status and percent as they are."""
    ProgressUpdate(task=task, author=author, status=task.status, percent=task.percent, created_at=at).save()


def read(indicator, reporter, as_of, value):
    return Reading.objects.create(indicator=indicator, value=Decimal(value), as_of=as_of, reporter=reporter)


def figures_of(snapshot) -> dict:
    return {field: getattr(snapshot, field) for field in FIGURES}


def expected(**figures) -> dict:
    base = dict.fromkeys(FIGURES, 0)
    base["mean_percent"] = Decimal("0.00")
    return base | figures


@pytest.fixture(autouse=True)
def risk_policy(settings):
    # The policy these figures were worked out with: amber below the year's pace by 20 points,
    # or due within 14 days below 80%. On 2026-06-15 the pace is 45.3%, so amber below 26%.
    settings.RISK_POLICY = {"pace_gap_points": 20, "due_soon_days": 14, "due_soon_min_percent": 80}


@pytest.fixture
def city(plan, section, agency_a, agency_b, staff_a, commission):
    """A monthly plan worked out by hand for 2026-06-15, a quarterly one, an archived one and a draft."""
    sub = Section.objects.create(plan=plan, label="二", title="织牢公共卫生网底")
    subsub = Section.objects.create(plan=plan, parent=sub, label="(一)", title="传染病防控")
    year_end = datetime.date(2026, 12, 31)
    t = types.SimpleNamespace(plan=plan, section=section, sub=sub, subsub=subsub, a=agency_a, b=agency_b)
    # Green, reported on 10 June; led by A with B as co-owner, so it counts in both agencies' rows.
    t.t1 = make_task(
        plan,
        section,
        "1",
        lead=agency_a,
        co_owners=[agency_b],
        status=TaskStatus.IN_PROGRESS,
        percent=50,
        due_on=year_end,
    )
    # Amber (0% against a 45% pace); its last report was in May, 23:30 on the 31st local time.
    t.t2 = make_task(plan, section, "2", lead=agency_a, due_on=year_end)
    # Red and overdue; reported on 10 June, then again after the day (the update log decides).
    t.t3 = make_task(
        plan, section, "3", lead=agency_b, status=TaskStatus.IN_PROGRESS, percent=30, due_on=datetime.date(2026, 6, 1)
    )
    # Red because lagging, not overdue; only reported ten minutes after the day ended.
    t.t4 = make_task(plan, subsub, "1", lead=agency_a, status=TaskStatus.LAGGING, percent=10, due_on=year_end)
    # Done: past its due date but not overdue, and owes no report.
    t.t5 = make_task(
        plan, subsub, "2", lead=agency_b, status=TaskStatus.DONE, percent=100, due_on=datetime.date(2026, 3, 31)
    )
    # On hold and due in five days at 40%: amber. Reported at 23:50 on the day. In no section.
    t.t6 = make_task(
        plan, None, "7", lead=agency_a, status=TaskStatus.ON_HOLD, percent=40, due_on=datetime.date(2026, 6, 20)
    )
    # Green, no owner, no section, never reported.
    t.t7 = make_task(plan, None, "8", status=TaskStatus.IN_PROGRESS, percent=60, due_on=year_end)

    report(t.t1, staff_a, local(2026, 6, 10, 10, 0))
    report(t.t2, staff_a, local(2026, 5, 31, 23, 30))
    report(t.t3, staff_a, local(2026, 6, 10, 9, 0))
    report(t.t3, staff_a, local(2026, 6, 20, 9, 0))
    report(t.t4, staff_a, local(2026, 6, 16, 0, 10))
    report(t.t5, staff_a, local(2026, 6, 2, 9, 0))
    report(t.t6, staff_a, local(2026, 6, 15, 23, 50))

    # Indicators, judged by the latest reading with as_of <= the day.
    i1 = Indicator.objects.create(plan=plan, task=t.t1, name="预约诊疗率", comparator=">=", target=60, unit="%")
    read(i1, staff_a, datetime.date(2026, 5, 1), "70")
    read(i1, staff_a, datetime.date(2026, 6, 1), "55")  # latest by the day: missed
    read(i1, staff_a, datetime.date(2026, 6, 20), "80")  # after the day: not seen
    i2 = Indicator.objects.create(plan=plan, task=t.t1, name="孕产妇死亡率", comparator="<=", target=8)
    read(i2, staff_a, datetime.date(2026, 6, 1), "6.8")  # at most 8: met
    i3 = Indicator.objects.create(plan=plan, task=t.t4, name="达标率", comparator="=", target=100, unit="%")
    read(i3, staff_a, datetime.date(2026, 6, 10), "90")
    read(i3, staff_a, datetime.date(2026, 6, 10), "100")  # same day, later row wins: met
    Indicator.objects.create(plan=plan, task=t.t5, name="医疗集团", comparator=">=", target=3)  # never reported
    i5 = Indicator.objects.create(plan=plan, task=t.t6, name="等候时间", comparator="<=", target=5)
    read(i5, staff_a, datetime.date(2026, 6, 20), "4")  # only after the day: unreported on the day
    i6 = Indicator.objects.create(plan=plan, task=t.t7, name="平台", comparator=">=", target=1)
    read(i6, staff_a, datetime.date(2026, 6, 1), "2")  # met

    # A quarterly plan: a report on 2 April is inside Q2, which contains 15 June.
    t.quarterly = Plan.objects.create(
        title="2026年基层卫生工作要点",
        year=2026,
        issuer=commission,
        status=PlanStatus.ACTIVE,
        reporting_cycle=ReportingCycle.QUARTERLY,
    )
    t.q1 = make_task(t.quarterly, None, "1", lead=agency_a, status=TaskStatus.IN_PROGRESS, percent=50, due_on=year_end)
    report(t.q1, staff_a, local(2026, 4, 2, 9, 0))

    t.archived = Plan.objects.create(title="2025年工作要点", year=2025, issuer=commission, status=PlanStatus.ARCHIVED)
    make_task(
        t.archived,
        None,
        "1",
        lead=agency_a,
        status=TaskStatus.IN_PROGRESS,
        percent=70,
        due_on=datetime.date(2025, 12, 31),
    )
    t.draft = Plan.objects.create(title="2026年草稿", year=2026, issuer=commission)
    make_task(t.draft, None, "1", lead=agency_a, due_on=year_end)
    return t


def snapshot(day=DAY, **where):
    return Snapshot.objects.get(day=day, **where)


# --- The figures ---------------------------------------------------------------------------


def test_it_writes_the_figures_of_a_plan_its_sections_and_its_agencies(city):
    # given the plans worked out by hand
    # when the day is rolled up
    written = rollup_day(DAY)

    # then the monthly plan has its row, two section rows and two agency rows; the quarterly plan
    # one row and one agency row; the archived plan and the draft none
    assert written == 7 == Snapshot.objects.filter(day=DAY).count()
    assert set(Snapshot.objects.values_list("plan_id", flat=True)) == {city.plan.pk, city.quarterly.pk}

    # and the plan row counts every task, sectioned or not, owned or not
    assert figures_of(snapshot(scope=SnapshotScope.PLAN, plan=city.plan)) == expected(
        tasks=7,
        not_started=1,
        in_progress=3,
        done=1,
        lagging=1,
        on_hold=1,
        overdue=1,
        at_risk=2,
        mean_percent=Decimal("41.43"),
        indicators=6,
        indicators_met=3,
        indicators_missed=1,
        report_due=6,
        reported=3,
    )

    # and a section row counts the tasks directly in it; a section with none has no row
    assert figures_of(snapshot(scope=SnapshotScope.SECTION, section=city.section)) == expected(
        tasks=3,
        not_started=1,
        in_progress=2,
        overdue=1,
        at_risk=1,
        mean_percent=Decimal("26.67"),
        indicators=2,
        indicators_met=1,
        indicators_missed=1,
        report_due=3,
        reported=2,
    )
    assert figures_of(snapshot(scope=SnapshotScope.SECTION, section=city.subsub)) == expected(
        tasks=2,
        done=1,
        lagging=1,
        mean_percent=Decimal("55.00"),
        indicators=2,
        indicators_met=1,
        report_due=1,
        reported=0,
    )
    assert not Snapshot.objects.filter(section=city.sub).exists()

    # and task 1, led by A with B co-owning, counts in both agencies' rows
    assert figures_of(snapshot(scope=SnapshotScope.AGENCY, plan=city.plan, agency=city.a)) == expected(
        tasks=4,
        not_started=1,
        in_progress=1,
        lagging=1,
        on_hold=1,
        at_risk=2,
        mean_percent=Decimal("25.00"),
        indicators=4,
        indicators_met=2,
        indicators_missed=1,
        report_due=4,
        reported=2,
    )
    assert figures_of(snapshot(scope=SnapshotScope.AGENCY, plan=city.plan, agency=city.b)) == expected(
        tasks=3,
        in_progress=2,
        done=1,
        overdue=1,
        mean_percent=Decimal("60.00"),
        indicators=3,
        indicators_met=1,
        indicators_missed=1,
        report_due=2,
        reported=2,
    )

    # and the quarterly plan's April report counts for the quarter containing the day
    assert figures_of(snapshot(scope=SnapshotScope.PLAN, plan=city.quarterly)) == expected(
        tasks=1,
        in_progress=1,
        mean_percent=Decimal("50.00"),
        report_due=1,
        reported=1,
    )
    assert snapshot(scope=SnapshotScope.AGENCY, plan=city.quarterly).agency == city.a


def test_it_writes_a_plan_row_for_a_plan_with_no_tasks(plan):
    # given an active plan with nothing in it yet
    # when
    written = rollup_day(DAY)
    # then its history still gets the day
    assert written == 1
    assert figures_of(snapshot(scope=SnapshotScope.PLAN, plan=plan)) == expected()


def test_it_rolls_up_an_archived_plan_when_named_but_never_a_draft(city):
    # given
    # when the archived plan and the draft are named
    written = rollup_day(DAY, plan_ids=[city.archived.pk, city.draft.pk])
    # then only the archived plan is written; it owes no reports, being no longer active
    assert written == 2
    row = snapshot(scope=SnapshotScope.PLAN)
    assert row.plan == city.archived
    assert figures_of(row) == expected(tasks=1, in_progress=1, mean_percent=Decimal("70.00"), overdue=1)


def test_it_gives_the_live_dashboard_the_same_figures(city):
    # given the rollup of the day
    rollup_day(DAY)
    # when the same figures are computed live over the plan's tasks, and over agency A's
    whole = figures_query(Task.objects.filter(plan=city.plan), DAY)
    owned = figures_query(Task.objects.owned_by({city.a.pk}).active().filter(plan=city.plan), DAY)
    # then they are what the snapshots hold
    assert whole == figures_of(snapshot(scope=SnapshotScope.PLAN, plan=city.plan))
    assert owned == figures_of(snapshot(scope=SnapshotScope.AGENCY, plan=city.plan, agency=city.a))


# --- Once per day --------------------------------------------------------------------------


def rows(day=DAY):
    return sorted(
        (s.scope, s.plan_id, s.section_id, s.agency_id, tuple(figures_of(s).values()))
        for s in Snapshot.objects.filter(day=day)
    )


def test_it_replaces_a_days_rows_when_run_again(city):
    # given the day rolled up once
    rollup_day(DAY)
    first = rows()
    # when it is rolled up again
    written = rollup_day(DAY)
    # then there is still one set of rows, with the same figures
    assert written == 7 == Snapshot.objects.count()
    assert rows() == first


def test_it_adds_another_days_rows_and_replaces_only_the_plans_named(city):
    # given
    rollup_day(DAY)
    # when the next day is rolled up, then the quarterly plan alone on the first day
    rollup_day(DAY + datetime.timedelta(days=1))
    rollup_day(DAY, plan_ids=[city.quarterly.pk])
    # then each day has its own set
    assert Snapshot.objects.filter(day=DAY).count() == 7
    assert Snapshot.objects.filter(day=DAY + datetime.timedelta(days=1)).count() == 7
    # and on the next day task 4's report (16 June, 00:10) counts, and task 6 (due the 20th) is still amber
    next_day = snapshot(day=DAY + datetime.timedelta(days=1), scope=SnapshotScope.PLAN, plan=city.plan)
    assert (next_day.reported, next_day.overdue, next_day.at_risk) == (4, 1, 2)


@pytest.mark.django_db(transaction=True)
def test_it_leaves_one_set_of_rows_when_two_runs_race(city):
    if connection.vendor != "postgresql":
        pytest.skip("row locks are a PostgreSQL matter; SQLite runs one writer at a time")
    # given two workers about to roll up the same day
    barrier = threading.Barrier(2)
    errors, written = [], []

    def run():
        try:
            barrier.wait(timeout=10)
            written.append(rollup_day(DAY))
        except Exception as exc:
            errors.append(exc)
        finally:
            connections.close_all()

    # when they run at once
    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    # then neither fails, and one set of rows is left
    assert errors == []
    assert written == [7, 7]
    assert Snapshot.objects.filter(day=DAY).count() == 7


# --- A bounded number of queries -------------------------------------------------------------


def build_plans(count, commission, agencies, reporter):
    for n in range(count):
        plan = Plan.objects.create(title=f"计划{n}", year=2026, issuer=commission, status=PlanStatus.ACTIVE)
        sections = [Section.objects.create(plan=plan, label=label) for label in ("一", "二")]
        for k in range(4):
            task = make_task(
                plan,
                sections[k % 2],
                str(k + 1),
                lead=agencies[k % 2],
                co_owners=[agencies[(k + 1) % 2]],
                status=TaskStatus.IN_PROGRESS,
                percent=10 * k,
                due_on=DAY + datetime.timedelta(days=10 * k - 10),
            )
            report(task, reporter, local(2026, 6, 2 + k, 9, 0))
            indicator = Indicator.objects.create(plan=plan, task=task, name=f"指标{k}", target=k)
            read(indicator, reporter, datetime.date(2026, 6, 1), str(k + 1))


@pytest.mark.parametrize("plans", [2, 20])
def test_it_runs_the_same_number_of_queries_for_2_plans_as_for_20(
    plans, commission, agency_a, agency_b, staff_a, django_assert_max_num_queries
):
    # given
    build_plans(plans, commission, [agency_a, agency_b], staff_a)
    # when / then: a savepoint and its release, the plans, two task aggregates, the indicators,
    # their owners, one delete, and the inserts: one on PostgreSQL (2,000 rows a batch), up to
    # three here on SQLite, where Django caps an INSERT at 999 parameters (49 snapshot rows);
    # then the trend points: two sums over the day's snapshots, one delete, one insert
    with django_assert_max_num_queries(15):
        written = rollup_day(DAY)
    assert written == plans * (1 + 2 + 2)


# --- After an import, and by hand --------------------------------------------------------------


def test_it_rolls_up_a_plan_as_soon_as_its_import_is_confirmed(
    agency_a, agency_b, outside_agency, admin_user, settings, tmp_path, django_capture_on_commit_callbacks
):
    from django.utils import timezone

    from imports.services.flow import confirm_import
    from tests.imports.test_service import auto_mapping, make_document

    # given a parsed import
    settings.MEDIA_ROOT = tmp_path
    doc = make_document()
    plan_import = PlanImport.objects.create(
        file="imports/要点.txt", original_name="要点.txt", sha256="b" * 64, status=ImportStatus.PARSED, document=doc
    )
    # when the admin confirms it as an active plan
    with django_capture_on_commit_callbacks(execute=True):
        result = confirm_import(plan_import, user=admin_user, mapping=auto_mapping(doc), activate=True)
    # then today's snapshots of the new plan are written: the plan, its two sections with tasks,
    # and its four owner agencies
    today = Snapshot.objects.filter(day=timezone.localdate(), plan=result.plan)
    assert today.get(scope=SnapshotScope.PLAN).tasks == 4
    assert today.filter(scope=SnapshotScope.SECTION).count() == 2
    assert today.filter(scope=SnapshotScope.AGENCY).count() == 4
    assert today.get(scope=SnapshotScope.PLAN).indicators == 4


def test_it_is_run_by_hand_with_a_day_and_plans(city):
    # given
    out = io.StringIO()
    # when
    call_command("rollup_snapshots", "--day", "2026-06-15", "--plan", str(city.plan.pk), stdout=out)
    # then
    assert Snapshot.objects.filter(day=DAY).count() == 5
    assert f"计划 {city.plan.pk}" in out.getvalue() and "2026-06-15" in out.getvalue() and "5 行" in out.getvalue()


def test_it_refuses_a_bad_day_and_an_unknown_plan_in_chinese(city):
    # given / when / then
    with pytest.raises(CommandError, match="日期“2026-13-01”无效"):
        call_command("rollup_snapshots", "--day", "2026-13-01")
    with pytest.raises(CommandError, match="计划 999999 不存在"):
        call_command("rollup_snapshots", "--plan", "999999")
    with pytest.raises(CommandError, match="草稿"):
        call_command("rollup_snapshots", "--plan", str(city.draft.pk))
    assert not Snapshot.objects.exists()


def test_it_sums_the_days_snapshots_into_trend_points(plan, other_plan, agency_a, agency_b, staff_a):
    import datetime as dt

    from dashboards.models import TrendPoint
    from dashboards.rollup import rollup_day
    from tests.conftest import make_task

    # given two plans of different years, with agency A in both
    make_task(plan, None, "1", lead=agency_a, co_owners=[agency_b])
    make_task(plan, None, "2", lead=agency_a, status="done", percent=100)
    make_task(other_plan, None, "1", lead=agency_a)
    day = dt.date(2026, 11, 24)
    # when the day is rolled up twice, the second time for one plan only
    rollup_day(day)
    rollup_day(day, plan_ids=[plan.pk])
    # then each year has one point per agency and one total, summed over the year's plans
    points = {(p.year, p.agency_id): (p.tasks, p.done, p.weighted_percent) for p in TrendPoint.objects.filter(day=day)}
    assert points == {
        (2026, agency_a.pk): (2, 1, 100),
        (2026, agency_b.pk): (1, 0, 0),
        (2026, None): (2, 1, 100),
        (2025, agency_a.pk): (1, 0, 0),
        (2025, None): (1, 0, 0),
    }


def test_beat_runs_the_rollup_nightly_for_the_day_that_ended(plan, agency_a):
    import datetime as dt

    import time_machine
    from celery import current_app
    from django.conf import settings

    from dashboards.jobs import rollup_snapshots
    from dashboards.models import Snapshot
    from tests.conftest import make_task

    # given the beat entry: the registered job, after midnight, with an expiry so missed runs do not pile up
    entry = settings.CELERY_BEAT_SCHEDULE["rollup-snapshots"]
    assert entry["task"] == rollup_snapshots.name and entry["task"] in current_app.tasks
    assert entry["schedule"].hour == {0} and entry["options"]["expires"] > 0
    make_task(plan, None, "1", lead=agency_a)
    # when it runs at 00:20 Shanghai time on 25 November
    with time_machine.travel(dt.datetime(2026, 11, 24, 16, 20, tzinfo=dt.UTC), tick=False):
        written = rollup_snapshots.delay().get()
    # then it wrote the snapshots of the 24th
    assert written > 0
    assert set(Snapshot.objects.values_list("day", flat=True)) == {dt.date(2026, 11, 24)}
