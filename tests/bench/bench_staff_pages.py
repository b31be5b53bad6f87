"""Time 我的任务 and the task page on a large database: 50,000 tasks, 1,000,000 progress updates.

Run by hand (not a test). Target: at most 150 ms server time (median) for each page.

usage: .venv/bin/python tests/bench/bench_staff_pages.py [--tasks 5000|50000|500000] [--rebuild] [--runs 30] [--explain]
       (DATABASE_URL, when set, names the database instead of workplans_bench_staff_<tasks>)

Each page is timed alternately with its reference (tests/bench/report.py interleave): the
hand-written SQL that fetches the rows the page shows (for 我的任务, the one statement that
fetches the user's page of 30 tasks with its counts), and recorded for `make bench`.

The database (created if missing, then migrated) is kept between runs: the data is generated
once with COPY (about a minute on two cores) and reused while a marker table says it was made with the same
parameters; --rebuild regenerates it. Pages are requested in-process with Django's test Client
as a staff member of the busiest agency; the time measured is the whole request (middleware,
session save, queries, template), without the test framework's template instrumentation.
"""

import argparse
import bisect
import datetime
import io
import json
import math
import os
import random
import re
import statistics
import sys
import time
import unicodedata
from decimal import Decimal
from urllib.parse import unquote, urlencode

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, ROOT)
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
# Production-like request handling: no query log kept by DEBUG, no debug pages.
os.environ["DEBUG"] = "0"

DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/workplans_bench_staff"
TARGET_MS = 150.0
# Bump when the generator changes: a database made by another version is regenerated.
GENERATOR_VERSION = 1
MARKER_TABLE = "bench_staff_marker"

UTC = datetime.UTC
CST = datetime.timezone(datetime.timedelta(hours=8))  # settings.TIME_ZONE, Asia/Shanghai

# --- The made-up city --------------------------------------------------------------------

CITY = "澄江市"
# (name, short name, weight as an owner). The weight makes some agencies far busier than others.
DEPARTMENTS = [
    ("医政医管处", "医政处", 6.0),
    ("疾病预防控制处", "疾控处", 5.0),
    ("基层卫生健康处", "基层处", 5.0),
    ("妇幼健康处", "", 3.5),
    ("老龄健康处", "", 2.5),
    ("规划发展与信息化处", "规划信息处", 3.5),
    ("财务处", "", 2.0),
    ("人事处", "", 1.5),
    ("中医药管理处", "中医药处", 2.5),
    ("药物政策与基本药物制度处", "药政处", 2.5),
    ("职业健康处", "", 2.0),
    ("综合监督处", "", 2.5),
    ("办公室", "", 1.0),
    ("法规处", "", 1.0),
    ("宣传处", "", 1.0),
    ("科技教育处", "科教处", 1.5),
    ("卫生应急办公室", "应急办", 1.5),
    ("健康促进处", "", 1.5),
]
DISTRICTS = ["东城区", "西城区", "南湖区", "北岭区", "江口区", "新港区", "青山县", "云溪县", "白沙县", "临江县"]
DISTRICT_UNITS = ["疾病预防控制中心", "人民医院"]
CITY_UNITS = ["疾病预防控制中心", "卫生健康监督所", "第一人民医院", "中医院"]
PARTNERS = ["医疗保障局", "教育局", "民政局", "财政局", "市场监督管理局", "发展和改革委员会", "人力资源和社会保障局"]

# (year, status, how many plans); tasks are spread over them, archived plans get fewer.
PLAN_SPECS = [
    (2026, "active", 28),
    (2025, "active", 14),
    (2024, "active", 8),
    (2025, "archived", 1),
    (2024, "archived", 2),
    (2023, "archived", 3),
]
PLAN_THEMES = [
    "卫生健康工作要点",
    "医疗服务能力提升行动",
    "公共卫生体系建设方案",
    "基层卫生健康工作要点",
    "健康城市建设工作方案",
    "中医药发展工作要点",
    "卫生健康信息化工作要点",
    "医改重点工作任务",
]
TOPICS = [
    "家庭医生签约服务",
    "公立医院高质量发展",
    "基层医疗卫生服务能力",
    "传染病监测预警",
    "慢性病综合防控",
    "妇幼健康服务",
    "老年健康服务体系",
    "中医药传承创新",
    "智慧医疗建设",
    "药品供应保障",
    "职业病防治",
    "卫生健康监督执法",
    "健康教育与健康促进",
    "医疗质量安全管理",
    "紧急医学救援",
    "爱国卫生运动",
    "精神卫生服务",
    "疫苗接种管理",
    "紧密型医联体建设",
    "卫生人才队伍建设",
    "远程医疗服务",
    "分级诊疗制度",
    "院前急救体系",
    "出生缺陷防治",
    "托育服务发展",
    "医养结合",
    "健康城市建设",
    "病媒生物防制",
    "血液安全管理",
    "临床重点专科建设",
]
VERBS = [
    "深入推进",
    "持续加强",
    "加快推进",
    "全面落实",
    "积极推动",
    "稳步推进",
    "着力提升",
    "统筹推进",
    "不断完善",
    "扎实开展",
]
SUFFIXES = [
    "工作",
    "提质增效",
    "能力建设",
    "体系建设",
    "专项行动",
    "试点工作",
    "标准化建设",
    "规范化管理",
    "信息化建设",
    "综合改革",
]
SENTENCES = [
    "加强统筹协调，细化工作措施，确保按期完成。",
    "建立工作台账，实行清单化管理，定期调度推进。",
    "强化部门协作，形成工作合力。",
    "完善考核评价机制，将完成情况纳入年度绩效考核。",
    "加大财政投入，落实经费保障。",
    "做好宣传引导，营造良好社会氛围。",
    "推动优质医疗资源扩容下沉和区域均衡布局。",
    "提升群众就医获得感和满意度。",
    "开展督导检查，及时发现和解决存在的问题。",
    "总结推广典型经验做法。",
]
NOTES = [
    "已召开专题推进会，部署下一阶段重点工作。",
    "完成阶段性督导检查，发现的问题已督促整改。",
    "会同相关部门开展联合调研，形成调研报告。",
    "工作方案已印发，各区县正在组织实施。",
    "本月完成数据汇总和质量核查。",
    "按计划推进，暂无需要协调的问题。",
    "受经费下达时间影响，部分工作进度滞后，已提请财务处协调。",
    "已完成年度目标任务的阶段性工作。",
    "组织业务培训两期，培训基层人员三百余人次。",
    "信息系统完成升级改造并投入试运行。",
    "配合牵头单位完成相关材料报送。",
    "开展第三方评估，评估报告正在审核。",
]
MILESTONE_TEXTS = [
    "印发实施方案",
    "完成摸底调研",
    "完成中期评估",
    "完成督导检查",
    "完成系统上线",
    "完成年度总结",
    "召开推进会议",
    "完成验收评估",
]
INDICATOR_KINDS = [
    ("覆盖率", ">=", "%"),
    ("达标率", ">=", "%"),
    ("完成率", ">=", "%"),
    ("知晓率", ">=", "%"),
    ("满意度", ">=", "%"),
    ("发生率", "<=", "‰"),
    ("死亡率", "<=", "‰"),
]
# A few plans write in traditional script; the search folds both sides, so 医疗 finds 醫療.
TRADITIONAL = str.maketrans("医疗卫药务质监测预级诊设体发区优", "醫療衛藥務質監測預級診設體發區優")
ATTACHMENT_KINDS = [
    ("pdf", "application/pdf", ".pdf"),
    ("png", "image/png", ".png"),
    ("jpeg", "image/jpeg", ".jpg"),
    ("docx", "application/vnd.openxmlformats-officedocument.wordprocessingml.document", ".docx"),
]

# The 我的任务 requests and the task pages measured, in the order printed.
LIST_CASES = [
    ("我的任务 default", {}),
    ("我的任务 q=<search>", {"q": None}),  # the term comes from --q
    ("我的任务 overdue=1", {"overdue": "1"}),
    ("我的任务 reported=0", {"reported": "0"}),
    ("我的任务 sort=-updated", {"sort": "-updated"}),
    ("我的任务 page=20", {"page": "20"}),
]


