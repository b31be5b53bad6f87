"""services.import_document: one transaction, same bytes once, new versions applied by diff."""

import copy
import datetime
import hashlib
from decimal import Decimal
from unittest import mock

import pytest

from accounts.models import Agency, AgencyAlias
from imports import services
from imports.services import CREATE_AGENCY, AgencyMatcher, ImportRefused, diff_plan, import_document
from indicators.models import Indicator, Reading
from tasks.choices import OwnerRole, TaskStatus
from tasks.models import Milestone, ProgressUpdate, Task, TaskOwner
from tests.fixtures.tasks import make_task
from workplans.choices import PlanStatus
from workplans.models import Plan, Section

pytestmark = pytest.mark.django_db

TITLE = "2026年测试市卫生健康工作要点"


def make_document(tasks=None, *, title=TITLE, year=2026):
    """A small invented plan of 测试市 (owners written as a plan would write them)."""
    return {
        "plan": {
            "title": title,
            "year": year,
            "issuer": "测试市卫生健康委员会",
            "doc_number": "测卫发〔2026〕5号",
            "issued_on": "2026-02-10",
        },
        "sections": [
            {"path": ["一"], "title": "提升医疗服务能力"},
            {"path": ["二"], "title": "织牢公共卫生网底"},
            {"path": ["二", "(一)"], "title": "传染病防控"},
        ],
        "tasks": tasks
        if tasks is not None
        else [
            {
                "section": ["一"],
                "number": "1",
                "heading": "推进城市医疗集团建设",
                "text": "推进城市医疗集团建设。年内组建3个城市医疗集团，6月底前完成集团章程。",
                "owners": ["医政医管处", "市医疗保障局"],
                "milestones": [{"due": "2026-06-30", "text": "完成集团章程"}],
                "indicators": [{"name": "城市医疗集团", "comparator": ">=", "target": 3, "unit": "个", "due": None}],
            },
            {
                "section": ["一"],
                "number": "2",
                "heading": "改善就医体验",
                "text": "改善就医体验。预约诊疗率达到60%以上。",
                "owners": ["医政医管处"],
                "milestones": [],
                "indicators": [{"name": "预约诊疗率", "comparator": ">=", "target": 60, "unit": "%", "due": None}],
            },
            {
                "section": ["二", "(一)"],
                "number": "3",
                "heading": "完善传染病监测预警",
                "text": "完善传染病监测预警。三季度末前上线监测平台。",
                "owners": ["疾病预防控制处", "市衛生健康委"],
                "milestones": [{"due": "2026-09-30", "text": "上线监测平台"}],
                "indicators": [],
            },
            {
                "section": ["二", "(一)"],
                "number": "4",
                "heading": "做好免疫规划",
                "text": "做好免疫规划。适龄儿童接种率保持在95%以上，孕产妇死亡率控制在8/10万以内。",
                "owners": ["疾病预防控制处"],
                "milestones": [],
                "indicators": [
                    {"name": "适龄儿童接种率", "comparator": ">=", "target": 95, "unit": "%", "due": None},
                    {"name": "孕产妇死亡率", "comparator": "<=", "target": 8, "unit": "1/10万", "due": "2026-12-31"},
                ],
            },
        ],
        "warnings": ["line 7: 责任单位括号不完整"],
    }


@pytest.fixture
def agencies(commission, agency_a, agency_b, outside_agency):
    return {"commission": commission, "a": agency_a, "b": agency_b, "outside": outside_agency}


def auto_mapping(doc):
    matcher = AgencyMatcher.load()
    return {name: m.agency.pk for name in services.owner_names(doc) if (m := matcher.match(name)).agency}


