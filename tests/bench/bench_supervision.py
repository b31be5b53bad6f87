"""Time the supervision loop's pages on a large database: the supervisor's work list (待办,
/supervision/) and the review page of a report (/supervision/reports/<pk>/), 50,000 tasks.

Run by hand (not a test). Target (issue 16): at most 150 ms server time (median) per page,
printed beside references measured the same way in the same run: 我的任务 (the staff page
bench_staff_pages holds to the same target) and the raw SQL of the work list's main queries.

usage: [DATABASE_URL=postgres://postgres@127.0.0.1:5432/workplans_bench_supervision] \\
       .venv/bin/python tests/bench/bench_supervision.py [--rebuild] [--runs 30] [--explain]

The city (tasks, owners, progress updates, milestones, indicators, history) is
bench_staff_pages's generator, imported, in a database of its own kept between runs. On top
of it this script writes, with COPY, the loop: a report for the current cycle on ~60% of the
open tasks of active plans (accepted, pending_review, pending_signoff, returned, draft) and
the previous cycles' reports, 1–3 revisions each, their steps (Transition), the co-owners'
input, close-outs and delay/change requests, a supervisor (agency: the city root) and a unit
head. Its own marker table says which parameters it was made with; --rebuild redoes both.
Exits with 2 when a page is missing (nothing timed); a page over target is printed FAIL
(exit 0, as the other benchmarks, so `make bench` runs them all).
"""

import argparse
import datetime
import json
import os
import random
import statistics
import sys
import time
from decimal import Decimal
from urllib.parse import unquote

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/workplans_bench_supervision"
os.environ.setdefault("DATABASE_URL", DEFAULT_DATABASE_URL)

import bench_staff_pages as city  # noqa: E402  (sets the settings module, DEBUG=0, ROOT on sys.path)

TARGET_MS = city.TARGET_MS  # 150 ms, the target
# Bump when the loop's generator changes: the loop is rewritten (the city is kept).
LOOP_VERSION = 1
MARKER_TABLE = "bench_supervision_marker"
SUPERVISOR = "bench_supervisor"
UNIT_HEAD = "bench_unit_head"
PASSWORD = "bench-supervision-2026"

# The current cycle's reports: share of open tasks with one, and how their states spread.
REPORT_SHARE = 0.6
CURRENT_STATES = [("accepted", 30), ("pending_review", 25), ("pending_signoff", 12), ("returned", 10), ("draft", 23)]
# Earlier cycles: nearly all accepted, a few left waiting or returned.
PAST_STATES = [("accepted", 94), ("pending_review", 2), ("returned", 3), ("pending_signoff", 1)]

PROGRESS = [
    "本期按计划推进各项工作，完成阶段性目标。",
    "召开专题推进会，细化任务分工，明确时间节点。",
    "完成数据汇总与质量核查，形成阶段性报告。",
    "组织督导检查，对发现的问题建立整改台账。",
    "会同相关部门开展联合调研，完成调研报告初稿。",
]
PROBLEMS = ["", "", "部分区县进度不平衡。", "经费下达滞后，影响部分工作开展。", "基层人员力量不足。"]
NEXT_STEPS = ["下一步将加快推进，确保按期完成。", "继续加强督导，推动问题整改到位。", "做好年度总结和评估准备。"]
RETURN_REASONS = [
    "请补充佐证材料（会议纪要或文件）。",
    "进展描述过于笼统，请写明具体完成的工作量。",
    "完成百分比与里程碑完成情况不符，请核实。",
    "请说明指标未达预期的原因及整改措施。",
]
REQUEST_REASONS = [
    "受上级政策调整影响，需顺延完成时限。",
    "项目招标流程延长，申请延期。",
    "因经费下达延迟，相关工作无法按期开展。",
    "根据实际情况调整任务表述，使之更符合工作实际。",
]


# --- The loop on top of the city ---------------------------------------------------------------