# --- Database set-up -----------------------------------------------------------------------


def sized(args) -> None:
    """The data set's other figures follow its size unless given: 20 progress updates and 4
    indicator readings per task (50,000 tasks: 1,000,000 and 200,000, as before)."""
    if args.updates is None:
        args.updates = args.tasks * 20
    if args.readings is None:
        args.readings = args.tasks * 4


def database_for(tasks: int) -> str:
    """DATABASE_URL if set, else this generator's database for the size (one per size, kept)."""
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    import report

    return report.database_url("workplans_bench_staff", tasks)


def ensure_database(url: str) -> None:
    """Create the benchmark database if it does not exist yet."""
    import environ
    import psycopg2
    from psycopg2 import sql

    config = environ.Env.db_url_config(url)
    if "postgresql" not in config["ENGINE"]:
        sys.exit(f"bench_staff_pages needs PostgreSQL; DATABASE_URL is {config['ENGINE']}")
    params = {
        "dbname": "postgres",
        "user": config.get("USER") or None,
        "password": config.get("PASSWORD") or None,
        "host": config.get("HOST") or None,
        "port": config.get("PORT") or None,
    }
    try:
        conn = psycopg2.connect(**{k: v for k, v in params.items() if v})
    except psycopg2.OperationalError as error:
        sys.exit(
            f"cannot reach PostgreSQL ({error.args[0].strip()}); start it, e.g.\n"
            "  pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start"
        )
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute("SELECT 1 FROM pg_database WHERE datname = %s", [config["NAME"]])
        if cur.fetchone() is None:
            cur.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(config["NAME"])))
            print(f"created database {config['NAME']}")
    conn.close()


def read_marker(cursor):
    cursor.execute("SELECT to_regclass(%s)", [MARKER_TABLE])
    if cursor.fetchone()[0] is None:
        return None
    cursor.execute(f"SELECT params FROM {MARKER_TABLE} WHERE key = 'data'")
    row = cursor.fetchone()
    return row and (row[0] if isinstance(row[0], dict) else json.loads(row[0]))


def data_is_current(cursor, params: dict) -> bool:
    if read_marker(cursor) != params:
        return False
    cursor.execute("SELECT (SELECT count(*) FROM tasks_task), (SELECT count(*) FROM tasks_progressupdate)")
    return cursor.fetchone() == (params["tasks"], params["updates"])


# --- COPY helpers ----------------------------------------------------------------------------

_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


def _cell(value) -> str:
    if value is None:
        return "\\N"
    if isinstance(value, str):
        return value.translate(_ESCAPES)
    if isinstance(value, bool):
        return "t" if value else "f"
    return str(value)


def unknown_columns(table: str, columns: list[str]) -> list[tuple[str, object]]:
    """(column, value) for the columns of `table` the generator does not write, each with its
    field's default: a field added to a model after this script was written still loads."""
    from django.apps import apps
    from django.db import connection

    model = next(m for m in apps.get_models(include_auto_created=True) if m._meta.db_table == table)
    extra = []
    for field in model._meta.concrete_fields:
        if field.column in columns or field.primary_key or field.has_db_default():
            continue
        value = field.get_default()
        if value is None:
            if field.null:
                continue  # NULL, as the database leaves it
            raise RuntimeError(f"{table}.{field.column} has no default: teach bench_staff_pages.py to fill it")
        if field.get_internal_type() == "JSONField":
            # COPY takes the JSON text, not the adapter get_db_prep_save gives ("'[]'::jsonb").
            extra.append((field.column, json.dumps(value, ensure_ascii=False)))
        else:
            extra.append((field.column, field.get_db_prep_save(value, connection)))
    if extra:
        print(f"  note: {table}: {', '.join(c for c, _ in extra)} left at the default", flush=True)
    return extra


def copy_rows(cursor, table: str, columns: list[str], rows, chunk: int = 100_000) -> int:
    """COPY `rows` (tuples, or ready tab-separated lines ending in a newline) into `table`."""
    extra = unknown_columns(table, columns)
    tail = "".join("\t" + _cell(value) for _, value in extra) + "\n"
    quoted = ", ".join(f'"{column}"' for column in [*columns, *(c for c, _ in extra)])
    statement = f"COPY {table} ({quoted}) FROM STDIN"
    buffer, pending, total = io.StringIO(), 0, 0

    def flush():
        buffer.seek(0)
        cursor.copy_expert(statement, buffer)
        buffer.seek(0)
        buffer.truncate()

    for row in rows:
        buffer.write(row[:-1] + tail if isinstance(row, str) else "\t".join(map(_cell, row)) + tail)
        pending += 1
        if pending == chunk:
            flush()
            total += pending
            pending = 0
    if pending:
        flush()
        total += pending
    return total


def iso(ts: float) -> str:
    return datetime.datetime.fromtimestamp(ts, UTC).isoformat()


def local_date(ts: float) -> datetime.date:
    return datetime.datetime.fromtimestamp(ts, CST).date()


def at(day: datetime.date, hour: int = 10) -> float:
    return datetime.datetime(day.year, day.month, day.day, hour, tzinfo=CST).timestamp()


def spread(total: int, weights: list[float], rng: random.Random) -> list[int]:
    """Integers proportional to `weights` that add up to exactly `total`."""
    scale = total / sum(weights)
    counts = [int(w * scale) for w in weights]
    candidates = [i for i, w in enumerate(weights) if w > 0]
    for i in rng.sample(candidates, total - sum(counts)) if total - sum(counts) <= len(candidates) else []:
        counts[i] += 1
    while sum(counts) < total:  # only when there are fewer candidates than the remainder
        counts[rng.choice(candidates)] += 1
    return counts


# --- Data generation ---------------------------------------------------------------------------