def test_it_writes_the_plan_sections_tasks_owners_milestones_and_indicators(agencies, admin_user):
    # given
    doc = make_document()
    # when
    result = import_document(doc, mapping=auto_mapping(doc), created_by=admin_user, sha256="a" * 64)
    # then
    plan = result.plan
    assert result.created and not result.duplicate
    assert "已导入计划" in result.message
    assert (plan.title, plan.year, plan.doc_number, plan.issued_on) == (
        TITLE,
        2026,
        "测卫发〔2026〕5号",
        datetime.date(2026, 2, 10),
    )
    assert plan.issuer == agencies["commission"]
    assert plan.status == PlanStatus.DRAFT
    assert plan.source_sha256 == "a" * 64
    sub = Section.objects.get(plan=plan, label="(一)")
    assert sub.parent.label == "二" and sub.title == "传染病防控"
    tasks = {t.number: t for t in Task.objects.filter(plan=plan)}
    assert set(tasks) == {"1", "2", "3", "4"}
    assert tasks["3"].section == sub
    assert all(t.due_on == datetime.date(2026, 12, 31) for t in tasks.values())
    owners = list(TaskOwner.objects.filter(task=tasks["1"]).order_by("order"))
    assert [(o.agency, o.role) for o in owners] == [
        (agencies["a"], OwnerRole.LEAD),
        (agencies["outside"], OwnerRole.CO_OWNER),
    ]
    assert tasks["3"].lead_agency == agencies["b"]
    assert Milestone.objects.get(task=tasks["3"]).due_on == datetime.date(2026, 9, 30)
    mortality = Indicator.objects.get(task=tasks["4"], name="孕产妇死亡率")
    assert (mortality.plan, mortality.comparator, mortality.target, mortality.unit) == (
        plan,
        "<=",
        Decimal(8),
        "1/10万",
    )
    assert mortality.due_on == datetime.date(2026, 12, 31)


def test_it_can_write_an_active_plan(agencies):
    doc = make_document()
    result = import_document(doc, mapping=auto_mapping(doc), status=PlanStatus.ACTIVE)
    assert result.plan.status == PlanStatus.ACTIVE


def test_it_keeps_an_audit_trail_of_what_it_wrote(agencies, admin_user):
    doc = make_document()
    plan = import_document(doc, mapping=auto_mapping(doc), created_by=admin_user, ip_address="10.1.2.3").plan
    task_history = Task.history.filter(plan_id=plan.pk)
    assert task_history.count() == 4
    assert {h.history_user for h in task_history} == {admin_user}
    assert {h.ip_address for h in task_history} == {"10.1.2.3"}
    assert {h.history_change_reason for h in task_history} == {"导入计划"}
    assert TaskOwner.history.filter(task_id__in=[t.pk for t in plan.tasks.all()]).count() == 6
    assert plan.history.get().history_user == admin_user


def test_it_creates_agencies_marked_create(agencies):
    # given an owner no agency matches, marked to be created, in two scripts
    doc = make_document()
    doc["tasks"][1]["owners"] = ["市中医药发展中心", "市中醫藥發展中心"]
    mapping = auto_mapping(doc) | {"市中医药发展中心": CREATE_AGENCY, "市中醫藥發展中心": CREATE_AGENCY}
    # when
    plan = import_document(doc, mapping=mapping).plan
    # then one agency, the other spelling its alias, leading the task
    created = Agency.objects.get(name="市中医药发展中心")
    assert AgencyAlias.objects.get(name="市中醫藥發展中心").agency == created
    task = plan.tasks.get(number="2")
    assert [o.agency for o in task.task_owners.all()] == [created]


def test_it_learns_an_alias_for_a_name_mapped_by_hand(agencies):
    doc = make_document()
    doc["tasks"][1]["owners"] = ["医政处"]
    mapping = auto_mapping(doc) | {"医政处": agencies["a"].pk}
    import_document(doc, mapping=mapping)
    assert AgencyAlias.objects.get(name="医政处").agency == agencies["a"]
    assert AgencyMatcher.load().match("医政处").agency == agencies["a"]


def test_it_counts_an_agency_named_twice_in_one_item_once(agencies):
    doc = make_document()
    doc["tasks"][0]["owners"] = ["医政医管处", "醫政醫管處", "市医疗保障局"]
    plan = import_document(doc, mapping=auto_mapping(doc)).plan
    owners = plan.tasks.get(number="1").task_owners.order_by("order")
    assert [o.agency for o in owners] == [agencies["a"], agencies["outside"]]


def test_it_refuses_an_owner_left_unmapped_and_writes_nothing(agencies):
    doc = make_document()
    doc["tasks"][1]["owners"] = ["市体育局"]
    with pytest.raises(ImportRefused) as refused:
        import_document(doc, mapping=auto_mapping(doc))
    assert "市体育局" in str(refused.value) and "尚未对应" in str(refused.value)
    assert not Plan.objects.exists() and not Task.objects.exists()


def test_it_refuses_duplicate_numbers_in_a_section_before_writing(agencies):
    # given two items numbered 2 under 一 (a parse of a document with a numbering slip)
    doc = make_document()
    doc["tasks"][0]["number"] = "2"
    # when
    with pytest.raises(ImportRefused) as refused:
        import_document(doc, mapping=auto_mapping(doc))
    # then a clear Chinese message names the task, and nothing is written
    problem = refused.value.problems[0]
    assert "序号重复" in problem.message and problem.task == 1
    assert not Plan.objects.exists()


