"""Demo data for `make run`: a fictional city's agencies, one user per role, and a plan.

All text here is invented for the demo (青岚市 does not exist). Loading is idempotent:
running it again finds what is there and adds nothing twice. Demo accounts exist only
where this is loaded; passwords are generated on first load and kept in var/ (outside
git), so the same ones are printed on every run.
"""

import datetime
import json
import secrets
import string
from decimal import Decimal
from pathlib import Path

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from accounts.choices import AgencyLevel
from accounts.models import Agency, AgencyAlias, User
from assessment import services as assessment
from assessment.choices import SchemeState
from assessment.models import Scheme
from core.roles import Role
from dashboards import bulletins
from dashboards.models import Bulletin
from dashboards.rollup import rollup_day
from escalation import ladder, notices, urges
from escalation.by_hand import issue_by_hand
from escalation.choices import Level
from escalation.models import Notice
from indicators.models import Indicator, Reading
from publication import services as publication
from publication.choices import PublicField, Schedule
from publication.models import PublicNarrative, PublicSetting
from supervision import closeout, reports, requests
from supervision.choices import RequestKind
from supervision.models import ChangeRequest, CloseOut, PeriodReport
from tasks.choices import FINISHED, OwnerRole
from tasks.models import Milestone, ProgressUpdate, Task, TaskOwner
from workplans.choices import PlanStatus
from workplans.models import Plan, Section

CITY_COMMISSION = "青岚市卫生健康委员会"

# (name, short name, level, parent name or None, aliases)
AGENCIES = [
    (CITY_COMMISSION, "市卫生健康委", AgencyLevel.CITY, None, ["市卫健委", "青嵐市衛生健康委員會", "市衛生健康委"]),
    ("办公室", "委办公室", AgencyLevel.DEPARTMENT, CITY_COMMISSION, []),
    ("医政医管处", "医政医管处", AgencyLevel.DEPARTMENT, CITY_COMMISSION, ["醫政醫管處"]),
    ("疾病预防控制处", "疾控处", AgencyLevel.DEPARTMENT, CITY_COMMISSION, []),
    ("基层卫生健康处", "基层处", AgencyLevel.DEPARTMENT, CITY_COMMISSION, []),
    ("妇幼健康处", "妇幼处", AgencyLevel.DEPARTMENT, CITY_COMMISSION, []),
    ("老龄健康处", "老龄处", AgencyLevel.DEPARTMENT, CITY_COMMISSION, []),
    ("青岚市疾病预防控制中心", "市疾控中心", AgencyLevel.INSTITUTION, CITY_COMMISSION, []),
    ("青岚市卫生健康监督所", "市卫生监督所", AgencyLevel.INSTITUTION, CITY_COMMISSION, []),
    ("东湖区卫生健康局", "东湖区卫健局", AgencyLevel.DISTRICT, CITY_COMMISSION, []),
    ("西山区卫生健康局", "西山区卫健局", AgencyLevel.DISTRICT, CITY_COMMISSION, []),
    ("青岚市医疗保障局", "市医保局", AgencyLevel.CITY, None, []),
    ("青岚市教育局", "市教育局", AgencyLevel.CITY, None, ["市教委"]),
]

# (username, full name, role, agency name)
USERS = [
    ("demo_admin", "系统管理员 周明", Role.ADMIN, "办公室"),
    ("demo_security", "安全管理员 孙悦", Role.SECURITY, "办公室"),
    ("demo_leader", "委领导 陈卫东", Role.LEADER, CITY_COMMISSION),
    ("demo_staff", "经办人 李晓燕", Role.STAFF, "医政医管处"),
    ("demo_staff_jk", "经办人 王海", Role.STAFF, "疾病预防控制处"),
    # The lead agency's 审核人 (User.is_unit_reviewer): signs off 医政医管处's reports.
    ("demo_reviewer", "审核人 张敏", Role.STAFF, "医政医管处"),
    # The supervision office (督查室): reviews reports, closes out tasks, decides requests.
    ("demo_supervisor", "督查专员 刘洋", Role.SUPERVISOR, CITY_COMMISSION),
    ("demo_auditor", "审计管理员 赵琳", Role.AUDITOR, "办公室"),
]
# The person behind each administrator account (三员分立: three different people).
PERSON_IDS = {"demo_admin": "QL-0001", "demo_security": "QL-0002", "demo_auditor": "QL-0003"}
UNIT_REVIEWERS = {"demo_reviewer"}
# The leader in charge (分管领导) the demo plan names: decides its target changes' last step.
LEADER_IN_CHARGE = "demo_leader"

