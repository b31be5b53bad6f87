"""The task's audit trail reads as who changed what, when, from where, in a bounded number of queries."""

import contextlib
import datetime
from decimal import Decimal

import pytest
from django.template.loader import render_to_string
from django.test import RequestFactory
from simple_history.models import HistoricalRecords

from core.roles import Role
from indicators.models import Indicator, Reading
from tasks.choices import OwnerRole, TaskStatus
from tasks.models import Milestone, ProgressUpdate, TaskOwner
from tests.conftest import make_task, make_user
from workbench.trail import Change, task_audit_trail

pytestmark = pytest.mark.django_db

# task, owner, milestone, indicator, reading and 责任人 snapshot records, user names, agency names.
QUERY_BOUND = 8


@contextlib.contextmanager
def acting_as(user, address="10.1.2.3"):
    """What the request middleware does for a view: simple-history and the address stamp
    read the user and the client address from the thread's current request."""
    request = RequestFactory().get("/", REMOTE_ADDR=address)
    request.user = user
    HistoricalRecords.context.request = request
    try:
        yield
    finally:
        del HistoricalRecords.context.request


def entries_about(task, subject):
    entries, _ = task_audit_trail(task)
    return [entry for entry in entries if entry.subject == subject]


def test_it_shows_a_progress_update_as_status_and_percent_changes_by_its_author(task, staff_a):
    # given
    staff_a.full_name = "张三"
    staff_a.save()
    # when
    with acting_as(staff_a, "10.1.2.3"):
        ProgressUpdate(task=task, author=staff_a, status=TaskStatus.IN_PROGRESS, percent=60, note="x").save()
    # then
    entries, more = task_audit_trail(task)
    newest = entries[0]
    assert (newest.user, newest.ip_address, newest.subject, newest.action) == ("张三", "10.1.2.3", "任务", "修改")
    assert newest.changes == [Change("状态", "未开始", "进行中"), Change("完成百分比", "0", "60")]
    assert more is False


def test_it_shows_the_creation_of_the_task_by_the_system(task):
    # when
    entries, _ = task_audit_trail(task)
    # then
    created = [entry for entry in entries if entry.subject == "任务"]
    assert len(created) == 1
    assert (created[0].user, created[0].ip_address, created[0].action) == ("系统", None, "新增")
    fields = {change.field: change.new for change in created[0].changes}
    assert fields["任务摘要"] == "任务1"
    assert fields["完成时限"] == "2026-12-31"
    assert fields["状态"] == "未开始"
    assert fields["所属部分"] == "一 提升服务能力"
    assert "任务全文" not in fields  # empty at creation
    assert not {"版本", "排序", "检索文本", "工作计划"} & set(fields)


def test_it_drops_a_record_where_only_bookkeeping_moved(task):
    # given
    before, _ = task_audit_trail(task)
    # when
    task.version += 1
    task.save(update_fields=["version", "updated_at"])
    # then
    after, _ = task_audit_trail(task)
    assert after == before


def test_it_shows_a_milestone_marked_done(task, staff_b):
    # given
    milestone = Milestone.objects.create(task=task, due_on=datetime.date(2026, 6, 30), text="6月底前完成招标")
    # when
    milestone.done_on = datetime.date(2026, 6, 28)
    with acting_as(staff_b, "10.9.9.9"):
        milestone.save()
    # then
    done, created = entries_about(task, "时间节点：6月底前完成招标")
    assert (done.action, done.user, done.ip_address) == ("修改", "staff_b", "10.9.9.9")
    assert done.changes == [Change("完成日期", "", "2026-06-28")]
    assert created.action == "新增"
    assert created.changes == [
        Change("节点日期", "", "2026-06-30"),
        Change("原定节点日期", "", "2026-06-30"),  # the baseline, kept when a delay moves the date
        Change("节点内容", "", "6月底前完成招标"),
    ]


def test_it_shows_an_indicator_target_edit_with_normalised_decimals(task):
    # given
    indicator = Indicator.objects.create(task=task, name="每千人口执业（助理）医师数", target=Decimal(3), unit="人")
    # when
    indicator.target = Decimal("3.09")
    indicator.save()
    # then
    edited, created = entries_about(task, "指标：每千人口执业（助理）医师数")
    assert edited.changes == [Change("目标值", "3", "3.09")]
    assert Change("比较方式", "", "不低于") in created.changes
    assert Change("目标值", "", "3") in created.changes


def test_it_shows_a_reading_with_its_value_and_reporter(task, staff_a):
    # given
    indicator = Indicator.objects.create(task=task, name="每千人口执业（助理）医师数", target=Decimal("3.1"))
    # when
    Reading.objects.create(
        indicator=indicator, value=Decimal("3.0900"), as_of=datetime.date(2026, 6, 30), reporter=staff_a
    )
    # then
    (reading,) = entries_about(task, "指标值：每千人口执业（助理）医师数（2026-06-30）")
    assert reading.action == "新增"
    assert reading.changes == [
        Change("数值", "", "3.09"),
        Change("统计日期", "", "2026-06-30"),
        Change("填报人", "", "staff_a"),
    ]


def test_it_leaves_out_readings_of_other_tasks(plan, section, task, staff_a):
    # given
    other = make_task(plan, section, "2")
    indicator = Indicator.objects.create(task=other, name="别的指标", target=Decimal(1))
    # when
    Reading.objects.create(indicator=indicator, value=Decimal(1), as_of=datetime.date(2026, 6, 30), reporter=staff_a)
    # then
    entries, _ = task_audit_trail(task)
    assert not [entry for entry in entries if "别的指标" in entry.subject]