class Generator:
    """Builds the whole data set in memory-light passes and writes it with COPY."""

    def __init__(self, cursor, *, n_tasks: int, n_updates: int, n_readings: int, seed: int, now: datetime.datetime):
        self.cur = cursor
        self.n_tasks, self.n_updates, self.n_readings = n_tasks, n_updates, n_readings
        self.rng = random.Random(seed)
        self.now_ts = now.timestamp()
        self.today = now.astimezone(CST).date()

    def log(self, what: str, rows: int, started: float) -> None:
        print(f"  {what:<34} {rows:>10,} rows  {time.perf_counter() - started:6.1f} s", flush=True)

    def run(self) -> None:
        self.agencies()
        self.users()
        self.plans()
        self.tasks()
        self.progress()
        self.milestones_and_indicators()
        self.history()

    # Agencies: a commission with departments, districts with their units, city units, partners.
    def agencies(self):
        started = time.perf_counter()
        rows, self.weights = [], {}  # weights: agency id -> weight as an owner
        self.lead_pool = []
        commission = 1
        rows.append((commission, f"{CITY}卫生健康委员会", "市卫生健康委", "city", None, 0))
        self.weights[commission] = 2.0
        next_id = 2
        self.departments = {}
        for order, (name, short, weight) in enumerate(DEPARTMENTS):
            rows.append((next_id, name, short, "department", commission, order))
            self.weights[next_id] = weight
            self.departments[name] = next_id
            next_id += 1
        for order, district in enumerate(DISTRICTS):
            district_id = next_id
            rows.append(
                (district_id, f"{CITY}{district}卫生健康局", f"{district}卫健局", "district", commission, 100 + order)
            )
            self.weights[district_id] = 2.5
            next_id += 1
            for unit in DISTRICT_UNITS:
                rows.append((next_id, f"{CITY}{district}{unit}", "", "institution", district_id, 0))
                self.weights[next_id] = 0.6
                next_id += 1
        for order, unit in enumerate(CITY_UNITS):
            rows.append((next_id, f"{CITY}{unit}", "", "institution", commission, 200 + order))
            self.weights[next_id] = 1.5
            next_id += 1
        self.lead_pool = list(self.weights)
        for order, partner in enumerate(PARTNERS):
            rows.append((next_id, f"{CITY}{partner}", f"市{partner}", "city", None, 300 + order))
            self.weights[next_id] = 1.0
            next_id += 1
        self.agency_ids = [row[0] for row in rows]
        self.commission = commission
        self.busy_agency = self.departments["医政医管处"]
        copy_rows(
            self.cur,
            "accounts_agency",
            ["id", "name", "short_name", "level", "parent_id", "order", "is_active"],
            [(*row, True) for row in rows],
        )
        self.log("agencies", len(rows), started)

    # Users: three staff and one leader per agency, an admin and an auditor.
    def users(self):
        started = time.perf_counter()
        surnames = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
        given = "伟芳娜敏静丽强磊军洋勇艳杰涛明超秀霞平刚桂英"
        rows, uid = [], 1
        self.staff, self.leaders = {}, {}
        joined = iso(datetime.datetime(2023, 1, 3, tzinfo=CST).timestamp())
        for agency_id in self.agency_ids:
            for k, role in enumerate(["staff", "staff", "staff", "leader"]):
                given_name = "".join(self.rng.choice(given) for _ in range(self.rng.randint(1, 2)))
                name = self.rng.choice(surnames) + given_name
                rows.append(
                    (
                        uid,
                        "!bench",
                        None,
                        False,
                        f"u{agency_id}_{k}",
                        "",
                        "",
                        "",
                        False,
                        True,
                        joined,
                        name,
                        role,
                        f"139{uid:08d}",
                        agency_id,
                    )
                )
                (self.staff if role == "staff" else self.leaders).setdefault(agency_id, []).append(uid)
                uid += 1
        self.admin = uid
        rows.append(
            (uid, "!bench", None, True, "bench_admin", "", "", "", True, True, joined, "管理员", "admin", "", None)
        )
        rows.append(
            (
                uid + 1,
                "!bench",
                None,
                False,
                "bench_auditor",
                "",
                "",
                "",
                False,
                True,
                joined,
                "审计员",
                "auditor",
                "",
                None,
            )
        )
        copy_rows(
            self.cur,
            "accounts_user",
            [
                "id",
                "password",
                "last_login",
                "is_superuser",
                "username",
                "first_name",
                "last_name",
                "email",
                "is_staff",
                "is_active",
                "date_joined",
                "full_name",
                "role",
                "phone",
                "agency_id",
                "person_id",
                "is_unit_reviewer",
            ],
            # The administrators carry the person behind the account (三员分立); nobody
            # here is a unit reviewer.
            [(*row, f"BENCH{row[0]}" if row[12] in ("admin", "security", "auditor") else "", False) for row in rows],
        )
        self.log("users", len(rows), started)

    # Plans and their sections: three parts of five subsections each.
    def plans(self):
        started = time.perf_counter()
        plans, sections = [], []
        self.plan_info = []  # (plan id, year, status, created ts, [subsection ids])
        section_id, plan_id = 1, 1
        departments = list(self.departments.values())
        for year, status, how_many in PLAN_SPECS:
            for k in range(how_many):
                created = at(datetime.date(year, 1, 15), 9) + plan_id * 60
                issuer = self.commission if k % 3 == 0 else departments[(plan_id * 7) % len(departments)]
                cycle = "quarterly" if plan_id % 4 == 0 else "monthly"
                edition = "旧版" if status == "archived" else "第"
                title = f"{year}年{CITY}{PLAN_THEMES[k % len(PLAN_THEMES)]}（{edition}{k + 1}号）"
                plans.append(
                    (
                        plan_id,
                        title,
                        year,
                        issuer,
                        f"澄卫发〔{year}〕{k + 1}号",
                        datetime.date(year, 1, 10),
                        status,
                        cycle,
                        25,
                        "",
                        "",
                        iso(created),
                        iso(created),
                    )
                )
                subsections = []
                for p, part in enumerate(["第一部分", "第二部分", "第三部分"]):
                    top = section_id
                    sections.append((top, plan_id, None, part, ["深化改革", "提升能力", "强化保障"][p], p * 10))
                    section_id += 1
                    for s, label in enumerate("一二三四五"):
                        topic = TOPICS[(p * 5 + s) % len(TOPICS)]
                        sections.append((section_id, plan_id, top, label, topic, p * 10 + s + 1))
                        subsections.append(section_id)
                        section_id += 1
                self.plan_info.append((plan_id, year, status, created, subsections))
                plan_id += 1
        copy_rows(
            self.cur,
            "workplans_plan",
            [
                "id",
                "title",
                "year",
                "issuer_id",
                "doc_number",
                "issued_on",
                "status",
                "reporting_cycle",
                "report_due_day",
                "source_file",
                "source_sha256",
                "created_at",
                "updated_at",
            ],
            plans,
        )
        copy_rows(self.cur, "workplans_section", ["id", "plan_id", "parent_id", "label", "title", "order"], sections)
        self.log("plans, sections", len(plans) + len(sections), started)

    # Tasks, owners and 责任人; the update counts are drawn first (skewed: most tasks have a
    # handful, a few hundreds) so the busiest task can be given to the busy agency.
    def tasks(self):
        from tasks.models import Task

        started = time.perf_counter()
        rng = self.rng
        plan_weights = [1.0 if status == "active" else 0.6 for _, _, status, _, _ in self.plan_info]
        per_plan = spread(self.n_tasks, plan_weights, rng)
        update_weights = [0.0 if rng.random() < 0.04 else rng.lognormvariate(0, 1.0) for _ in range(self.n_tasks)]
        self.update_counts = spread(self.n_updates, update_weights, rng)
        hottest = max(range(self.n_tasks), key=self.update_counts.__getitem__)

        lead_weights = [self.weights[a] for a in self.lead_pool]
        all_agencies = list(self.weights)
        all_weights = [self.weights[a] for a in all_agencies]
        lead_cum = list(_cumulative(lead_weights))
        all_cum = list(_cumulative(all_weights))

        self.task_info = []  # per task: (id, plan index, due date, owners [lead first], year)
        task_rows, owner_rows, responsible_rows = [], [], []
        task_id, owner_id, responsible_id = 1, 1, 1
        for plan_index, (plan_id, year, _status, created, subsections) in enumerate(self.plan_info):
            numbers = dict.fromkeys(subsections, 0)
            traditional = plan_id % 9 == 0
            for order in range(per_plan[plan_index]):
                section = subsections[order % len(subsections)]
                numbers[section] += 1
                topic = rng.choice(TOPICS)
                heading = f"{rng.choice(VERBS)}{topic}{rng.choice(SUFFIXES)}"
                text = heading + "。" + "".join(rng.sample(SENTENCES, rng.randint(2, 4)))
                if traditional:
                    heading, text = heading.translate(TRADITIONAL), text.translate(TRADITIONAL)
                if rng.random() < 0.55:
                    due = datetime.date(year, 12, 31)
                else:
                    month = rng.randint(3, 12)
                    due = datetime.date(year, month, 28 if month == 2 else 30)
                # Owners: a lead, then none to two co-owners.
                index = task_id - 1
                lead = self.busy_agency if index == hottest else self.lead_pool[_pick(lead_cum, rng)]
                owners = [lead]
                for _ in range(rng.choices([0, 1, 2], [35, 40, 25])[0]):
                    other = all_agencies[_pick(all_cum, rng)]
                    if other not in owners:
                        owners.append(other)
                for k, agency in enumerate(owners):
                    owner_rows.append((owner_id, task_id, agency, "lead" if k == 0 else "co_owner", k))
                    owner_id += 1
                if rng.random() < 0.5:
                    people = self.staff[lead] + self.leaders[lead]
                    for user in rng.sample(people, rng.randint(1, 2)):
                        responsible_rows.append((responsible_id, task_id, user))
                        responsible_id += 1
                task_rows.append(
                    [
                        task_id,
                        str(numbers[section]),
                        heading,
                        text,
                        due,
                        "not_started",
                        0,
                        1,
                        None,
                        order,
                        iso(created),
                        iso(created),
                        plan_id,
                        section,
                        Task.make_search_text(heading, text),
                    ]
                )
                self.task_info.append((task_id, plan_index, due, owners, year))
                task_id += 1
        self.task_rows = task_rows
        self.owner_rows, self.responsible_rows = owner_rows, responsible_rows
        self.hottest = hottest
        self.log("tasks (prepared)", len(task_rows), started)

    # Progress updates: per task a chain of reports whose before-values are the previous
    # report's, ending in the task's current state; written in time order, like real ones.
    def progress(self):
        started = time.perf_counter()
        rng = self.rng
        updates = []  # (ts, task id, author, status, percent, note, status_before, percent_before, based_on_version)
        for index, (task_id, _plan_index, due, owners, year) in enumerate(self.task_info):
            k = self.update_counts[index]
            if not k:
                continue
            start = at(datetime.date(year, 1, 20), 9)
            end = min(at(datetime.date(year, 12, 31), 18), self.now_ts - 3600)
            stamps = sorted(rng.uniform(start, end) for _ in range(k))
            past_year = end < self.now_ts - 86400 * 30
            done_share = 0.82 if past_year else (0.55 if due < self.today else 0.3)
            roll = rng.random()
            if roll < done_share:
                final_status, final_percent = "done", 100
            else:
                final_percent = rng.randint(10, 95)
                final_status = rng.choices(["in_progress", "lagging", "on_hold"], [75, 17, 8])[0]
            lead, others = owners[0], owners[1:]
            status, percent = "not_started", 0
            for i, ts in enumerate(stamps):
                last = i == k - 1
                if last:
                    new_status, new_percent = final_status, final_percent
                elif i and rng.random() < 0.4:  # a note only: the state stays as it is
                    new_status, new_percent = status, percent
                else:
                    target = final_percent * (i + 1) / k + rng.uniform(-6, 6)
                    new_percent = max(percent, min(final_percent, round(target)))
                    new_status = "lagging" if final_status == "lagging" and i > 0.7 * k else "in_progress"
                    if new_status == "in_progress" and rng.random() < 0.03:
                        new_status = "on_hold"
                # State changes come from the lead; notes from any owner.
                changed = (new_status, new_percent) != (status, percent)
                author_agency = lead if changed or not others else rng.choice(owners)
                author = rng.choice(self.staff[author_agency])
                note = rng.choice(NOTES) if rng.random() < 0.85 else ""
                if note and rng.random() < 0.3:
                    note += rng.choice(NOTES)
                updates.append((ts, task_id, author, new_status, new_percent, note, status, percent, i + 1))
                status, percent = new_status, new_percent
            row = self.task_rows[index]
            row[5], row[6], row[7], row[8], row[11] = status, percent, k + 1, iso(stamps[-1]), iso(stamps[-1])
        self.log("progress updates (prepared)", len(updates), started)

        started = time.perf_counter()
        copy_rows(
            self.cur,
            "tasks_task",
            [
                "id",
                "number",
                "heading",
                "text",
                "due_on",
                "status",
                "percent",
                "version",
                "last_progress_at",
                "order",
                "created_at",
                "updated_at",
                "plan_id",
                "section_id",
                "search_text",
            ],
            self.task_rows,
        )
        self.log("tasks", len(self.task_rows), started)
        started = time.perf_counter()
        copy_rows(self.cur, "tasks_taskowner", ["id", "task_id", "agency_id", "role", "order"], self.owner_rows)
        copy_rows(self.cur, "tasks_task_responsible_users", ["id", "task_id", "user_id"], self.responsible_rows)
        self.log("owners, 责任人", len(self.owner_rows) + len(self.responsible_rows), started)

        started = time.perf_counter()
        updates.sort()
        # Per task, its updates in time order: (update id, ts, author), for milestones and readings.
        self.task_updates = {}
        attachments = []
        lines = []
        for uid, (ts, task_id, author, status, percent, note, before, percent_before, version) in enumerate(updates, 1):
            self.task_updates.setdefault(task_id, []).append((uid, ts, author))
            lines.append(
                f"{uid}\t{task_id}\t{author}\t{iso(ts)}\t{status}\t{percent}\t{note}\t{before}\t"
                f"{percent_before}\t{version}\n"
            )
            if self.rng.random() < 0.05:
                for n in range(self.rng.randint(1, 2)):
                    kind, content_type, ext = self.rng.choice(ATTACHMENT_KINDS)
                    day = local_date(ts)
                    attachments.append(
                        (
                            len(attachments) + 1,
                            uid,
                            task_id,
                            f"evidence/{day:%Y/%m}/{task_id}-{self.rng.getrandbits(64):016x}{ext}",
                            f"工作进展佐证材料{n + 1}{ext}",
                            kind,
                            content_type,
                            self.rng.randint(20_000, 5_000_000),
                            f"{self.rng.getrandbits(256):064x}",
                            author,
                            iso(ts),
                        )
                    )
        del updates
        columns = [
            "id",
            "task_id",
            "author_id",
            "created_at",
            "status",
            "percent",
            "note",
            "status_before",
            "percent_before",
            "based_on_version",
        ]
        copy_rows(self.cur, "tasks_progressupdate", columns, lines)
        self.log("progress updates", len(lines), started)
        del lines
        started = time.perf_counter()
        copy_rows(
            self.cur,
            "tasks_attachment",
            [
                "id",
                "progress_update_id",
                "task_id",
                "file",
                "original_name",
                "kind",
                "content_type",
                "size",
                "sha256",
                "uploaded_by_id",
                "created_at",
            ],
            attachments,
        )
        self.log("attachments", len(attachments), started)
        del self.task_rows

    def milestones_and_indicators(self):
        started = time.perf_counter()
        rng = self.rng
        milestones, indicators = [], []
        milestone_id = indicator_id = 1
        indicator_tasks = []  # per indicator: (plan id, year, task id, lead)
        for task_id, plan_index, _due, owners, year in self.task_info:
            plan_id = self.plan_info[plan_index][0]
            updates = self.task_updates.get(task_id, [])
            stamps = [ts for _, ts, _ in updates]
            for order in range(rng.choices([0, 1, 2, 3], [25, 30, 25, 20])[0]):
                day = datetime.date(year, rng.randint(2, 12), rng.randint(1, 28))
                done_on = done_by = None
                if updates and day < self.today and rng.random() < 0.75:
                    # Marked done by the first report from two weeks before the date onwards.
                    found = min(bisect.bisect_left(stamps, at(day) - 14 * 86400), len(updates) - 1)
                    done_by, ts, _ = updates[found]
                    done_on = local_date(ts)
                milestones.append((milestone_id, task_id, day, rng.choice(MILESTONE_TEXTS), done_on, done_by, order))
                milestone_id += 1
            for order in range(rng.choices([0, 1, 2], [45, 35, 20])[0]):
                name, comparator, unit = rng.choice(INDICATOR_KINDS)
                target = Decimal(rng.randint(80, 98)) if unit == "%" else Decimal(rng.randint(5, 20))
                baseline = (target - rng.randint(3, 10)) if comparator == ">=" else (target + rng.randint(1, 5))
                indicators.append(
                    (
                        indicator_id,
                        plan_id,
                        task_id,
                        f"{rng.choice(TOPICS)}{name}",
                        comparator,
                        f"{target:.4f}",
                        unit,
                        None if rng.random() < 0.7 else datetime.date(year, 12, 31),
                        f"{baseline:.4f}",
                        order,
                    )
                )
                indicator_tasks.append((plan_id, year, task_id, owners[0], target, comparator))
                indicator_id += 1
        copy_rows(
            self.cur,
            "tasks_milestone",
            ["id", "task_id", "due_on", "text", "done_on", "done_by_update_id", "order"],
            milestones,
        )
        self.log("milestones", len(milestones), started)
        started = time.perf_counter()
        copy_rows(
            self.cur,
            "indicators_indicator",
            ["id", "plan_id", "task_id", "name", "comparator", "target", "unit", "due_on", "baseline", "order"],
            indicators,
        )
        self.log("indicators", len(indicators), started)

        started = time.perf_counter()
        weights = [0.0 if rng.random() < 0.1 else rng.lognormvariate(0, 0.8) for _ in indicators]
        per_indicator = spread(self.n_readings, weights, rng)
        readings = []
        reading_id = 1
        for (ind_id, *_), (plan_id, year, task_id, lead, target, _comparator), count in zip(
            indicators, indicator_tasks, per_indicator, strict=True
        ):
            updates = self.task_updates.get(task_id, [])
            for _ in range(count):
                if updates and rng.random() < 0.6:
                    update_id, ts, reporter = rng.choice(updates)
                    as_of = local_date(ts)
                else:
                    update_id, reporter = None, rng.choice(self.staff[lead])
                    last = min(datetime.date(year, 12, 31), self.today - datetime.timedelta(days=1))
                    first = datetime.date(year, 1, 1)
                    as_of = first + datetime.timedelta(days=rng.randint(0, (last - first).days))
                    ts = at(as_of, 15)
                value = float(target) * rng.uniform(0.75, 1.1)
                readings.append((reading_id, plan_id, ind_id, f"{value:.4f}", as_of, reporter, "", update_id, iso(ts)))
                reading_id += 1
        copy_rows(
            self.cur,
            "indicators_reading",
            [
                "id",
                "plan_id",
                "indicator_id",
                "value",
                "as_of",
                "reporter_id",
                "note",
                "progress_update_id",
                "created_at",
            ],
            readings,
        )
        self.log("readings", len(readings), started)
        del self.task_updates

    # The audit trail, as django-simple-history would have written it: a creation record for
    # every object, a task record per progress update (with the 责任人 snapshot of each), a
    # milestone record when it was marked done. Built in the database from the rows above.
    def history(self):
        cur, admin = self.cur, self.admin
        steps = [
            (
                "accounts_historicalagency",
                [
                    "id",
                    "name",
                    "short_name",
                    "level",
                    "order",
                    "is_active",
                    "parent_id",
                    "history_date",
                    "history_type",
                    "history_user_id",
                    "ip_address",
                ],
                """
             SELECT id, name, short_name, level, "order", is_active, parent_id, '2023-01-03'::timestamptz, '+',
                 NULL::bigint, NULL::inet
             FROM accounts_agency ORDER BY id""",
            ),
            (
                "accounts_historicaluser",
                [
                    "id",
                    "is_superuser",
                    "username",
                    "first_name",
                    "last_name",
                    "email",
                    "is_staff",
                    "is_active",
                    "date_joined",
                    "full_name",
                    "role",
                    "phone",
                    "agency_id",
                    "history_date",
                    "history_type",
                    "history_user_id",
                    "ip_address",
                ],
                f"""
             SELECT id, is_superuser, username, first_name, last_name, email, is_staff, is_active, date_joined,
                 full_name, role, phone, agency_id, date_joined, '+', {admin}, '10.0.0.2'::inet
             FROM accounts_user ORDER BY id""",
            ),
            (
                "workplans_historicalplan",
                [
                    "id",
                    "title",
                    "year",
                    "issuer_id",
                    "doc_number",
                    "issued_on",
                    "status",
                    "reporting_cycle",
                    "report_due_day",
                    "source_file",
                    "source_sha256",
                    "created_at",
                    "updated_at",
                    "history_date",
                    "history_type",
                    "history_user_id",
                    "ip_address",
                ],
                f"""
             SELECT id, title, year, issuer_id, doc_number, issued_on, status, reporting_cycle, report_due_day,
                 source_file, source_sha256, created_at, updated_at, created_at, '+', {admin}, '10.0.0.2'::inet
             FROM workplans_plan ORDER BY id""",
            ),
            (
                "workplans_historicalsection",
                [
                    "id",
                    "plan_id",
                    "parent_id",
                    "label",
                    "title",
                    "order",
                    "history_date",
                    "history_type",
                    "history_user_id",
                    "ip_address",
                ],
                f"""
             SELECT s.id, s.plan_id, s.parent_id, s.label, s.title, s."order", p.created_at, '+', {admin},
                 '10.0.0.2'::inet
             FROM workplans_section s JOIN workplans_plan p ON p.id = s.plan_id ORDER BY s.id""",
            ),
            (
                "tasks_historicaltask",
                [
                    "id",
                    "ip_address",
                    "number",
                    "heading",
                    "text",
                    "due_on",
                    "status",
                    "percent",
                    "version",
                    "last_progress_at",
                    "order",
                    "created_at",
                    "updated_at",
                    "history_date",
                    "history_change_reason",
                    "history_type",
                    "history_user_id",
                    "plan_id",
                    "section_id",
                ],
                f"""
             SELECT * FROM (
                 SELECT t.id, '10.0.0.2'::inet, t.number, t.heading, t.text, t.due_on, 'not_started', 0, 1,
                     NULL::timestamptz, t."order", t.created_at, t.created_at, t.created_at AS history_date,
                     NULL, '+', {admin}::bigint, t.plan_id, t.section_id
                 FROM tasks_task t
                 UNION ALL
                 SELECT t.id,
                     ('10.' || (u.author_id % 200 + 20) || '.' || (u.id % 250) || '.' || (u.task_id % 250))::inet,
                     t.number, t.heading, t.text, t.due_on, u.status, u.percent, u.based_on_version + 1,
                     u.created_at, t."order", t.created_at, u.created_at, u.created_at, NULL, '~', u.author_id,
                     t.plan_id, t.section_id
                 FROM tasks_progressupdate u JOIN tasks_task t ON t.id = u.task_id
             ) AS records ORDER BY history_date""",
            ),
            (
                "tasks_historicaltask_responsible_users",
                ["id", "history_id", "task_id", "user_id"],
                """
             SELECT r.id, h.history_id, r.task_id, r.user_id
             FROM tasks_historicaltask h JOIN tasks_task_responsible_users r ON r.task_id = h.id
             ORDER BY h.history_id, r.id""",
            ),
            (
                "tasks_historicaltaskowner",
                [
                    "id",
                    "role",
                    "order",
                    "agency_id",
                    "task_id",
                    "history_date",
                    "history_type",
                    "history_user_id",
                    "ip_address",
                ],
                f"""
             SELECT o.id, o.role, o."order", o.agency_id, o.task_id, t.created_at, '+', {admin}, '10.0.0.2'::inet
             FROM tasks_taskowner o JOIN tasks_task t ON t.id = o.task_id ORDER BY t.created_at, o.id""",
            ),
            (
                "tasks_historicalmilestone",
                [
                    "id",
                    "due_on",
                    "text",
                    "done_on",
                    "order",
                    "task_id",
                    "done_by_update_id",
                    "history_date",
                    "history_type",
                    "history_user_id",
                    "ip_address",
                ],
                f"""
             SELECT * FROM (
                 SELECT m.id, m.due_on, m.text, NULL::date, m."order", m.task_id, NULL::bigint,
                     t.created_at AS history_date, '+', {admin}::bigint, '10.0.0.2'::inet
                 FROM tasks_milestone m JOIN tasks_task t ON t.id = m.task_id
                 UNION ALL
                 SELECT m.id, m.due_on, m.text, m.done_on, m."order", m.task_id, m.done_by_update_id,
                     u.created_at, '~', u.author_id, '10.30.0.1'::inet
                 FROM tasks_milestone m JOIN tasks_progressupdate u ON u.id = m.done_by_update_id
             ) AS records ORDER BY history_date""",
            ),
            (
                "indicators_historicalindicator",
                [
                    "id",
                    "name",
                    "comparator",
                    "target",
                    "unit",
                    "due_on",
                    "baseline",
                    "order",
                    "plan_id",
                    "task_id",
                    "history_date",
                    "history_type",
                    "history_user_id",
                    "ip_address",
                ],
                f"""
             SELECT i.id, i.name, i.comparator, i.target, i.unit, i.due_on, i.baseline, i."order", i.plan_id,
                 i.task_id, t.created_at, '+', {admin}, '10.0.0.2'::inet
             FROM indicators_indicator i JOIN tasks_task t ON t.id = i.task_id ORDER BY t.created_at, i.id""",
            ),
            (
                "indicators_historicalreading",
                [
                    "id",
                    "value",
                    "as_of",
                    "note",
                    "created_at",
                    "plan_id",
                    "reporter_id",
                    "indicator_id",
                    "progress_update_id",
                    "history_date",
                    "history_type",
                    "history_user_id",
                    "ip_address",
                ],
                """
             SELECT id, value, as_of, note, created_at, plan_id, reporter_id, indicator_id, progress_update_id,
                 created_at, '+', reporter_id, ('10.40.' || (reporter_id % 250) || '.1')::inet
             FROM indicators_reading ORDER BY created_at, id""",
            ),
        ]
        for table, columns, select in steps:
            started = time.perf_counter()
            extra = unknown_columns(table, columns)
            quoted = ", ".join(f'"{column}"' for column in [*columns, *(c for c, _ in extra)])
            params = None  # no parameters: the % in the SQL stays an operator
            if extra:
                placeholders = "".join(", %s" for _ in extra)
                select = f"SELECT records.*{placeholders} FROM ({select.replace('%', '%%')}) AS records"
                params = [value for _, value in extra]
            cur.execute(f"INSERT INTO {table} ({quoted}) {select}", params)
            self.log(table, cur.rowcount, started)