# Sections: (label path, title). Tasks: (section path, number, text, owners,
# milestones [(month, text)], indicators [(name, comparator, target, unit)]).
SECTIONS = [
    (["一"], "提升医疗服务能力"),
    (["二"], "织牢公共卫生防护网"),
    (["三"], "夯实基层卫生健康服务"),
]

TASKS = [
    (
        ["一"],
        "1",
        "推进紧密型城市医疗集团建设。年内组建2个城市医疗集团，6月底前完成集团章程制定，三季度末前实现集团内检查检验结果互认。",
        ["医政医管处", "青岚市医疗保障局"],
        [(6, "完成集团章程制定"), (9, "实现集团内检查检验结果互认")],
        [("城市医疗集团", ">=", "2", "个")],
    ),
    (
        ["一"],
        "2",
        "改善就医体验。二级以上公立医院预约诊疗率达到65%以上，门诊患者平均预约诊疗等候时间控制在30分钟以内。",
        ["医政医管处"],
        [],
        [("预约诊疗率", ">=", "65", "%"), ("平均预约诊疗等候时间", "<=", "30", "分钟")],
    ),
    (
        ["一"],
        "3",
        "加强临床重点专科建设。新增市级临床重点专科8个，年底前完成中期评估。",
        ["医政医管处", "东湖区卫生健康局", "西山区卫生健康局"],
        [(12, "完成中期评估")],
        [("市级临床重点专科", ">=", "8", "个")],
    ),
    (
        ["二"],
        "4",
        "完善传染病监测预警体系。3月底前上线多点触发监测平台，法定传染病报告率保持在98%以上。",
        ["疾病预防控制处", "青岚市疾病预防控制中心"],
        [(3, "上线多点触发监测平台")],
        [("法定传染病报告率", ">=", "98", "%")],
    ),
    (
        ["二"],
        "5",
        "做好重点人群免疫接种。适龄儿童免疫规划疫苗接种率达到95%以上。",
        ["疾病预防控制处", "青岚市教育局"],
        [],
        [("适龄儿童免疫规划疫苗接种率", ">=", "95", "%")],
    ),
    (
        ["二"],
        "6",
        "开展公共场所卫生监督抽检，二季度末前完成游泳场所专项检查。",
        ["青岚市卫生健康监督所"],
        [(6, "完成游泳场所专项检查")],
        [],
    ),
    (
        ["三"],
        "7",
        "推进家庭医生签约服务提质增效，重点人群签约率达到75%。",
        ["基层卫生健康处", "东湖区卫生健康局", "西山区卫生健康局"],
        [],
        [("重点人群签约率", ">=", "75", "%")],
    ),
    (
        ["三"],
        "8",
        "保障母婴安全。孕产妇死亡率控制在8/10万以内，婴儿死亡率控制在4‰以内。",
        ["妇幼健康处"],
        [],
        [("孕产妇死亡率", "<=", "8", "1/10万"), ("婴儿死亡率", "<=", "4", "‰")],
    ),
    (
        ["三"],
        "9",
        "发展老年健康服务，新建老年友善医疗机构20家。",
        ["老龄健康处", "基层卫生健康处", "医政医管处"],
        [(11, "完成老年友善医疗机构评审")],
        [("老年友善医疗机构", ">=", "20", "家")],
    ),
]

# (task number, username, status, percent, note, days ago)
PROGRESS = [
    ("1", "demo_staff", "in_progress", 40, "两个医疗集团组建方案已报委党委会审议。", 20),
    ("2", "demo_staff", "in_progress", 70, "预约诊疗率已达 61.2%，正在推进分时段预约。", 10),
    ("4", "demo_staff_jk", "in_progress", 90, "监测平台已上线试运行。", 40),
    ("5", "demo_staff_jk", "lagging", 30, "部分学校查验接种证工作推进较慢。", 5),
]

# Tasks whose text sets an earlier deadline than the plan's year end: number -> month.
DUE_MONTHS = {"1": 10, "6": 6}
# Dates counted from the day the demo is loaded, so that its inbox has reminders at once:
# task number -> due in N days, and (task number, text) of a milestone due tomorrow.
DUE_IN_DAYS = {"5": 7}
MILESTONE_TOMORROW = ("2", "报送分时段预约推进情况")