class Loop:
    """Writes the supervision loop's rows for the city already in the database."""

    def __init__(self, cursor, *, seed: int, now: datetime.datetime, past_cycles: int):
        self.cur = cursor
        self.rng = random.Random(seed)
        self.now = now
        self.now_ts = now.timestamp()
        self.today = now.astimezone(city.CST).date()
        self.past_cycles = past_cycles
        self.transitions = []
        self._due_cache = {}

    def log(self, what, rows, started):
        print(f"  {what:<34} {rows:>10,} rows  {time.perf_counter() - started:6.1f} s", flush=True)

    def due(self, kind, day: datetime.date) -> datetime.date:
        from supervision.deadlines import Deadline, deadline

        key = (kind, day)
        if key not in self._due_cache:
            self._due_cache[key] = deadline(getattr(Deadline, kind), day)
        return self._due_cache[key]

    def step(self, task_id, link, obj_id, action, before, after, actor, ts, comment=""):
        columns = {"report": None, "co_input": None, "close_out": None, "request": None}
        columns[link] = obj_id
        self.transitions.append(
            (
                task_id,
                columns["report"],
                columns["co_input"],
                columns["close_out"],
                columns["request"],
                action,
                before,
                after,
                actor,
                comment,
                city.iso(ts),
            )
        )

    def run(self):
        self.load_city()
        self.people_and_plans()
        self.reports()
        self.inputs()
        self.close_outs()
        self.requests()
        started = time.perf_counter()
        for n, row in enumerate(self.transitions, 1):
            self.transitions[n - 1] = (n, *row)
        city.copy_rows(
            self.cur,
            "supervision_transition",
            [
                "id",
                "task_id",
                "report_id",
                "co_input_id",
                "close_out_id",
                "request_id",
                "action",
                "state_before",
                "state_after",
                "actor_id",
                "comment",
                "created_at",
            ],
            self.transitions,
        )
        self.log("transitions", len(self.transitions), started)

    def load_city(self):
        cur = self.cur
        cur.execute("SELECT id, reporting_cycle, report_due_day, status FROM workplans_plan ORDER BY id")
        self.plans = {pid: (cycle, due_day, status) for pid, cycle, due_day, status in cur.fetchall()}
        cur.execute("""SELECT t.id, t.plan_id, t.status, t.percent, t.due_on FROM tasks_task t ORDER BY t.id""")
        self.tasks = {tid: (pid, status, percent, due) for tid, pid, status, percent, due in cur.fetchall()}
        cur.execute('SELECT task_id, agency_id, role FROM tasks_taskowner ORDER BY task_id, "order", id')
        self.owners = {}
        for task_id, agency_id, role in cur.fetchall():
            self.owners.setdefault(task_id, []).append((agency_id, role))
        cur.execute(
            "SELECT agency_id, role, id FROM accounts_user WHERE agency_id IS NOT NULL AND is_active ORDER BY id"
        )
        self.staff, self.leaders = {}, {}
        for agency_id, role, uid in cur.fetchall():
            if role == "staff":
                self.staff.setdefault(agency_id, []).append(uid)
            elif role == "leader":
                self.leaders.setdefault(agency_id, []).append(uid)
        # The latest three progress updates of each task: what a report's revisions wrote.
        cur.execute("""SELECT task_id, id FROM (SELECT task_id, id, row_number() OVER (PARTITION BY task_id
                       ORDER BY id DESC) AS k FROM tasks_progressupdate) u WHERE k <= 3 ORDER BY task_id, id""")
        self.updates = {}
        for task_id, uid in cur.fetchall():
            self.updates.setdefault(task_id, []).append(uid)
        cur.execute("SELECT task_id, id, due_on FROM tasks_milestone WHERE done_on IS NULL ORDER BY id")
        self.milestones = {}
        for task_id, mid, due in cur.fetchall():
            self.milestones.setdefault(task_id, []).append((mid, due))
        cur.execute("SELECT task_id, id, target FROM indicators_indicator ORDER BY id")
        self.indicators = {}
        for task_id, iid, target in cur.fetchall():
            self.indicators.setdefault(task_id, []).append((iid, target))
        cur.execute("SELECT id FROM accounts_agency WHERE parent_id IS NULL ORDER BY id LIMIT 1")
        self.root = cur.fetchone()[0]

    def people_and_plans(self):
        """The supervisor (the city root's tree, a usable password), a unit head (审核人 of the
        busiest agency), and the plans' loop settings: a third need the unit's sign-off, half
        name a leader in charge, some name the supervisor."""
        from django.contrib.auth.hashers import make_password

        started = time.perf_counter()
        cur, rng = self.cur, self.rng
        cur.execute("""SELECT o.agency_id FROM tasks_taskowner o JOIN tasks_task t ON t.id = o.task_id
                       JOIN workplans_plan p ON p.id = t.plan_id WHERE p.status = 'active'
                       GROUP BY o.agency_id ORDER BY count(DISTINCT o.task_id) DESC, 1 LIMIT 1""")
        busy = cur.fetchone()[0]
        cur.execute("SELECT max(id) FROM accounts_user")
        uid = cur.fetchone()[0] + 1
        password = make_password(PASSWORD)
        joined = city.iso(datetime.datetime(2023, 1, 3, tzinfo=city.CST).timestamp())
        rows = [
            (
                uid,
                password,
                False,
                SUPERVISOR,
                "",
                "",
                "",
                False,
                True,
                joined,
                "督查室 赵督查",
                "supervisor",
                "",
                self.root,
                False,
            ),
            (
                uid + 1,
                password,
                False,
                UNIT_HEAD,
                "",
                "",
                "",
                False,
                True,
                joined,
                "医政处 钱审核",
                "staff",
                "",
                busy,
                True,
            ),
        ]
        city.copy_rows(
            cur,
            "accounts_user",
            [
                "id",
                "password",
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
                "is_unit_reviewer",
            ],
            rows,
        )
        self.supervisor, self.unit_head, self.busy = uid, uid + 1, busy
        self.staff[busy].append(uid + 1)
        self.signoff_plans, leader_rows, named = set(), [], []
        for pid in self.plans:
            if rng.random() < 0.33:
                self.signoff_plans.add(pid)
            if rng.random() < 0.5:
                leader_rows.append((pid, rng.choice(self.leaders[self.root])))
            if rng.random() < 0.15:
                named.append((len(named) + 1, pid, self.supervisor))
        cur.execute("UPDATE workplans_plan SET requires_unit_signoff = id = ANY(%s)", [sorted(self.signoff_plans)])
        for pid, leader in leader_rows:
            cur.execute("UPDATE workplans_plan SET leader_in_charge_id = %s WHERE id = %s", [leader, pid])
        city.copy_rows(cur, "workplans_plan_supervisors", ["id", "plan_id", "user_id"], named)
        self.log("supervisor, unit head, plan settings", 2 + len(self.plans), started)

    def cycles(self, kind, back):
        from workplans.cycles import cycle_for, previous_cycle

        cycle = cycle_for(kind, 25, self.today)
        for _ in range(back):
            cycle = previous_cycle(cycle, kind, 25)
        return cycle

    def reports(self):
        started = time.perf_counter()
        rng = self.rng
        reports, revisions = [], []
        self.current_reports = []  # (report id, task id, cycle) for the co-owners' input
        report_id = revision_id = 1
        open_tasks = [
            tid
            for tid, (pid, status, _p, _d) in self.tasks.items()
            if self.plans[pid][2] == "active" and status not in ("done", "closed")
        ]
        self.open_tasks = open_tasks
        for back in range(self.past_cycles, -1, -1):
            states = CURRENT_STATES if back == 0 else PAST_STATES
            names, weights = [s for s, _ in states], [w for _, w in states]
            share = REPORT_SHARE if back == 0 else 0.85
            for tid in open_tasks:
                if rng.random() >= share:
                    continue
                pid, status, percent, _due = self.tasks[tid]
                kind = self.plans[pid][0]
                cycle = self.cycles(kind, back)
                signoff = pid in self.signoff_plans
                state = rng.choices(names, weights)[0]
                if state == "pending_signoff" and not signoff:
                    state = "pending_review"
                lead = self.owners[tid][0][0]
                author = rng.choice(self.staff[lead])
                head = rng.choice(self.leaders[lead])
                # The window the report was written in: the cycle so far.
                start_ts = city.at(cycle.start, 9)
                end_ts = min(city.at(cycle.end, 18), self.now_ts - 1800)
                n = 0 if state == "draft" else rng.choices([1, 2, 3], [70, 22, 8])[0]
                stamps = sorted(rng.uniform(start_ts, end_ts) for _ in range(2 * n + 1))
                created = stamps[0]
                version, revision, submitted_at, requirements, accepted_at, decision_due = 1, 0, None, "", None, None
                state_now = "draft"
                updates = self.updates.get(tid, [])
                for i in range(n):
                    submit_ts, decide_ts = stamps[1 + 2 * i], stamps[2 + 2 * i]
                    last = i == n - 1
                    revision += 1
                    submitted_at = submit_ts
                    late = city.local_date(submit_ts) > cycle.due_on
                    update = updates[-n + i] if len(updates) >= n else (updates[-1] if updates else None)
                    revisions.append(
                        (
                            revision_id,
                            report_id,
                            tid,
                            revision,
                            rng.choice(PROGRESS),
                            rng.choice(PROBLEMS),
                            rng.choice(NEXT_STEPS),
                            status,
                            percent,
                            update,
                            author,
                            city.iso(submit_ts),
                            late,
                        )
                    )
                    revision_id += 1
                    after = "pending_signoff" if signoff else "pending_review"
                    self.step(tid, "report", report_id, "submit", state_now, after, author, submit_ts)
                    state_now, version = after, version + 1
                    if last and state == "pending_signoff":
                        decision_due = self.due("SIGNOFF", city.local_date(submit_ts))
                        break
                    if signoff:
                        self.step(
                            tid, "report", report_id, "sign_off", state_now, "pending_review", head, submit_ts + 3600
                        )
                        state_now, version = "pending_review", version + 1
                        submit_ts += 3600
                    if last and state == "pending_review":
                        decision_due = self.due("REVIEW", city.local_date(submit_ts))
                        break
                    if last and state == "accepted":
                        self.step(tid, "report", report_id, "accept", state_now, "accepted", self.supervisor, decide_ts)
                        state_now, version, accepted_at = "accepted", version + 1, decide_ts
                        break
                    requirements = rng.choice(RETURN_REASONS)
                    self.step(
                        tid,
                        "report",
                        report_id,
                        "return",
                        state_now,
                        "returned",
                        self.supervisor,
                        decide_ts,
                        requirements,
                    )
                    state_now, version = "returned", version + 1
                if state_now != state:
                    raise RuntimeError(f"report generator ended in {state_now}, meant {state}")
                if state == "accepted":
                    requirements = ""
                last_ts = max([created] + [t for t in (submitted_at, accepted_at) if t])
                reports.append(
                    (
                        report_id,
                        tid,
                        cycle.start,
                        cycle.end,
                        cycle.label,
                        cycle.due_on,
                        state,
                        version,
                        revision,
                        author,
                        rng.choice(PROGRESS),
                        rng.choice(PROBLEMS),
                        rng.choice(NEXT_STEPS),
                        "" if state == "draft" else status,
                        None if state == "draft" else percent,
                        city.iso(submitted_at) if submitted_at else None,
                        bool(submitted_at) and city.local_date(submitted_at) > cycle.due_on,
                        decision_due,
                        requirements,
                        city.iso(accepted_at) if accepted_at else None,
                        city.iso(created),
                        city.iso(last_ts),
                    )
                )
                if back == 0:
                    self.current_reports.append((report_id, tid, cycle))
                report_id += 1
        city.copy_rows(
            self.cur,
            "supervision_periodreport",
            [
                "id",
                "task_id",
                "period_start",
                "period_end",
                "period_label",
                "due_on",
                "state",
                "version",
                "revision",
                "author_id",
                "progress",
                "problems",
                "next_steps",
                "status",
                "percent",
                "submitted_at",
                "late",
                "decision_due_on",
                "requirements",
                "accepted_at",
                "created_at",
                "updated_at",
            ],
            reports,
        )
        self.log("period reports", len(reports), started)
        started = time.perf_counter()
        city.copy_rows(
            self.cur,
            "supervision_reportrevision",
            [
                "id",
                "report_id",
                "task_id",
                "number",
                "progress",
                "problems",
                "next_steps",
                "status",
                "percent",
                "progress_update_id",
                "submitted_by_id",
                "submitted_at",
                "late",
            ],
            revisions,
        )
        self.log("report revisions", len(revisions), started)

    def inputs(self):
        """The co-owners' input of this cycle, for the co-owned tasks that have a report."""
        from supervision.deadlines import co_owner_due

        started = time.perf_counter()
        rng, rows, input_id = self.rng, [], 1
        dues = {}
        for _report_id, tid, cycle in self.current_reports:
            for agency_id, role in self.owners[tid]:
                if role != "co_owner" or rng.random() >= 0.75:
                    continue
                if cycle.due_on not in dues:
                    dues[cycle.due_on] = co_owner_due(cycle.due_on)
                due_on = dues[cycle.due_on]
                author = rng.choice(self.staff[agency_id])
                created = rng.uniform(city.at(cycle.start, 9), self.now_ts - 3600)
                submitted = rng.random() < 0.8
                submitted_ts = rng.uniform(created, self.now_ts - 1800) if submitted else None
                rows.append(
                    (
                        input_id,
                        tid,
                        agency_id,
                        cycle.start,
                        cycle.label,
                        due_on,
                        "submitted" if submitted else "draft",
                        2 if submitted else 1,
                        rng.choice(PROGRESS) if submitted else "",
                        author,
                        None,
                        city.iso(submitted_ts) if submitted else None,
                        bool(submitted) and city.local_date(submitted_ts) > due_on,
                        city.iso(created),
                        city.iso(submitted_ts or created),
                    )
                )
                if submitted:
                    self.step(tid, "co_input", input_id, "submit", "draft", "submitted", author, submitted_ts)
                input_id += 1
        city.copy_rows(
            self.cur,
            "supervision_coownerinput",
            [
                "id",
                "task_id",
                "agency_id",
                "period_start",
                "period_label",
                "due_on",
                "state",
                "version",
                "text",
                "author_id",
                "progress_update_id",
                "submitted_at",
                "late",
                "created_at",
                "updated_at",
            ],
            rows,
        )
        self.log("co-owner input", len(rows), started)

    def close_outs(self):
        """Close-outs of finished tasks of active plans: pending and approved (the task then
        已销号), a few rejected (the task back in progress) or withdrawn."""
        started = time.perf_counter()
        rng, rows, ids = self.rng, [], 1
        done = [
            t for t, (pid, status, _p, _d) in self.tasks.items() if status == "done" and self.plans[pid][2] == "active"
        ]
        rng.shuffle(done)
        plan = [("pending", 1500), ("approved", 2500)]
        closed = []
        picked = iter(done)
        for state, how_many in plan:
            for _ in range(how_many):
                tid = next(picked, None)
                if tid is None:
                    break
                lead = self.owners[tid][0][0]
                author = rng.choice(self.staff[lead])
                filed = rng.uniform(self.now_ts - 86400 * 40, self.now_ts - 3600)
                due = self.due("REVIEW", city.local_date(filed))
                decided = rng.uniform(filed, self.now_ts - 600) if state == "approved" else None
                rows.append(
                    (
                        ids,
                        tid,
                        state,
                        1 if state == "pending" else 2,
                        "已完成全部任务目标，相关佐证材料已上传。",
                        "",
                        self.updates.get(tid, [None])[-1],
                        author,
                        city.iso(filed),
                        due,
                        state == "approved",
                        state == "approved",
                        state == "approved",
                        self.supervisor if decided else None,
                        city.iso(decided) if decided else None,
                        "",
                        "",
                    )
                )
                self.step(tid, "close_out", ids, "submit", "", "pending", author, filed)
                if state == "approved":
                    self.step(tid, "close_out", ids, "approve", "pending", "approved", self.supervisor, decided)
                    closed.append((tid, city.local_date(decided)))
                ids += 1
        # Rejected and withdrawn: on tasks still open (a rejection sends the task back).
        for state, how_many in (("rejected", 300), ("withdrawn", 100)):
            for tid in rng.sample(self.open_tasks, how_many):
                lead = self.owners[tid][0][0]
                author = rng.choice(self.staff[lead])
                filed = rng.uniform(self.now_ts - 86400 * 120, self.now_ts - 86400 * 5)
                decided = filed + rng.uniform(3600, 86400 * 4)
                requirements = rng.choice(RETURN_REASONS) if state == "rejected" else ""
                actor = self.supervisor if state == "rejected" else author
                rows.append(
                    (
                        ids,
                        tid,
                        state,
                        2,
                        "已完成全部任务目标。",
                        "",
                        None,
                        author,
                        city.iso(filed),
                        self.due("REVIEW", city.local_date(filed)),
                        False,
                        False,
                        False,
                        self.supervisor if state == "rejected" else None,
                        city.iso(decided),
                        requirements,
                        "",
                    )
                )
                self.step(tid, "close_out", ids, "submit", "", "pending", author, filed)
                self.step(
                    tid,
                    "close_out",
                    ids,
                    "reject" if state == "rejected" else "withdraw",
                    "pending",
                    state,
                    actor,
                    decided,
                    requirements or "任务尚需补充材料，先行撤回。",
                )
                ids += 1
        city.copy_rows(
            self.cur,
            "supervision_closeout",
            [
                "id",
                "task_id",
                "state",
                "version",
                "summary",
                "explanation",
                "progress_update_id",
                "submitted_by_id",
                "submitted_at",
                "decision_due_on",
                "evidence_checked",
                "milestones_checked",
                "indicators_checked",
                "decided_by_id",
                "decided_at",
                "requirements",
                "reopen_reason",
            ],
            rows,
        )
        # Approved: the task is 已销号, its completion date the decision's.
        if closed:
            values = ",".join(self.cur.mogrify("(%s,%s::date)", row).decode() for row in closed)
            self.cur.execute(
                f"UPDATE tasks_task t SET status = 'closed', completed_on = v.day FROM (VALUES {values}) AS v(id, day) "
                "WHERE t.id = v.id"
            )
        self.log("close-outs", len(rows), started)

    def requests(self, how_many: int = 3000):
        """Delay requests (some on a milestone), wording changes and target changes, along
        the chain each plan sets, in every state."""
        started = time.perf_counter()
        rng, rows, ids = self.rng, [], 1
        state_weights = [
            ("pending_unit", 15),
            ("pending_supervisor", 20),
            ("pending_leader", 5),
            ("approved", 35),
            ("rejected", 15),
            ("withdrawn", 10),
        ]
        names, weights = [s for s, _ in state_weights], [w for _, w in state_weights]
        step_state = {"unit": "pending_unit", "supervisor": "pending_supervisor", "leader": "pending_leader"}
        for tid in rng.sample(self.open_tasks, how_many):
            pid, _status, _percent, due = self.tasks[tid]
            lead = self.owners[tid][0][0]
            author = rng.choice(self.staff[lead])
            head = rng.choice(self.leaders[lead])
            kind = rng.choices(["delay", "wording", "target"], [70, 15, 15])[0]
            if kind == "target" and tid not in self.indicators:
                kind = "delay"
            milestone = indicator = current_target = proposed_target = None
            current_due = proposed_due = None
            current_text = proposed_text = ""
            if kind == "delay":
                if tid in self.milestones and rng.random() < 0.3:
                    milestone, current_due = rng.choice(self.milestones[tid])
                else:
                    current_due = due
                proposed_due = current_due + datetime.timedelta(days=rng.choice([15, 30, 60, 90]))
            elif kind == "wording":
                current_text, proposed_text = "原任务表述。", "调整后的任务表述：结合实际细化工作内容。"
            else:
                indicator, current_target = rng.choice(self.indicators[tid])
                proposed_target = (current_target * Decimal(rng.choice(["0.9", "0.95"]))).quantize(Decimal("0.0001"))
            steps = ["unit", "supervisor"] + (["leader"] if kind == "target" else [])
            state = rng.choices(names, weights)[0]
            if state == "pending_leader" and "leader" not in steps:
                state = "pending_supervisor"
            filed = rng.uniform(self.now_ts - 86400 * 90, self.now_ts - 3600)
            self.step(tid, "request", ids, "submit", "", "pending_unit", author, filed, rng.choice(REQUEST_REASONS))
            here, ts, version = "pending_unit", filed, 1
            deciders = {"unit": head, "supervisor": self.supervisor, "leader": self.plan_leader(pid)}
            # Walk the chain until the state meant: approvals, then the end (rejected, withdrawn).
            final_pending = state.startswith("pending_")
            stop_at = state if final_pending else None
            index = 0
            while here != stop_at:
                # Rejected or withdrawn at a random step of the chain.
                if state in ("rejected", "withdrawn") and (rng.random() < 0.5 or index == len(steps) - 1):
                    ts += rng.uniform(3600, 86400 * 3)
                    if state == "rejected":
                        self.step(
                            tid,
                            "request",
                            ids,
                            "reject",
                            here,
                            "rejected",
                            deciders[steps[index]],
                            ts,
                            "理由不充分，不予批准。",
                        )
                    else:
                        self.step(tid, "request", ids, "withdraw", here, "withdrawn", author, ts, "撤回申请。")
                    here, version = state, version + 1
                    break
                ts += rng.uniform(3600, 86400 * 3)
                nxt = step_state[steps[index + 1]] if index + 1 < len(steps) else "approved"
                self.step(tid, "request", ids, "approve", here, nxt, deciders[steps[index]], ts, "同意。")
                here, version, index = nxt, version + 1, index + 1
                if here == "approved":
                    break
            ts = min(ts, self.now_ts - 60)
            if final_pending:
                step = {"pending_unit": "SIGNOFF"}.get(here, "REVIEW")
                decision_due = self.due(step, city.local_date(ts))
            else:
                decision_due = None
            approved = here == "approved"
            rows.append(
                (
                    ids,
                    tid,
                    milestone,
                    indicator,
                    kind,
                    here,
                    version,
                    json.dumps(steps),
                    rng.choice(REQUEST_REASONS),
                    rng.choice(PROGRESS),
                    current_due,
                    proposed_due,
                    proposed_due if approved and kind == "delay" else None,
                    current_text,
                    proposed_text,
                    proposed_text if approved and kind == "wording" else "",
                    current_target,
                    proposed_target,
                    proposed_target if approved and kind == "target" else None,
                    author,
                    city.iso(filed),
                    bool(current_due and city.local_date(filed) > current_due),
                    decision_due,
                    None if final_pending else city.iso(ts),
                )
            )
            ids += 1
        city.copy_rows(
            self.cur,
            "supervision_changerequest",
            [
                "id",
                "task_id",
                "milestone_id",
                "indicator_id",
                "kind",
                "state",
                "version",
                "steps",
                "reason",
                "progress_so_far",
                "current_due_on",
                "proposed_due_on",
                "approved_due_on",
                "current_text",
                "proposed_text",
                "approved_text",
                "current_target",
                "proposed_target",
                "approved_target",
                "filed_by_id",
                "filed_at",
                "filed_late",
                "decision_due_on",
                "decided_at",
            ],
            rows,
        )
        self.log("change requests", len(rows), started)

    def plan_leader(self, pid):
        if not hasattr(self, "_plan_leaders"):
            self.cur.execute("SELECT id, leader_in_charge_id FROM workplans_plan")
            self._plan_leaders = dict(self.cur.fetchall())
        return self._plan_leaders.get(pid) or self.leaders[self.root][0]