def _cumulative(weights):
    total = 0.0
    for w in weights:
        total += w
        yield total


def _pick(cumulative: list[float], rng: random.Random) -> int:
    return bisect.bisect_right(cumulative, rng.random() * cumulative[-1])


def app_models():
    from django.apps import apps

    labels = {"accounts", "workplans", "tasks", "indicators", "notifications", "dashboards"}
    return [m for m in apps.get_models(include_auto_created=True) if m._meta.app_label in labels and m._meta.managed]


def generate(params: dict, now: datetime.datetime) -> float:
    from django.core.management.color import no_style
    from django.db import connection, transaction

    started = time.perf_counter()
    tables = sorted({m._meta.db_table for m in app_models()} | {"django_session"})
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE")
        cursor.execute(f"DROP TABLE IF EXISTS {MARKER_TABLE}")
        cursor.execute("SET LOCAL work_mem = '256MB'")
        cursor.execute("SET LOCAL synchronous_commit = off")
        cursor.execute("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")
        superuser = cursor.fetchone()[0]
        if superuser:
            # The generator writes consistent rows; skipping the (deferred, per-row) foreign-key
            # triggers during the load saves time. Checked below with anti-joins instead.
            cursor.execute("SET LOCAL session_replication_role = replica")
        Generator(
            cursor,
            n_tasks=params["tasks"],
            n_updates=params["updates"],
            n_readings=params["readings"],
            seed=params["seed"],
            now=now,
        ).run()
        if superuser:
            cursor.execute("SET LOCAL session_replication_role = origin")
            check_references(cursor)
        for statement in connection.ops.sequence_reset_sql(no_style(), app_models()):
            cursor.execute(statement)
        cursor.execute(
            f"CREATE TABLE {MARKER_TABLE} (key text PRIMARY KEY, params jsonb NOT NULL, made_at timestamptz)"
        )
        cursor.execute(f"INSERT INTO {MARKER_TABLE} VALUES ('data', %s, now())", [json.dumps(params)])
    load = time.perf_counter() - started
    step = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute("VACUUM (ANALYZE) " + ", ".join(tables))
    print(f"  {'VACUUM ANALYZE':<34} {'':>10}       {time.perf_counter() - step:6.1f} s")
    return load + time.perf_counter() - step