# Responsible people (责任人) named on tasks: number -> usernames.
RESPONSIBLE = {"1": ["demo_staff"], "4": ["demo_staff_jk"]}

# (indicator name, value, days ago)
READINGS = [
    ("预约诊疗率", "61.2", 10),
    ("法定传染病报告率", "98.6", 40),
]

CREDENTIALS_FILE = "demo_credentials.json"


def _password() -> str:
    # Meets the login policy: all four classes, well over the minimum length.
    alphabet = string.ascii_letters + string.digits
    body = "".join(secrets.choice(alphabet) for _ in range(10))
    return f"Qz{body}7!"


def _credentials_path() -> Path:
    return Path(settings.VAR_DIR) / CREDENTIALS_FILE


def load_credentials() -> dict[str, str]:
    path = _credentials_path()
    return json.loads(path.read_text()) if path.exists() else {}


def _save_credentials(creds: dict[str, str]) -> None:
    path = _credentials_path()
    path.write_text(json.dumps(creds, ensure_ascii=False, indent=2))
    path.chmod(0o600)


@transaction.atomic
def load_demo(year: int | None = None) -> dict[str, str]:
    """Load the demo data; return {username: password} for the demo accounts."""
    year = year or timezone.localdate().year
    agencies: dict[str, Agency] = {}
    for order, (name, short, level, parent, aliases) in enumerate(AGENCIES):
        agency, _created = Agency.objects.get_or_create(
            name=name,
            defaults={"short_name": short, "level": level, "parent": agencies.get(parent), "order": order},
        )
        agencies[name] = agency
        for alias in aliases:
            AgencyAlias.objects.get_or_create(name=alias, defaults={"agency": agency})

    creds = load_credentials()
    for username, full_name, role, agency_name in USERS:
        password = creds.get(username) or _password()
        user = User.objects.filter(username=username).first()
        if user is None:
            user = User(
                username=username,
                full_name=full_name,
                role=role,
                person_id=PERSON_IDS.get(username, ""),
                agency=agencies[agency_name],
                # example.org never receives mail; the demo's email backend prints it anyway.
                email=f"{username}@qinglan.example.org",
                is_unit_reviewer=username in UNIT_REVIEWERS,
            )
            user.set_password(password)
            user.save()
        elif not user.check_password(password):
            user.set_password(password)
            user.save()
        creds[username] = password
    _save_credentials(creds)

    title = f"{year}年青岚市卫生健康工作要点"
    plan, created = Plan.objects.get_or_create(
        title=title,
        year=year,
        defaults={
            "issuer": agencies[CITY_COMMISSION],
            "doc_number": f"青卫发〔{year}〕3号",
            "issued_on": datetime.date(year, 2, 18),
            "status": PlanStatus.ACTIVE,
            "requires_unit_signoff": True,
            "leader_in_charge": User.objects.get(username=LEADER_IN_CHARGE),
        },
    )
    if not created:
        _seed_loop(plan)  # a demo loaded before the supervision loop gets its work lists too
        _seed_escalation(plan)  # … and before escalation, its notices
        _seed_outputs(plan)  # … and before the assessment, the bulletin and the public page
        return creds

    sections = {}
    for order, (path, section_title) in enumerate(SECTIONS):
        sections[tuple(path)] = Section.objects.create(
            plan=plan, parent=sections.get(tuple(path[:-1])), label=path[-1], title=section_title, order=order
        )
    tasks = {}
    for order, (path, number, text, owners, milestones, indicators) in enumerate(TASKS):
        due_month = DUE_MONTHS.get(number)
        task = Task.objects.create(
            plan=plan,
            section=sections[tuple(path)],
            number=number,
            heading=text.split("。")[0],
            text=text,
            order=order,
            due_on=_month_end(year, due_month) if due_month else _days_from_today(DUE_IN_DAYS.get(number), year),
        )
        tasks[number] = task
        for i, owner in enumerate(owners):
            TaskOwner.objects.create(
                task=task, agency=agencies[owner], role=OwnerRole.LEAD if i == 0 else OwnerRole.CO_OWNER, order=i
            )
        for i, (month, milestone_text) in enumerate(milestones):
            Milestone.objects.create(task=task, due_on=_month_end(year, month), text=milestone_text, order=i)
        for i, (name, comparator, target, unit) in enumerate(indicators):
            Indicator.objects.create(
                plan=plan, task=task, name=name, comparator=comparator, target=Decimal(target), unit=unit, order=i
            )
    number, milestone_text = MILESTONE_TOMORROW
    Milestone.objects.create(task=tasks[number], due_on=_days_from_today(1, year), text=milestone_text, order=9)
    users = {u.username: u for u in User.objects.filter(username__in=[u[0] for u in USERS])}
    now = timezone.now()
    for number, username, status, percent, note, days_ago in PROGRESS:
        ProgressUpdate.objects.create(
            task=tasks[number],
            author=users[username],
            status=status,
            percent=percent,
            note=note,
            created_at=now - datetime.timedelta(days=days_ago),
        )
    for number, usernames in RESPONSIBLE.items():
        # Re-read: the progress updates above moved the task, and the audit record of a
        # 责任人 change snapshots the instance it is given.
        Task.objects.get(pk=tasks[number].pk).responsible_users.set([users[u] for u in usernames])
    for name, value, days_ago in READINGS:
        indicator = Indicator.objects.get(plan=plan, name=name)
        Reading.objects.create(
            indicator=indicator,
            plan=plan,
            value=Decimal(value),
            as_of=timezone.localdate() - datetime.timedelta(days=days_ago),
            reporter=users["demo_staff"],
        )
    _seed_loop(plan)
    _seed_escalation(plan)
    # Today's snapshot, so the dashboard's trend has its first point (the nightly rollup
    # adds one a day from here on).
    rollup_day(timezone.localdate(), plan_ids=[plan.pk])
    _seed_outputs(plan)
    return creds