@pytest.mark.parametrize(
    "path, value, words",
    [
        (("plan", "title"), "", "标题不能为空"),
        (("plan", "year"), 1890, "年度无效"),
        (("plan", "issued_on"), "2026-02-30", "印发日期"),
        (("tasks", 0, "heading"), "", "摘要不能为空"),
        (("tasks", 0, "heading"), "长" * 501, "摘要过长"),
        (("tasks", 0, "indicators", 0, "target"), "三个", "不是有效数字"),
        (("tasks", 0, "indicators", 0, "comparator"), "≈", "比较方式"),
        (("tasks", 0, "milestones", 0, "due"), "六月底", "日期"),
    ],
)
def test_it_refuses_bad_values_in_chinese(agencies, path, value, words):
    doc = make_document()
    target = doc
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    with pytest.raises(ImportRefused) as refused:
        import_document(doc, mapping=auto_mapping(doc))
    assert words in str(refused.value)
    assert not Plan.objects.exists()


def test_a_failure_midway_writes_nothing(agencies, admin_user):
    # given a mapping that creates an agency, and a write that fails after tasks are in
    doc = make_document()
    doc["tasks"][1]["owners"] = ["市中医药发展中心"]
    mapping = auto_mapping(doc) | {"市中医药发展中心": CREATE_AGENCY}
    real_create = services._Writer.create

    def failing_create(self, model, objs):
        if model is Indicator:
            raise RuntimeError("disk full")
        return real_create(self, model, objs)

    # when
    with mock.patch.object(services._Writer, "create", failing_create), pytest.raises(RuntimeError):
        import_document(doc, mapping=mapping, created_by=admin_user, sha256="b" * 64)
    # then
    assert not Plan.objects.exists()
    assert not Section.objects.exists() and not Task.objects.exists() and not TaskOwner.objects.exists()
    assert not Agency.objects.filter(name="市中医药发展中心").exists()
    assert not Task.history.exists()


def test_the_same_bytes_twice_make_one_plan(agencies):
    # given
    doc = make_document()
    sha = hashlib.sha256(b"the same file").hexdigest()
    first = import_document(doc, mapping=auto_mapping(doc), sha256=sha)
    # when
    second = import_document(doc, mapping=auto_mapping(doc), sha256=sha)
    # then
    assert second.duplicate and not second.created
    assert second.plan == first.plan
    assert "未重复导入" in second.message and TITLE in second.message
    assert Plan.objects.count() == 1 and Task.objects.count() == 4


def test_the_import_runs_a_bounded_number_of_queries(agencies, django_assert_max_num_queries):
    # given 120 tasks, each with owners, a milestone and an indicator
    base = make_document()["tasks"][0]
    tasks = []
    for n in range(120):
        task = copy.deepcopy(base)
        task["number"] = str(n + 1)
        task["section"] = ["一"] if n < 60 else ["二", "(一)"]
        tasks.append(task)
    doc = make_document(tasks)
    mapping = auto_mapping(doc)
    # when / then: the same count as for a handful of tasks
    with django_assert_max_num_queries(30):
        import_document(doc, mapping=mapping)
    assert Task.objects.count() == 120 and Indicator.objects.count() == 120


# --- New versions of a plan ----------------------------------------------------------


@pytest.fixture
def imported(agencies, staff_a):
    """The plan imported, then worked on: task 1 and 2 have progress, task 2 a reading."""
    doc = make_document()
    plan = import_document(doc, mapping=auto_mapping(doc), sha256="c" * 64, status=PlanStatus.ACTIVE).plan
    tasks = {t.number: t for t in plan.tasks.all()}
    ProgressUpdate.objects.create(
        task=tasks["1"], author=staff_a, status=TaskStatus.IN_PROGRESS, percent=40, note="方案已起草"
    )
    ProgressUpdate.objects.create(
        task=tasks["3"], author=staff_a, status=TaskStatus.IN_PROGRESS, percent=20, note="招标中"
    )
    Reading.objects.create(
        indicator=Indicator.objects.get(task=tasks["2"]),
        value=Decimal("55.5"),
        as_of=datetime.date(2026, 4, 30),
        reporter=staff_a,
    )
    return plan