def test_it_shows_an_owner_added_and_removed(task, outside_agency, admin_user):
    # when
    with acting_as(admin_user):
        owner = TaskOwner.objects.create(task=task, agency=outside_agency, role=OwnerRole.CO_OWNER, order=2)
        owner.delete()
    # then
    removed, added = entries_about(task, "责任单位：测试市医疗保障局")
    assert added.action == "新增"
    assert added.changes == [Change("单位", "", "测试市医疗保障局"), Change("角色", "", "配合")]
    assert removed.action == "删除"
    assert removed.changes == [Change("单位", "测试市医疗保障局", ""), Change("角色", "配合", "")]


def test_it_shows_changes_in_the_responsible_users_by_name(task, staff_a, staff_b, leader, admin_user):
    # given
    staff_b.full_name = "李四"
    staff_b.save()
    with acting_as(admin_user, "10.0.0.1"):
        task.responsible_users.add(staff_a, staff_b)
    # when: set() removes, then adds (two records), as the task form does
    with acting_as(leader, "10.0.0.7"):
        task.responsible_users.set([staff_b, leader])
    # then: one change each, as people made them
    changed, added = entries_about(task, "责任人")
    assert (added.user, added.changes) == ("admin", [Change("责任人", "", "staff_a、李四")])
    assert changed.changes == [Change("责任人", "staff_a、李四", "leader、李四")]
    assert (changed.user, changed.ip_address, changed.action) == ("leader", "10.0.0.7", "修改")


def test_it_shows_nothing_for_a_responsible_user_removed_and_put_back_at_once(task, staff_a):
    # given
    task.responsible_users.add(staff_a)
    # when
    task.responsible_users.remove(staff_a)
    task.responsible_users.add(staff_a)
    # then
    (added,) = entries_about(task, "责任人")
    assert added.changes == [Change("责任人", "", "staff_a")]


def test_it_lists_newest_first_and_pages_with_a_more_flag(task):
    # given: the fixture's task and two owners, then five edits
    for number in range(5):
        task.heading = f"第{number}次修改"
        task.save()
    # when
    entries, more = task_audit_trail(task)
    first, more_after_first = task_audit_trail(task, limit=3)
    second, more_after_second = task_audit_trail(task, limit=3, offset=3)
    last, more_after_last = task_audit_trail(task, limit=3, offset=6)
    # then
    assert len(entries) == 8 and more is False
    assert [entry.at for entry in entries] == sorted((entry.at for entry in entries), reverse=True)
    assert entries[0].changes == [Change("任务摘要", "第3次修改", "第4次修改")]
    assert (first, second, last) == (entries[:3], entries[3:6], entries[6:])
    assert (more_after_first, more_after_second, more_after_last) == (True, True, False)


def test_it_keeps_the_change_reason(task):
    # when
    task.due_on = datetime.date(2026, 9, 30)
    task._change_reason = "领导批示提前完成"
    task.save()
    # then
    (edited, _created) = entries_about(task, "任务")
    assert edited.reason == "领导批示提前完成"
    assert edited.changes == [Change("完成时限", "2026-12-31", "2026-09-30")]


def busy_task(plan, section, agency, number, edits):
    """A task with `edits` changes of every kind: task edits, milestones, an indicator,
    readings, owners and 责任人."""
    task = make_task(plan, section, number, lead=agency)
    task.status = TaskStatus.IN_PROGRESS  # a task not started stays at 0 %
    task.save(update_fields=["status"])
    people = [make_user(f"user{number}_{i}", Role.STAFF, agency) for i in range(3)]
    milestone = Milestone.objects.create(task=task, due_on=datetime.date(2026, 6, 30), text="节点")
    indicator = Indicator.objects.create(task=task, name=f"指标{number}", target=Decimal(1))
    for i in range(edits):
        task.percent = i % 100
        task.save(update_fields=["percent", "updated_at"])
        milestone.text = f"节点{i}"
        milestone.save()
        indicator.target = Decimal(i)
        indicator.save()
        Reading.objects.create(
            indicator=indicator, value=Decimal(i), as_of=datetime.date(2026, 1, 1), reporter=people[0]
        )
        task.responsible_users.set([people[i % 3]])
    return task


def test_it_reads_a_long_history_in_as_many_queries_as_a_short_one(
    plan, section, agency_a, django_assert_max_num_queries
):
    # given
    short = busy_task(plan, section, agency_a, "1", edits=3)
    long = busy_task(plan, section, agency_a, "2", edits=300)
    # when
    with django_assert_max_num_queries(QUERY_BOUND):
        _, short_more = task_audit_trail(short)
    with django_assert_max_num_queries(QUERY_BOUND):
        page, long_more = task_audit_trail(long, limit=50, offset=100)
    # then
    assert short_more is False and long_more is True
    # The window read for a page diffs the same as reading everything.
    everything, _ = task_audit_trail(long, limit=10_000)
    assert page == everything[100:150]


def test_it_renders_the_trail_with_labels_and_changes(task, staff_a):
    # given
    with acting_as(staff_a):
        ProgressUpdate(task=task, author=staff_a, status=TaskStatus.IN_PROGRESS, percent=60, note="x").save()
    entries, _ = task_audit_trail(task)
    # when
    html = render_to_string("tasks/_audit_trail.html", {"entries": entries})
    # then
    assert 'class="grid audit-trail cards"' in html
    for label in ("时间", "操作人", "地址", "对象", "操作", "变更"):
        assert f"<th>{label}</th>" in html
    assert "状态：未开始 → 进行中" in html
    assert "10.1.2.3" in html
    assert "style=" not in html and "<script" not in html


def test_it_renders_an_empty_trail_as_a_sentence():
    # when
    html = render_to_string("tasks/_audit_trail.html", {"entries": []})
    # then
    assert "暂无变更记录。" in html
    assert "<table" not in html