def check_references(cursor) -> None:
    """The foreign keys the load did not check, checked in bulk."""
    checks = [
        ("tasks_progressupdate", "task_id", "tasks_task"),
        ("tasks_progressupdate", "author_id", "accounts_user"),
        ("tasks_taskowner", "task_id", "tasks_task"),
        ("tasks_taskowner", "agency_id", "accounts_agency"),
        ("tasks_task", "section_id", "workplans_section"),
        ("tasks_task", "plan_id", "workplans_plan"),
        ("tasks_milestone", "done_by_update_id", "tasks_progressupdate"),
        ("indicators_reading", "indicator_id", "indicators_indicator"),
        ("indicators_reading", "progress_update_id", "tasks_progressupdate"),
        ("tasks_attachment", "progress_update_id", "tasks_progressupdate"),
        ("tasks_historicaltask", "history_user_id", "accounts_user"),
    ]
    for table, column, target in checks:
        cursor.execute(
            f"SELECT count(*) FROM {table} c WHERE c.{column} IS NOT NULL "
            f"AND NOT EXISTS (SELECT 1 FROM {target} p WHERE p.id = c.{column})"
        )
        missing = cursor.fetchone()[0]
        if missing:
            raise RuntimeError(f"{missing} rows of {table}.{column} point to no {target}")
    cursor.execute("""SELECT count(*) FROM tasks_task t JOIN workplans_section s ON s.id = t.section_id
                      WHERE s.plan_id <> t.plan_id""")
    assert cursor.fetchone()[0] == 0, "a task's section belongs to another plan"