LOOP_TABLES = [
    "supervision_transition",
    "supervision_reportrevision",
    "supervision_coownerinput",
    "supervision_periodreport",
    "supervision_closeout",
    "supervision_changerequest",
]


def generate_loop(params: dict, now: datetime.datetime) -> float:
    from django.apps import apps
    from django.core.management.color import no_style
    from django.db import connection, transaction

    started = time.perf_counter()
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f"TRUNCATE {', '.join(LOOP_TABLES)}, workplans_plan_supervisors RESTART IDENTITY CASCADE")
        cursor.execute(f"DROP TABLE IF EXISTS {MARKER_TABLE}")
        # A loop made before: its users and the tasks it closed go back to what the city had.
        cursor.execute("DELETE FROM accounts_user WHERE username IN (%s, %s)", [SUPERVISOR, UNIT_HEAD])
        cursor.execute("UPDATE tasks_task SET status = 'done', completed_on = NULL WHERE status = 'closed'")
        cursor.execute("SET LOCAL synchronous_commit = off")
        Loop(cursor, seed=params["seed"], now=now, past_cycles=params["past_cycles"]).run()
        models = [
            *apps.get_app_config("supervision").get_models(),
            apps.get_model("accounts", "User"),
            apps.get_model("workplans", "Plan"),
        ]
        for statement in connection.ops.sequence_reset_sql(no_style(), models):
            cursor.execute(statement)
        cursor.execute(
            f"CREATE TABLE {MARKER_TABLE} (key text PRIMARY KEY, params jsonb NOT NULL, made_at timestamptz)"
        )
        cursor.execute(f"INSERT INTO {MARKER_TABLE} VALUES ('loop', %s, now())", [json.dumps(params)])
    with connection.cursor() as cursor:
        cursor.execute("VACUUM (ANALYZE) " + ", ".join([*LOOP_TABLES, "tasks_task", "workplans_plan", "accounts_user"]))
    return time.perf_counter() - started