def _seed_loop(plan: Plan) -> None:
    """The supervision loop's work lists, filled through its services (so states, threads
    and deadlines are as real use makes them): a report waiting for the supervision office,
    one it returned, a close-out to check and a delay request at the office's step. Done
    once per plan: skipped when the plan already has any of them."""
    tasks = Task.objects.filter(plan=plan)
    if (
        PeriodReport.objects.filter(task__plan=plan).exists()
        or CloseOut.objects.filter(task__plan=plan).exists()
        or ChangeRequest.objects.filter(task__plan=plan).exists()
    ):
        return
    if not plan.requires_unit_signoff or plan.leader_in_charge_id is None:
        plan.requires_unit_signoff = True
        plan.leader_in_charge = User.objects.get(username=LEADER_IN_CHARGE)
        plan.save(update_fields=["requires_unit_signoff", "leader_in_charge"])
    users = {u.username: u for u in User.objects.filter(username__in=[u[0] for u in USERS])}
    staff, staff_jk, reviewer = users["demo_staff"], users["demo_staff_jk"], users["demo_reviewer"]
    supervisor, leader = users["demo_supervisor"], users["demo_leader"]

    def task(number: str) -> Task:
        return tasks.get(number=number)

    def submitted(number: str, progress: str, percent: int):
        report = reports.submit_report(
            task(number).pk,
            staff,
            version=None,
            task_version=task(number).version,
            progress=progress,
            problems="部分医院信息系统改造进度不一。",
            next_steps="下月逐院督导，按周通报进度。",
            status="in_progress",
            percent=percent,
        )
        return reports.sign_off(report.pk, reviewer, version=report.version, approve=True, comment="同意报送。")

    # 1. Signed off by the unit's 审核人, waiting for the supervision office's review.
    submitted("2", "预约诊疗率已达 63.5%，分时段预约已覆盖全部三级医院。", 75)
    # 2. Returned by the supervision office with what to add.
    report = submitted("1", "两个医疗集团组建方案已经委党委会审议通过。", 45)
    report.refresh_from_db()
    reports.review(
        report.pk, supervisor, version=report.version, accept=False, requirements="请补充集团章程草案和时间安排。"
    )
    # 3. A finished task's close-out, for the supervision office to check.
    closeout.request_close_out(
        task("4").pk,
        staff_jk,
        task_version=task("4").version,
        summary="多点触发监测平台已上线运行，覆盖全部二级以上医院，法定传染病报告率 98.6%。",
    )
    # 4. A delay, approved by the unit (its leader), now at the supervision office's step.
    due = task("5").due_on
    request = requests.file_request(
        task("5").pk,
        staff_jk,
        kind=RequestKind.DELAY,
        reason="部分学校查验接种证工作需延至秋季开学后完成。",
        progress_so_far="已完成 30% 学校的查验。",
        proposed_due_on=min(due + datetime.timedelta(days=30), datetime.date(plan.year + 1, 12, 31)),
    )
    requests.decide_request(request.pk, leader, version=request.version, approve=True, comment="同意报督查室。")