# --- Measuring ------------------------------------------------------------------------------------


def pick_subjects(cursor):
    """The staff member of the busiest agency, a typical task of it and its task with the most history."""
    cursor.execute("""
        SELECT o.agency_id, count(DISTINCT o.task_id) FROM tasks_taskowner o
        JOIN tasks_task t ON t.id = o.task_id JOIN workplans_plan p ON p.id = t.plan_id
        WHERE p.status = 'active' GROUP BY o.agency_id ORDER BY 2 DESC, 1 LIMIT 1""")
    agency_id, owned = cursor.fetchone()
    cursor.execute(
        "SELECT id FROM accounts_user WHERE agency_id = %s AND role = 'staff' AND is_active ORDER BY id LIMIT 1",
        [agency_id],
    )
    user_id = cursor.fetchone()[0]
    cursor.execute(
        """
        WITH mine AS (
            SELECT t.id, t.version - 1 AS updates
            FROM tasks_task t JOIN workplans_plan p ON p.id = t.plan_id
            WHERE p.status = 'active'
              AND EXISTS (SELECT 1 FROM tasks_taskowner o WHERE o.task_id = t.id AND o.agency_id = %s))
        SELECT (SELECT percentile_disc(0.5) WITHIN GROUP (ORDER BY updates) FROM mine),
               (SELECT id FROM mine ORDER BY updates DESC, id LIMIT 1)""",
        [agency_id],
    )
    median_updates, hot_task = cursor.fetchone()
    # Typical: a task the agency leads with the median number of updates, a milestone and an indicator.
    cursor.execute(
        """
        SELECT t.id FROM tasks_task t JOIN workplans_plan p ON p.id = t.plan_id
        JOIN tasks_taskowner o ON o.task_id = t.id AND o.agency_id = %s AND o.role = 'lead'
        WHERE p.status = 'active' AND t.version - 1 = %s
          AND EXISTS (SELECT 1 FROM tasks_milestone m WHERE m.task_id = t.id)
          AND EXISTS (SELECT 1 FROM indicators_indicator i WHERE i.task_id = t.id)
        ORDER BY t.id LIMIT 1""",
        [agency_id, median_updates],
    )
    row = cursor.fetchone()
    typical_task = row[0] if row else hot_task
    return agency_id, owned, user_id, typical_task, hot_task


def task_stats(cursor, task_id):
    cursor.execute(
        """SELECT (SELECT count(*) FROM tasks_progressupdate WHERE task_id = %s),
                             (SELECT count(*) FROM tasks_historicaltask WHERE id = %s),
                             (SELECT count(*) FROM tasks_milestone WHERE task_id = %s),
                             (SELECT count(*) FROM indicators_indicator WHERE task_id = %s),
                             (SELECT count(*) FROM indicators_reading r
                              JOIN indicators_indicator i ON i.id = r.indicator_id WHERE i.task_id = %s)""",
        [task_id] * 5,
    )
    return cursor.fetchone()


