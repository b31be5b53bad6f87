"""`manage.py import_plan FILE`: import from the shell, owners mapped automatically."""

import pytest
from django.core.management import CommandError, call_command

from accounts.models import Agency
from tasks.choices import OwnerRole, TaskStatus
from tasks.models import ProgressUpdate, Task, TaskOwner
from workplans.choices import PlanStatus
from workplans.models import Plan

pytestmark = pytest.mark.django_db

PLAN = """2026年测试市卫生健康工作要点

一、提升医疗服务能力
1.推进城市医疗集团建设。年内组建3个城市医疗集团，6月底前完成集团章程制定。（医政医管处、市医疗保障局）
2.改善就医体验。二级以上公立医院预约诊疗率达到60%以上。（醫政醫管處）
二、织牢公共卫生网底
3.完善传染病监测预警。三季度末前上线多点触发监测平台。（疾病预防控制处、市衛生健康委）
"""


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def agencies(commission, agency_a, agency_b, outside_agency):
    return {"commission": commission, "a": agency_a, "b": agency_b, "outside": outside_agency}


@pytest.fixture
def plan_file(tmp_path):
    path = tmp_path / "2026要点.txt"
    path.write_text(PLAN, encoding="utf-8")
    return path


def run(*args):
    from io import StringIO

    out = StringIO()
    call_command("import_plan", *[str(a) for a in args], stdout=out)
    return out.getvalue()


def test_it_imports_a_file_with_owners_mapped_automatically(agencies, plan_file):
    # when
    out = run(plan_file)
    # then
    plan = Plan.objects.get()
    assert "已导入计划“2026年测试市卫生健康工作要点”" in out and "3项任务" in out
    assert plan.status == PlanStatus.DRAFT and plan.source_file.name.endswith(".txt")
    assert plan.source_file.read().decode("utf-8") == PLAN
    task1 = plan.tasks.get(number="1")
    assert [(o.agency, o.role) for o in task1.task_owners.order_by("order")] == [
        (agencies["a"], OwnerRole.LEAD),
        (agencies["outside"], OwnerRole.CO_OWNER),
    ]
    assert plan.tasks.get(number="2").lead_agency == agencies["a"]  # written in traditional script
    # the loose matches are listed for a check
    assert "市医疗保障局 → 测试市医疗保障局" in out


def test_it_records_the_import_in_the_audit_trail_once(agencies, plan_file):
    from audit.choices import EventType
    from audit.models import AuditEvent

    # when the same file is imported twice from the shell
    run(plan_file)
    run(plan_file)
    # then the audit trail has one 导入 event, naming the plan, the file and the command
    (event,) = AuditEvent.objects.filter(event_type=EventType.IMPORT)
    assert event.object_id == str(Plan.objects.get().pk)
    assert event.detail["via"] == "manage.py import_plan" and event.detail["file"] == plan_file.name
    assert event.username.startswith("manage.py (")


def test_it_can_activate_and_override_the_year(agencies, plan_file):
    run(plan_file, "--activate", "--year", "2027")
    plan = Plan.objects.get()
    assert plan.status == PlanStatus.ACTIVE and plan.year == 2027
    assert plan.tasks.first().due_on.year == 2027


def test_it_refuses_unmatched_owners_and_lists_them(agencies, tmp_path):
    path = tmp_path / "plan.txt"
    path.write_text(PLAN + "4.做好全民健身与健康融合。（市体育局、市总工会）\n", encoding="utf-8")
    with pytest.raises(CommandError) as refused:
        run(path)
    message = str(refused.value)
    assert "以下2个责任单位名称无法对应到已有单位" in message and "市体育局" in message and "市总工会" in message
    assert "--create-agencies" in message
    assert not Plan.objects.exists() and not Agency.objects.filter(name="市体育局").exists()


def test_it_creates_agencies_when_asked(agencies, tmp_path):
    path = tmp_path / "plan.txt"
    path.write_text(PLAN + "4.做好全民健身与健康融合。（市体育局、医政医管处）\n", encoding="utf-8")
    out = run(path, "--create-agencies")
    sports = Agency.objects.get(name="市体育局")
    assert "新建单位：市体育局" in out
    assert TaskOwner.objects.get(task__number="4", agency=sports).role == OwnerRole.LEAD


def test_the_same_file_twice_is_imported_once(agencies, plan_file):
    run(plan_file)
    # when
    out = run(plan_file)
    # then exit 0, a message, nothing duplicated
    assert "已导入" in out and "未重复导入" in out
    assert Plan.objects.count() == 1 and Task.objects.count() == 3


def test_a_changed_file_of_an_existing_plan_needs_update_existing(agencies, plan_file, staff_a):
    run(plan_file, "--activate")
    task1 = Task.objects.get(number="1")
    ProgressUpdate.objects.create(task=task1, author=staff_a, status=TaskStatus.IN_PROGRESS, percent=50)
    plan_file.write_text(PLAN.replace("2.改善就医体验", "2.持续改善就医体验"), encoding="utf-8")
    # when run without the flag
    with pytest.raises(CommandError) as refused:
        run(plan_file)
    assert "--update-existing" in str(refused.value)
    # when run with it
    out = run(plan_file, "--update-existing")
    # then the diff is printed and applied, progress kept
    assert "修改：2. 改善就医体验（任务摘要、任务全文）" in out and "已更新计划" in out
    task1.refresh_from_db()
    assert task1.percent == 50 and Plan.objects.count() == 1


def test_a_file_the_parser_cannot_read_is_refused_in_chinese(agencies, tmp_path):
    path = tmp_path / "bad.docx"
    path.write_bytes(b"not a docx")
    with pytest.raises(CommandError) as refused:
        run(path)
    assert str(refused.value).startswith("解析失败：")
    assert not Plan.objects.exists()


def test_a_missing_file_is_refused_in_chinese(tmp_path):
    with pytest.raises(CommandError, match="无法读取文件"):
        run(tmp_path / "nope.txt")