def new_version():
    """The same plan, revised: task 2 gets a new heading and owner, task 4 a new target,
    task 3 is dropped, task 5 is new."""
    doc = make_document()
    tasks = doc["tasks"]
    tasks[1]["heading"] = "持续改善就医体验"
    tasks[1]["owners"] = ["医政医管处", "疾病预防控制处"]
    tasks[3]["indicators"][0]["target"] = 96
    del tasks[2]
    tasks.append(
        {
            "section": ["二", "(二)"],
            "number": "5",
            "heading": "加强卫生应急队伍建设",
            "text": "加强卫生应急队伍建设。",
            "owners": ["市卫生健康委"],
            "milestones": [],
            "indicators": [],
        }
    )
    doc["sections"].append({"path": ["二", "(二)"], "title": "卫生应急"})
    return doc


def test_the_diff_lists_added_removed_and_changed_tasks(imported):
    # given
    doc = services.normalise_document(new_version())
    # when
    diff = diff_plan(imported, doc, auto_mapping(doc), AgencyMatcher.load())
    # then
    assert [doc["tasks"][i]["number"] for i in diff.added] == ["5"]
    assert [t.number for t in diff.removed] == ["3"]
    assert diff.removed[0].has_reports
    changed = {c.task.number: {f.label: f for f in c.changes} for c in diff.changed}
    assert set(changed) == {"2", "4"}
    assert changed["2"]["任务摘要"].new == "持续改善就医体验"
    assert "疾病预防控制处" in changed["2"]["责任单位"].new
    assert "96" in changed["4"]["量化指标"].new and "95" in changed["4"]["量化指标"].old
    assert [t.number for t, _i in diff.unchanged] == ["1"]
    assert not diff.plan_changes


def test_the_diff_of_the_same_document_is_empty(imported):
    doc = services.normalise_document(make_document())
    diff = diff_plan(imported, doc, auto_mapping(doc), AgencyMatcher.load())
    assert diff.is_empty and len(diff.unchanged) == 4


def test_the_diff_shows_plan_metadata_changes(imported):
    doc = make_document()
    doc["plan"]["doc_number"] = "测卫发〔2026〕9号"
    doc = services.normalise_document(doc)
    diff = diff_plan(imported, doc, auto_mapping(doc), AgencyMatcher.load())
    assert [(c.label, c.old, c.new) for c in diff.plan_changes] == [("文号", "测卫发〔2026〕5号", "测卫发〔2026〕9号")]


def test_applying_a_new_version_keeps_progress_on_unchanged_tasks(imported, agencies):
    # given
    before = {t.number: t for t in imported.tasks.all()}
    doc = new_version()
    # when
    result = import_document(doc, mapping=auto_mapping(doc), plan=imported, sha256="d" * 64)
    # then the unchanged task is the same row with its progress
    assert not result.created and "已更新计划" in result.message
    after = {t.number: t for t in Task.objects.filter(plan=imported)}
    assert after["1"].pk == before["1"].pk
    assert (after["1"].status, after["1"].percent) == (TaskStatus.IN_PROGRESS, 40)
    assert ProgressUpdate.objects.filter(task=after["1"]).count() == 1
    # the changed task keeps its row and its indicator's reading, with the new heading and owners
    assert after["2"].pk == before["2"].pk and after["2"].heading == "持续改善就医体验"
    assert [o.agency for o in after["2"].task_owners.order_by("order")] == [agencies["a"], agencies["b"]]
    assert Reading.objects.filter(indicator__task=after["2"]).count() == 1
    assert Indicator.objects.get(task=after["4"], name="适龄儿童接种率").target == 96
    # the dropped task had progress: it stays, and the message says so
    assert after["3"].pk == before["3"].pk and "予以保留" in result.message
    # the new task is there, in a new section
    assert after["5"].section.label == "(二)" and after["5"].section.parent.label == "二"
    imported.refresh_from_db()
    assert imported.source_sha256 == "d" * 64 and imported.status == PlanStatus.ACTIVE


def test_applying_a_new_version_removes_dropped_tasks_without_reports(imported):
    # given the new version drops task 4, which nobody reported on
    doc = make_document()
    del doc["tasks"][3]
    # when
    result = import_document(doc, mapping=auto_mapping(doc), plan=imported)
    # then
    assert result.counts["removed"] == 1
    assert not Task.objects.filter(plan=imported, number="4").exists()
    assert Section.objects.filter(plan=imported, label="(一)").exists()  # task 3 still sits there


def test_applying_the_same_document_changes_nothing(imported):
    doc = make_document()
    history_before = Task.history.count()
    result = import_document(doc, mapping=auto_mapping(doc), plan=imported)
    assert result.counts == {"added": 0, "changed": 0, "unchanged": 4, "removed": 0, "kept": 0}
    assert Task.history.count() == history_before