def percentile(samples: list[float], fraction: float) -> float:
    ordered = sorted(samples)
    return ordered[max(0, math.ceil(fraction * len(ordered)) - 1)]


def measure(client, url: str, *, warmup: int, runs: int, reference=None):
    """The page's timings and, when given, its reference's, taken alternately (report.interleave)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def get():
        response = client.get(url)
        if response.status_code != 200:
            raise RuntimeError(f"GET {url} answered {response.status_code}: {response.content[:500]!r}")
        return response

    if reference is None:
        for _ in range(warmup):
            get()
        timings, reference_ms = [], []
        for _ in range(runs):
            started = time.perf_counter()
            get()
            timings.append((time.perf_counter() - started) * 1000)
    else:
        timings, reference_ms = _report().interleave(get, reference, runs, warmup=warmup)
    # One more request with its queries recorded (outside the timed ones: recording costs a
    # little). CaptureQueriesContext counts them (BEGIN/COMMIT included) and keeps the SQL;
    # its times are rounded to the millisecond, so the client-side time of each is taken here.
    client_ms = []

    def timed(execute, sql, params, many, context):
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            client_ms.append((time.perf_counter() - started) * 1000)

    with CaptureQueriesContext(connection) as captured, connection.execute_wrapper(timed):
        started = time.perf_counter()
        response = get()
        captured_ms = (time.perf_counter() - started) * 1000
    # Server time of every SELECT, from EXPLAIN ANALYZE (timing off, so barely inflated): also
    # covers the ones Django runs through a server-side cursor, whose FETCHes are not recorded.
    selects = []
    for query in captured.captured_queries:
        sql = DECLARE.sub("", query["sql"])
        if sql.lstrip().upper().startswith("SELECT"):
            selects.append((server_ms(sql), sql))
    selects.sort(key=lambda pair: pair[0], reverse=True)
    return {
        "url": url,
        "samples": timings,
        "reference": reference_ms,
        "median": statistics.median(timings),
        "p95": percentile(timings, 0.95),
        "best": min(timings),
        "queries": len(captured.captured_queries),
        "client_sql_ms": sum(client_ms),
        "server_sql_ms": sum(ms for ms, _ in selects),
        "selects": selects,
        "captured_ms": captured_ms,
        "bytes": len(response.content),
    }


def _report():
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    import report

    return report


# --- References: the hand-written SQL that fetches what a page shows ---------------------------

# 我的任务's page of 30 tasks of one agency with its count, and the 本期未报送 count: one
# statement. {where} and {order} vary with the case; the next open milestone is looked up for
# the 30 rows of the page only.
MY_TASKS_SQL = """
WITH page AS (
    SELECT t.id, t.plan_id, t.number, t.heading, t.due_on, t.status, t.percent, t.last_progress_at,
           t."order", o.role, p.title, p.year, p.reporting_cycle, p.report_due_day, s.label,
           count(*) OVER () AS total
    FROM tasks_taskowner o
    JOIN tasks_task t ON t.id = o.task_id
    JOIN workplans_plan p ON p.id = t.plan_id
    LEFT JOIN workplans_section s ON s.id = t.section_id
    WHERE o.agency_id = %(agency)s AND p.status = 'active' {where}
    ORDER BY {order}, t.plan_id, t."order", t.id
    LIMIT 30 OFFSET %(offset)s
)
SELECT page.*, next.due_on, next.text,
       (SELECT count(*) FROM tasks_taskowner o
        JOIN tasks_task t ON t.id = o.task_id JOIN workplans_plan p ON p.id = t.plan_id
        WHERE o.agency_id = %(agency)s AND p.status = 'active' AND NOT t.reporting_exempt
          AND t.status NOT IN ('done', 'closed') AND NOT ({reported})) AS owed