def _seed_escalation(plan: Plan) -> None:
    """Escalation's first morning: the ladder's notices for what the demo data calls for
    today, a yellow notice the supervision office issued by hand, an urge and a leader's
    instruction. Done once per plan: skipped when the plan already has a notice."""
    if Notice.objects.filter(task__plan=plan).exists():
        return
    today = timezone.localdate()
    ladder.run(today)
    users = {u.username: u for u in User.objects.filter(username__in=[u[0] for u in USERS])}
    tasks = Task.objects.filter(plan=plan)
    by_hand = tasks.filter(number="3").first()
    if by_hand is not None and by_hand.status not in FINISHED and not notices.open_notices(by_hand.pk).exists():
        issue_by_hand(
            by_hand.pk,
            users["demo_supervisor"],
            level=Level.YELLOW,
            requirements="请于反馈时限前书面说明推进滞后的原因、已采取的措施和下一步安排，并附佐证材料。",
        )
    urged = tasks.filter(number="2").first()
    if urged is not None:
        urges.urge(urged.pk, users["demo_supervisor"], message="请本周内报送预约诊疗数据统计口径说明。")
    instructed = tasks.filter(number="1").first()
    if instructed is not None:
        urges.instruct(
            instructed.pk,
            users["demo_leader"],
            text="医疗集团建设是今年重点，请医政医管处专题研究，月底前报送推进方案。",
            respond_by=min(today + datetime.timedelta(days=14), datetime.date(plan.year, 12, 31)),
        )


# The public texts the supervision office writes for the public page, apart from the notes.
PUBLIC_NARRATIVES = {
    "1": "两个城市医疗集团组建方案已审议通过，正在推进章程制定和运行机制建设。",
    "2": "全市三级医院已全面推行分时段预约诊疗，群众就医等候时间进一步缩短。",
}


def _seed_outputs(plan: Plan) -> None:
    """What leaders take to the meeting, each through its own service: an active 考核
    scheme with a leader's evaluation, a draft 通报 for the last finished period, and the
    plan's public page (政务公开) published with two narratives. Each is done once per plan:
    skipped when the plan already has it."""
    users = {u.username: u for u in User.objects.filter(username__in=[u[0] for u in USERS])}
    admin, leader, supervisor = users["demo_admin"], users["demo_leader"], users["demo_supervisor"]
    tasks = Task.objects.filter(plan=plan)

    if not Scheme.objects.filter(plan=plan).exists():
        scheme = assessment.create_scheme(plan, admin)
        scheme = assessment.set_state(scheme.pk, admin, version=scheme.version, state=SchemeState.ACTIVE)
        lead = TaskOwner.objects.filter(task__plan=plan, task__number="2", role=OwnerRole.LEAD).first()
        if lead is not None:
            assessment.add_evaluation(
                scheme.pk,
                leader,
                agency_id=lead.agency_id,
                points=Decimal(2),
                reason="预约诊疗改革推进有力，群众反映良好。",
            )

    period = bulletins.default_period(plan, timezone.localdate())
    if period is not None and not Bulletin.objects.filter(plan=plan).exists() and bulletins.may_draft(supervisor, plan):
        bulletins.create_draft(plan, period, supervisor)

    if not PublicSetting.objects.filter(plan=plan, enabled=True).exists():
        setting = publication.setting_of(plan)
        publication.save_settings(
            plan.pk,
            admin,
            enabled=True,
            fields=list(PublicField.values),
            schedule=Schedule.DAILY,
            version=setting.version,
        )
        for number, text in PUBLIC_NARRATIVES.items():
            task = tasks.filter(number=number).first()
            if task is not None:
                narrative = PublicNarrative.objects.filter(task=task).first() or PublicNarrative(task=task)
                publication.save_narrative(task.pk, supervisor, text=text, version=narrative.version)
        snapshot = publication.build_snapshot(plan.pk, supervisor)
        publication.publish(snapshot.pk, admin)


def _days_from_today(days: int | None, year: int) -> datetime.date | None:
    """`days` from today, kept inside the plan year (None: the task's default, year end)."""
    if days is None:
        return None
    day = timezone.localdate() + datetime.timedelta(days=days)
    return min(max(day, datetime.date(year, 1, 1)), datetime.date(year, 12, 31))


def _month_end(year: int, month: int) -> datetime.date:
    if month == 12:
        return datetime.date(year, 12, 31)
    return datetime.date(year, month + 1, 1) - datetime.timedelta(days=1)