def test_a_failing_new_version_leaves_the_plan_as_it_was(imported):
    doc = new_version()
    with (
        mock.patch.object(services.importer, "_write_sections", side_effect=RuntimeError("boom")),
        pytest.raises(RuntimeError),
    ):
        import_document(doc, mapping=auto_mapping(doc), plan=imported, sha256="e" * 64)
    imported.refresh_from_db()
    assert imported.source_sha256 == "c" * 64
    assert sorted(imported.tasks.values_list("number", flat=True)) == ["1", "2", "3", "4"]


def test_a_new_version_keeps_reported_indicators_and_done_milestones(imported, staff_a):
    # given task 4's first indicator has a reading, and task 1's milestone is done
    task4 = imported.tasks.get(number="4")
    reported = Indicator.objects.get(task=task4, name="适龄儿童接种率")
    Reading.objects.create(indicator=reported, value=Decimal("93"), as_of=datetime.date(2026, 3, 31), reporter=staff_a)
    milestone = Milestone.objects.get(task__plan=imported, task__number="1")
    milestone.done_on = datetime.date(2026, 6, 20)
    milestone.save()
    # when the new version drops both indicators of task 4 and replaces task 1's milestone
    doc = make_document()
    doc["tasks"][3]["indicators"] = []
    doc["tasks"][0]["milestones"] = [{"due": "2026-10-31", "text": "完成集团运行评估"}]
    import_document(doc, mapping=auto_mapping(doc), plan=imported)
    # then the indicator with a reading and the done milestone stay; the rest follows the document
    assert list(Indicator.objects.filter(task=task4).values_list("name", flat=True)) == ["适龄儿童接种率"]
    assert Reading.objects.filter(indicator=reported).count() == 1
    texts = set(Milestone.objects.filter(task__number="1", task__plan=imported).values_list("text", flat=True))
    assert texts == {"完成集团章程", "完成集团运行评估"}


def test_a_new_version_drops_a_milestone_nobody_marked_done(imported):
    doc = make_document()
    doc["tasks"][2]["milestones"] = []
    import_document(doc, mapping=auto_mapping(doc), plan=imported)
    assert not Milestone.objects.filter(task__plan=imported, task__number="3").exists()


def test_a_new_version_with_another_year_moves_year_end_due_dates(imported):
    doc = make_document(year=2027, title="2027年测试市卫生健康工作要点")
    import_document(doc, mapping=auto_mapping(doc), plan=imported)
    imported.refresh_from_db()
    assert imported.year == 2027
    assert set(imported.tasks.values_list("due_on", flat=True)) == {datetime.date(2027, 12, 31)}


def test_a_new_version_that_drops_a_section_removes_it(imported):
    # given the new version moves everything out of 二/(一) (tasks 3 and 4: 3 has progress)
    doc = make_document()
    doc["tasks"] = doc["tasks"][:2]
    doc["sections"] = doc["sections"][:1]
    result = import_document(doc, mapping=auto_mapping(doc), plan=imported)
    # then task 4 is gone; task 3 stays with its section and that section's parent
    assert result.counts["removed"] == 1 and result.counts["kept"] == 1
    labels = set(Section.objects.filter(plan=imported).values_list("label", flat=True))
    assert labels == {"一", "二", "(一)"}


def test_a_new_version_without_a_doc_number_keeps_the_plans(imported):
    # given a version from a task spreadsheet: no 文号, no date, no issuer
    doc = make_document()
    doc["plan"].update(doc_number=None, issued_on=None, issuer=None)
    normalised = services.normalise_document(doc)
    assert diff_plan(imported, normalised, auto_mapping(doc), AgencyMatcher.load()).plan_changes == []
    # when
    import_document(doc, mapping=auto_mapping(doc), plan=imported)
    # then
    imported.refresh_from_db()
    assert imported.doc_number == "测卫发〔2026〕5号" and imported.issued_on == datetime.date(2026, 2, 10)
    assert imported.issuer is not None


def test_a_new_version_keeps_the_tasks_carried_over_from_last_year(imported, other_plan):
    # given task 4 came from last year's plan (the rollover) and the new version leaves it out
    last_year = make_task(other_plan, None, "9", heading="上年未完成的任务")
    carried = Task.objects.get(plan=imported, number="4")
    carried.carried_from = last_year
    carried.save(update_fields=["carried_from"])
    doc = make_document()
    del doc["tasks"][3]
    # when
    result = import_document(doc, mapping=auto_mapping(doc), plan=imported)
    # then it stays, counted as kept, with its link
    assert (result.counts["removed"], result.counts["kept"]) == (0, 1)
    assert Task.objects.get(pk=carried.pk).carried_from == last_year