FROM page
LEFT JOIN LATERAL (
    SELECT m.due_on, m.text FROM tasks_milestone m
    WHERE m.task_id = page.id AND m.done_on IS NULL ORDER BY m.due_on, m."order" LIMIT 1
) next ON true
ORDER BY {order_page}, page.plan_id, page."order", page.id
"""
# Reported this cycle: an update since the start of the plan's month or quarter (local time).
REPORTED_SQL = (
    "coalesce((p.reporting_cycle = 'monthly' AND t.last_progress_at >= %(month_start)s)"
    " OR (p.reporting_cycle = 'quarterly' AND t.last_progress_at >= %(quarter_start)s), false)"
)


def my_tasks_reference(agency_id: int, query: dict, today: datetime.date):
    """A function running the hand-written SQL for the 我的任务 request `query`."""
    from django.db import connection

    from core.text import script_key

    month_start = datetime.datetime(today.year, today.month, 1, tzinfo=CST)
    quarter = (today.month - 1) // 3
    params = {
        "agency": agency_id,
        "today": today,
        "offset": (int(query.get("page", 1)) - 1) * 30,
        "month_start": month_start,
        "quarter_start": datetime.datetime(today.year, 3 * quarter + 1, 1, tzinfo=CST),
    }
    where, order, order_page = "", "t.due_on", "page.due_on"
    if "q" in query:
        where += " AND t.search_text LIKE %(like)s"
        params["like"] = f"%{script_key(query['q'])}%"
    if query.get("overdue") == "1":
        where += " AND t.due_on < %(today)s AND t.status NOT IN ('done', 'closed')"
    if query.get("reported") == "0":
        where += f" AND NOT t.reporting_exempt AND t.status NOT IN ('done', 'closed') AND NOT ({REPORTED_SQL})"
    if query.get("sort") == "-updated":
        order, order_page = "t.last_progress_at DESC", "page.last_progress_at DESC"
    sql = MY_TASKS_SQL.format(where=where, order=order, order_page=order_page, reported=REPORTED_SQL)

    def run():
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            return cursor.fetchall()

    return run


# The task page's rows: the task with its plan and section, owners, milestones, indicators with
# their latest reading, the latest 21 updates with their authors, 50 files, 责任人 and the 30
# newest history records: one statement each, as few as the page could do with.
TASK_PAGE_SQL = [
    """SELECT t.*, p.*, s.* FROM tasks_task t JOIN workplans_plan p ON p.id = t.plan_id
       LEFT JOIN workplans_section s ON s.id = t.section_id WHERE t.id = %(task)s""",
    """SELECT o.*, a.name, a.short_name FROM tasks_taskowner o JOIN accounts_agency a ON a.id = o.agency_id
       WHERE o.task_id = %(task)s ORDER BY o.role, o."order", o.id""",
    """SELECT m.* FROM tasks_milestone m WHERE m.task_id = %(task)s ORDER BY m.due_on, m."order", m.id""",
    """SELECT i.*, r.value, r.as_of FROM indicators_indicator i LEFT JOIN LATERAL (
           SELECT r.value, r.as_of FROM indicators_reading r WHERE r.indicator_id = i.id
           ORDER BY r.as_of DESC, r.id DESC LIMIT 1) r ON true
       WHERE i.task_id = %(task)s ORDER BY i."order", i.id""",
    """SELECT u.*, a.full_name FROM tasks_progressupdate u JOIN accounts_user a ON a.id = u.author_id
       WHERE u.task_id = %(task)s ORDER BY u.created_at DESC, u.id DESC LIMIT 21""",
    """SELECT f.* FROM tasks_attachment f WHERE f.task_id = %(task)s ORDER BY f.created_at DESC, f.id DESC LIMIT 50""",
    """SELECT u.id, u.full_name FROM tasks_task_responsible_users r JOIN accounts_user u ON u.id = r.user_id
       WHERE r.task_id = %(task)s""",
    """SELECT h.* FROM tasks_historicaltask h WHERE h.id = %(task)s ORDER BY h.history_date DESC LIMIT 31""",
]


def task_page_reference(task_id: int):
    from django.db import connection

    def run():
        with connection.cursor() as cursor:
            for sql in TASK_PAGE_SQL:
                cursor.execute(sql, {"task": task_id})
                cursor.fetchall()

    return run


DECLARE = re.compile(r"^\s*DECLARE\s+\S+\s+.*?CURSOR\s+WITH(?:OUT)?\s+HOLD\s+FOR\s+", re.IGNORECASE | re.DOTALL)


def server_ms(sql: str) -> float:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN (ANALYZE, TIMING OFF, FORMAT JSON) " + sql)
        plan = cursor.fetchone()[0]
    plan = plan[0] if isinstance(plan, list) else json.loads(plan)[0]
    return plan["Planning Time"] + plan["Execution Time"]


def explain(sql: str) -> str:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql)
        return "\n".join(row[0] for row in cursor.fetchall())


def pad(text: str, width: int) -> str:
    """Left-justify counting CJK characters as two columns, as a terminal shows them."""
    shown = sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)
    return text + " " * max(0, width - shown)


def shorten(sql: str, limit: int) -> str:
    sql = " ".join(sql.split())
    return sql if len(sql) <= limit else sql[: limit - 1] + "…"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rebuild", action="store_true", help="regenerate the data even if it is current")
    parser.add_argument("--tasks", type=int, default=50_000)
    parser.add_argument("--updates", type=int, default=None, help="default: 20 per task")
    parser.add_argument("--readings", type=int, default=None, help="default: 4 per task")
    parser.add_argument("--seed", type=int, default=20261124)
    parser.add_argument("--runs", type=int, default=30, help="timed requests per page")
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--q", default="家庭医生", help="the search term for the q= case")
    parser.add_argument("--show", type=int, default=2, help="slowest queries shown per page")
    parser.add_argument("--sql-chars", type=int, default=600, help="SQL shown per query, in characters")
    parser.add_argument(
        "--explain",
        action="store_true",
        help="EXPLAIN ANALYZE the slowest query of every page (by default: of failing pages only)",
    )
    args = parser.parse_args()
    sized(args)

    url = os.environ.setdefault("DATABASE_URL", database_for(args.tasks))
    ensure_database(url)

    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client
    from django.utils import timezone

    from accounts.models import User

    call_command("migrate", verbosity=0, interactive=False)
    print(
        f"database: {connection.vendor} {connection.pg_version // 10000} ({connection.settings_dict['NAME']}), "
        f"DEBUG={settings.DEBUG}"
    )

    # The data set is pinned to the day it is made (dates of updates, which tasks are overdue);
    # a re-run on a later day reuses it, and the pages compute "today" as they always do.
    params = {
        "version": GENERATOR_VERSION,
        "tasks": args.tasks,
        "updates": args.updates,
        "readings": args.readings,
        "seed": args.seed,
    }
    with connection.cursor() as cursor:
        current = not args.rebuild and data_is_current(cursor, params)
    if current:
        print("data: reusing the existing data set (--rebuild to regenerate)")
    else:
        print(f"data: generating {args.tasks:,} tasks, {args.updates:,} progress updates, {args.readings:,} readings …")
        seconds = generate(params, timezone.now())
        print(f"data: generated in {seconds:.1f} s")
        connection.close()

    with connection.cursor() as cursor:
        cursor.execute("""SELECT (SELECT count(*) FROM accounts_agency), (SELECT count(*) FROM accounts_user),
                                 (SELECT count(*) FROM workplans_plan WHERE status = 'active'),
                                 (SELECT count(*) FROM workplans_plan WHERE status = 'archived'),
                                 (SELECT count(*) FROM tasks_task), (SELECT count(*) FROM tasks_taskowner),
                                 (SELECT count(*) FROM tasks_milestone), (SELECT count(*) FROM indicators_indicator),
                                 (SELECT count(*) FROM indicators_reading), (SELECT count(*) FROM tasks_progressupdate),
                                 (SELECT count(*) FROM tasks_attachment), (SELECT count(*) FROM tasks_historicaltask),
                                 (SELECT count(*) FROM tasks_historicaltask_responsible_users)""")
        counts = cursor.fetchone()
        print(
            "      "
            + ", ".join(
                f"{n:,} {label}"
                for n, label in zip(
                    counts,
                    [
                        "agencies",
                        "users",
                        "active plans",
                        "archived plans",
                        "tasks",
                        "task owners",
                        "milestones",
                        "indicators",
                        "readings",
                        "progress updates",
                        "attachments",
                        "task history records",
                        "责任人 snapshots",
                    ],
                    strict=True,
                )
            )
        )
        _, owned, user_id, typical_task, hot_task = pick_subjects(cursor)
        typical_stats, hot_stats = task_stats(cursor, typical_task), task_stats(cursor, hot_task)
    user = User.objects.select_related("agency").get(pk=user_id)
    print(f"user: {user.username} (staff of {user.agency.name}, which owns {owned:,} tasks of active plans)")
    for label, task_id, stats in (("typical task", typical_task, typical_stats), ("busiest task", hot_task, hot_stats)):
        print(
            f"{label}: #{task_id} — {stats[0]:,} progress updates, {stats[1]:,} task history records, "
            f"{stats[2]} milestones, {stats[3]} indicators, {stats[4]} readings"
        )

    client = Client()
    client.force_login(user)
    today = timezone.localdate()
    cases = []
    for label, query in LIST_CASES:
        query = {k: (args.q if v is None else v) for k, v in query.items()}
        cases.append(
            (
                label.replace("<search>", args.q),
                "/tasks/mine/" + (f"?{urlencode(query)}" if query else ""),
                my_tasks_reference(user.agency_id, query, today),
                "its page of 30 and counts in one SQL statement",
            )
        )
    for label, task_id in (("task page, typical", typical_task), ("task page, busiest", hot_task)):
        cases.append((label, f"/tasks/{task_id}/", task_page_reference(task_id), "its rows, one SQL statement each"))

    load = ", ".join(f"{n:.1f}" for n in os.getloadavg())
    print(
        f"\ntiming: {args.warmup} warm-up + {args.runs} timed requests per page, then one with its queries recorded "
        f"(load average {load} on {os.cpu_count()} CPUs: other work on the machine inflates the figures)"
    )
    report = _report()
    results = []
    for label, path, reference, reference_name in cases:
        result = measure(client, path, warmup=args.warmup, runs=args.runs, reference=reference)
        results.append((label, result))
        report.record(
            "staff pages",
            label,
            samples=result["samples"],
            reference=result["reference"],
            reference_name=reference_name,
            queries=result["queries"],
            tasks=args.tasks,
            target=f"median ≤ {TARGET_MS:.0f} ms",
            met=result["median"] <= TARGET_MS,
        )
        print(f"\n{label}  GET {unquote(path)}")
        print(
            f"  median {result['median']:.1f} ms, p95 {result['p95']:.1f} ms, best {result['best']:.1f} ms; "
            f"{result['queries']} queries; SQL {result['client_sql_ms']:.1f} ms client-side, "
            f"{result['server_sql_ms']:.1f} ms server-side, of a {result['captured_ms']:.1f} ms request; "
            f"{result['bytes'] / 1024:.0f} KB of HTML"
        )
        for ms, sql in result["selects"][: args.show]:
            print(f"  slow query, {ms:.1f} ms on the server: {shorten(sql, args.sql_chars)}")
        if args.explain or result["median"] > TARGET_MS:
            for ms, sql in result["selects"][:2]:
                print(f"  EXPLAIN (ANALYZE, BUFFERS) of the {ms:.1f} ms query:")
                print("    " + explain(sql).replace("\n", "\n    "))

    print(
        f"\n{pad('page', 32)} {'median':>9} {'p95':>9} {'queries':>8} {'reference':>10} {'ratio':>6}"
        f"  target: median ≤ {TARGET_MS:.0f} ms"
    )
    for label, result in results:
        verdict = "PASS" if result["median"] <= TARGET_MS else "FAIL"
        reference = statistics.median(result["reference"])
        print(
            f"{pad(label, 32)} {result['median']:>6.1f} ms {result['p95']:>6.1f} ms {result['queries']:>8} "
            f"{reference:>7.1f} ms {result['median'] / reference:>5.1f}×  {verdict}"
        )


if __name__ == "__main__":
    main()