def loop_is_current(cursor, params: dict) -> bool:
    cursor.execute("SELECT to_regclass(%s)", [MARKER_TABLE])
    if cursor.fetchone()[0] is None:
        return False
    cursor.execute(f"SELECT params FROM {MARKER_TABLE} WHERE key = 'loop'")
    row = cursor.fetchone()
    stored = row and (row[0] if isinstance(row[0], dict) else json.loads(row[0]))
    return stored == params


# --- Measuring ----------------------------------------------------------------------------


def measure(client, url: str, *, warmup: int, runs: int) -> dict:
    """Like bench_staff_pages.measure, with p90: the whole request, `runs` times, then once
    with its queries recorded and each SELECT's server time from EXPLAIN ANALYZE."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def get():
        response = client.get(url)
        if response.status_code != 200:
            raise RuntimeError(f"GET {url} answered {response.status_code}: {response.content[:300]!r}")
        return response

    for _ in range(warmup):
        get()
    timings = []
    for _ in range(runs):
        started = time.perf_counter()
        get()
        timings.append((time.perf_counter() - started) * 1000)
    with CaptureQueriesContext(connection) as captured:
        response = get()
    selects = []
    for query in captured.captured_queries:
        sql = city.DECLARE.sub("", query["sql"])
        if sql.lstrip().upper().startswith("SELECT"):
            selects.append((city.server_ms(sql), sql))
    selects.sort(key=lambda pair: pair[0], reverse=True)
    return summary(timings) | {
        "queries": len(captured.captured_queries),
        "server_sql_ms": sum(ms for ms, _ in selects),
        "selects": selects,
        "bytes": len(response.content),
    }


def measure_sql(sql: str, params, *, warmup: int, runs: int) -> dict:
    """A query on its own through connection.cursor, fetched in full, timed the same way."""
    from django.db import connection

    def run():
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            return cursor.fetchall()

    for _ in range(warmup):
        run()
    timings = []
    for _ in range(runs):
        started = time.perf_counter()
        run()
        timings.append((time.perf_counter() - started) * 1000)
    with connection.cursor() as cursor:
        bound = cursor.mogrify(sql, params)
    bound = bound.decode() if isinstance(bound, bytes) else bound
    return summary(timings) | {"queries": 1, "selects": [(city.server_ms(bound), bound)], "bytes": 0}


def summary(timings):
    return {
        "median": statistics.median(timings),
        "p90": city.percentile(timings, 0.90),
        "best": min(timings),
    }


def page_exists(client, name: str, **kwargs) -> str | None:
    """The page's URL, or None (printed: page missing) when it is not there yet."""
    from django.template import TemplateDoesNotExist
    from django.urls import NoReverseMatch, reverse

    try:
        url = reverse(name, kwargs=kwargs or None)
    except NoReverseMatch:
        print(f"page missing: no URL named {name}")
        return None
    try:
        response = client.get(url)
    except (TemplateDoesNotExist, ImportError, AttributeError) as error:
        print(f"page missing: GET {url} ({name}) failed: {type(error).__name__}: {error}")
        return None
    if response.status_code == 404:
        print(f"page missing: GET {url} ({name}) answered 404")
        return None
    if response.status_code != 200:
        print(f"page broken: GET {url} ({name}) answered {response.status_code}")
        return None
    return url


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rebuild", action="store_true", help="regenerate the city and the loop")
    parser.add_argument("--tasks", type=int, default=50_000)
    parser.add_argument("--updates", type=int, default=1_000_000)
    parser.add_argument("--readings", type=int, default=200_000)
    parser.add_argument("--seed", type=int, default=20261124)
    parser.add_argument("--past-cycles", type=int, default=3, help="earlier cycles with reports, before this one")
    parser.add_argument("--runs", type=int, default=30, help="timed requests per page")
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--show", type=int, default=2, help="slowest queries shown per page")
    parser.add_argument("--sql-chars", type=int, default=400, help="SQL shown per query, in characters")
    parser.add_argument(
        "--explain",
        action="store_true",
        help="EXPLAIN ANALYZE the slowest query of every page (default: failing pages)",
    )
    args = parser.parse_args()

    city.ensure_database(os.environ["DATABASE_URL"])
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
    city_params = {
        "version": city.GENERATOR_VERSION,
        "tasks": args.tasks,
        "updates": args.updates,
        "readings": args.readings,
        "seed": args.seed,
    }
    loop_params = {"version": LOOP_VERSION, "city": city_params, "seed": args.seed, "past_cycles": args.past_cycles}
    with connection.cursor() as cursor:
        city_current = not args.rebuild and city.data_is_current(cursor, city_params)
    if city_current:
        print("city: reusing the existing data set (--rebuild to regenerate)")
    else:
        print(f"city: generating {args.tasks:,} tasks, {args.updates:,} progress updates (bench_staff_pages) …")
        print(f"city: generated in {city.generate(city_params, timezone.now()):.1f} s")
        connection.close()
    with connection.cursor() as cursor:
        loop_current = city_current and loop_is_current(cursor, loop_params)
    if loop_current:
        print("loop: reusing the existing reports, close-outs and requests")
    else:
        print("loop: generating reports, revisions, steps, co-owner input, close-outs, requests …")
        print(f"loop: generated in {generate_loop(loop_params, timezone.now()):.1f} s")
        connection.close()

    with connection.cursor() as cursor:
        cursor.execute("""SELECT (SELECT count(*) FROM tasks_task), (SELECT count(*) FROM tasks_progressupdate),
            (SELECT count(*) FROM supervision_periodreport), (SELECT count(*) FROM supervision_reportrevision),
            (SELECT count(*) FROM supervision_transition), (SELECT count(*) FROM supervision_coownerinput),
            (SELECT count(*) FROM supervision_closeout), (SELECT count(*) FROM supervision_changerequest)""")
        counts = cursor.fetchone()
        labels = [
            "tasks",
            "progress updates",
            "reports",
            "revisions",
            "steps",
            "co-owner inputs",
            "close-outs",
            "requests",
        ]
        print("      " + ", ".join(f"{n:,} {label}" for n, label in zip(counts, labels, strict=True)))
        cursor.execute("SELECT state, count(*) FROM supervision_periodreport GROUP BY 1 ORDER BY 2 DESC")
        print("      reports by state: " + ", ".join(f"{s} {n:,}" for s, n in cursor.fetchall()))
        _, _owned, staff_id, typical_task, _hot = city.pick_subjects(cursor)

    supervisor = User.objects.select_related("agency").get(username=SUPERVISOR)
    staff = User.objects.select_related("agency").get(pk=staff_id)
    client, staff_client = Client(), Client()
    client.force_login(supervisor)
    staff_client.force_login(staff)
    print(f"user: {supervisor.username} (supervisor, agency {supervisor.agency.name}); password {PASSWORD!r}")

    # The pages: they are being written; say so when one is not there yet.
    missing = False
    worklist_url = page_exists(client, "supervision:worklist")
    missing |= worklist_url is None
    from supervision.models import PeriodReport

    oldest = PeriodReport.objects.filter(state="pending_review").order_by("submitted_at", "pk").first()
    report_url = page_exists(client, "supervision:report_detail", pk=oldest.pk) if oldest else None
    missing |= report_url is None
    if missing:
        print("page missing: nothing timed")
        sys.exit(2)
    revisions = oldest.revisions.count()
    steps = oldest.transitions.count()

    cases = [
        ("work list (supervisor)", client, worklist_url),
        (f"review page, report #{oldest.pk}", client, report_url),
        ("ref: 我的任务 (staff)", staff_client, "/tasks/mine/"),
        ("ref: task page, typical", staff_client, f"/tasks/{typical_task}/"),
    ]
    load = ", ".join(f"{n:.1f}" for n in os.getloadavg())
    print(
        f"review page: the oldest pending_review report, #{oldest.pk} ({revisions} revisions, {steps} steps)\n"
        f"timing: {args.warmup} warm-up + {args.runs} timed requests per page, then one with its queries recorded "
        f"(load average {load} on {os.cpu_count()} CPUs)"
    )
    results = []
    for label, who, path in cases:
        result = measure(who, path, warmup=args.warmup, runs=args.runs)
        results.append((label, result, label.startswith("ref") is False))
        report_case(label, f"GET {unquote(path)}", result, args)

    # The work list's main queries on their own: the one count query and the review section's rows.
    from supervision import worklist

    found = worklist.sections(supervisor, timezone.localdate())
    review = next((s for s in found if s.key == "review_reports"), None)
    raw = []
    if review is not None:
        sql, params = review.items[: worklist.SECTION_CAP].query.sql_with_params()
        raw.append(("ref: raw SQL, review section", sql, params))
    counted = User.objects.filter(pk=supervisor.pk).values(**{f"n_{s.key}": worklist._count_of(s.items) for s in found})
    sql, params = counted.query.sql_with_params()
    raw.append(("ref: raw SQL, work list counts", sql, params))
    for label, sql, params in raw:
        result = measure_sql(sql, params, warmup=args.warmup, runs=args.runs)
        results.append((label, result, False))
        report_case(label, "connection.cursor()", result, args)

    print(f"\n{city.pad('page', 34)} {'median':>9} {'p90':>9} {'queries':>8}  target: median ≤ {TARGET_MS:.0f} ms")
    failed = False
    for label, result, judged in results:
        verdict = ("PASS" if result["median"] <= TARGET_MS else "FAIL") if judged else "(reference)"
        failed |= judged and result["median"] > TARGET_MS
        print(
            f"{city.pad(label, 34)} {result['median']:>6.1f} ms {result['p90']:>6.1f} ms "
            f"{result['queries']:>8}  {verdict}"
        )
    if failed:
        print("over target: see the slowest queries and their EXPLAIN above")


def report_case(label, what, result, args):
    print(f"\n{label}  {what}")
    print(
        f"  median {result['median']:.1f} ms, p90 {result['p90']:.1f} ms, best {result['best']:.1f} ms; "
        f"{result['queries']} queries"
        + (f", SQL {result['server_sql_ms']:.1f} ms server-side" if "server_sql_ms" in result else "")
        + (f"; {result['bytes'] / 1024:.0f} KB of HTML" if result["bytes"] else "")
    )
    for ms, sql in result["selects"][: args.show]:
        print(f"  slow query, {ms:.1f} ms on the server: {city.shorten(sql, args.sql_chars)}")
    if args.explain or (result["median"] > TARGET_MS and not label.startswith("ref")):
        for ms, sql in result["selects"][:1]:
            print(f"  EXPLAIN (ANALYZE, BUFFERS) of the {ms:.1f} ms query:")
            print("    " + city.explain(sql).replace("\n", "\n    "))


if __name__ == "__main__":
    main()
