"""Time what leaders take to the meeting (issue 18): the assessment (考核), the bulletin draft
(通报), the public page (政务公开), the ledger export (督办台账) and the fill-in sheet (填报表),
on one active plan of 10,000 tasks.

Run by hand (not a test; `make bench` runs it). Targets: the year's scoring (assessment
.services.result and standings, the freeze, the frozen read) at most 10 s each, in a number
of queries that does not grow with the tasks; the bulletin's draft (dashboards.bulletins
.draft_data and create_draft) at most 10 s; the public page (/public/<plan>/, anonymous,
through Django's test client) at most 50 ms once cached, in a constant number of queries.
The public snapshot's build, the ledger (rows/s, with and without the options per_agency
and monthly) and the busiest agency's fill-in sheet (build, reading it back filled in by
openpyxl, preview) are printed with their figures, without a target. Each figure is printed
with its wall time and SQL queries (CaptureQueriesContext), and the queries of the same work
on a second active plan of a twentieth of the tasks ("small"): where the queries should not
grow with the tasks, the two counts must be equal. Beside them, references measured the same
way in the same run: a count of the plan's tasks and the dashboard overview's live figures
(dashboards.rollup.figures_query).

usage: [DATABASE_URL=postgres://postgres@127.0.0.1:5432/workplans] \\
       .venv/bin/python tests/bench/bench_outputs.py [--tasks 10000] [--seed N] [--repeat 1]
       [--page-runs 30] [--profile | --profile-all] [--keep]

The database: with DATABASE_URL set (PostgreSQL) a throwaway database of its own on that
server (test_<name>_outputs), created and migrated for the run and dropped at the end (--keep
keeps it); without it, SQLite in a temporary directory. The exports' files go to a temporary
MEDIA_ROOT. The cache is the settings' (Redis with REDIS_URL, else in-process); the public
page's cache keys this run made are deleted at the end.

The clock stands (time_machine, ticking) at Thu 17 December 2026 10:00, Beijing time, two
days after the year's last report was due: the whole year is there to score. The data
(bulk_create, drawn with --seed; about a minute at 10,000 tasks on PostgreSQL): the city's
agencies (bench_staff_pages' names: 18 commission departments, district and city units,
partner bureaus), 3 staff (one of them 审核人) and a leader each, the leader in charge, a
supervisor and a system admin; one active 2026 plan reporting monthly by the 15th with
--tasks tasks in 20 sections (led by the agencies in proportion to their weights, a third
with co-owners, a fifth with a named 责任人, 0–3 milestones each), and the small plan alike:
- tasks: 12 % closed out (已销号, an approved close-out each, some sent after the due date),
  4 % done waiting for their close-out, 5 % overdue, 6 % lagging, 1 % not started, 1 % on
  hold, the rest in progress; 2 % of the open ones with a rejected close-out;
- reports for the twelve months (what a task owed: none after it was finished): 3 % missing
  and 0.5 % left as drafts, 8 % sent late, the rest on time; 3 % returned once (a RETURN
  step) and accepted on their second revision; December's: 6 % none, 4 % drafts, the rest
  pending sign-off, pending review, returned or accepted; each submission a revision with its
  submit and accept steps; the two latest progress notes of each task;
- delay requests on 5 % of the tasks (approved, rejected, pending, withdrawn; a fifth filed
  late); 督办单 on 7 % (blue 5 %, yellow 1.5 %, red 0.4 %; closed, answered, open,
  acknowledged, a few cancelled), copied to the co-owners;
- indicators on 30 % of the tasks (1–2 each; a fifth due mid-year), four in five with 1–4
  readings; public narratives on 10 % of the tasks;
- set up through the services, untimed: each plan's 考核 scheme created and activated with
  six leader's evaluations, and its public page switched on with every field.
The calendar is workdays.seed.seed (chinesecalendar) for 2025 and 2026.

--profile runs each figure over its target again under cProfile (after the table; the
freeze, done once, is profiled before its timed run on a freeze rolled back) and prints the
functions that take the time; --profile-all does so for every figure.
"""

import argparse
import cProfile
import datetime
import io
import logging
import os
import pstats
import random
import re
import shutil
import statistics
import sys
import tempfile
import time
from collections import Counter
from decimal import Decimal

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import bench_escalation as escalation_bench  # noqa: E402  (its data builder's agencies and people)
import bench_staff_pages as city  # noqa: E402  (sets the settings module, DEBUG=0, ROOT on sys.path)

D = datetime.date
YEAR = 2026
DAY = D(2026, 12, 17)  # a Thursday: December's report was due on Tuesday the 15th
NOW = datetime.datetime(2026, 12, 17, 10, 0, tzinfo=city.CST)
REPORT_DUE_DAY = 15
SCORING_TARGET_S = 10.0
BULLETIN_TARGET_S = 10.0
PAGE_TARGET_S = 0.050
SMALL_SHARE = 20  # the small plan has a twentieth of the tasks

# (kind, share of the tasks): what a task is on DAY.
KINDS = [
    ("closed", 0.12),
    ("done", 0.04),
    ("overdue", 0.05),
    ("lagging", 0.06),
    ("not_started", 0.01),
    ("on_hold", 0.01),
]
CO_OWNED_SHARE = 0.33
RESPONSIBLE_SHARE = 0.20
REJECTED_CLOSE_OUT_SHARE = 0.02
# Past months' reports: missing, left as a draft, sent late, returned once (of those sent).
MISSING, LEFT_DRAFT, LATE, RETURNED_ONCE = 0.03, 0.005, 0.08, 0.03
# December's (due the 15th, two days ago): none, draft, then the states of those sent.
DEC_NONE, DEC_DRAFT = 0.06, 0.04
DEC_STATES = [("pending_review", 45), ("accepted", 40), ("pending_signoff", 8), ("returned", 7)]
DELAY_SHARE = 0.05
DELAY_STATES = [
    ("approved", 55),
    ("rejected", 20),
    ("pending_supervisor", 10),
    ("pending_leader", 5),
    ("withdrawn", 10),
]
NOTICE_SHARES = [("blue", 0.05), ("yellow", 0.015), ("red", 0.004)]
NOTICE_STATES = [("closed", 50), ("answered", 20), ("issued", 18), ("acknowledged", 7), ("cancelled", 5)]
INDICATOR_SHARE = 0.30
READINGS_SHARE = 0.80
NARRATIVE_SHARE = 0.10
EVALUATIONS = 6
RETURN_REASONS = [
    "请补充佐证材料（会议纪要或文件）。",
    "进展描述过于笼统，请写明具体完成的工作量。",
    "完成百分比与里程碑完成情况不符，请核实。",
]
PROBLEMS = ["", "", "部分区县进度不平衡。", "经费下达滞后，影响部分工作开展。", "基层人员力量不足。"]
NEXT_STEPS = ["下一步将加快推进，确保按期完成。", "继续加强督导，推动问题整改到位。", "做好年度总结和评估准备。"]


def at(day: datetime.date, hour: int = 10) -> datetime.datetime:
    """`day` at `hour` o'clock, Beijing time."""
    return datetime.datetime(day.year, day.month, day.day, hour, tzinfo=city.CST)


def weighted(rng: random.Random, pairs):
    return rng.choices([value for value, _w in pairs], [w for _v, w in pairs])[0]


# --- The data -----------------------------------------------------------------------------------


class Builder(escalation_bench.Builder):
    """Writes the data set with bulk_create (PostgreSQL or SQLite): the escalation bench's
    calendar, agencies and people (plus an admin, who runs the year), then this bench's own
    plans, reports, requests, notices and indicators."""

    def __init__(self, n_tasks: int, seed: int):
        super().__init__(n_tasks, seed)
        self.tasks: list[dict] = []  # one dict per task of both plans (see plan_tasks)

    def run(self) -> "Builder":
        from django.db import transaction

        with transaction.atomic():
            self.calendar()
            self.people()
            self.plans()
            self.owners_and_extras()
            self.reports()
            self.close_outs_and_requests()
            self.notices()
            self.indicators()
        return self

    def people(self):
        from accounts.models import User
        from core.roles import Role

        super().people()
        self.admin = User.objects.create(
            username="bench_admin", full_name="系统管理员", role=Role.ADMIN, person_id="bench-admin", password="!"
        )

    def plans(self):
        from workplans.choices import PlanStatus, ReportingCycle
        from workplans.models import Plan, Section

        started = time.perf_counter()
        common = {
            "year": YEAR,
            "issuer": self.commission,
            "status": PlanStatus.ACTIVE,
            "reporting_cycle": ReportingCycle.MONTHLY,
            "report_due_day": REPORT_DUE_DAY,
            "leader_in_charge": self.leader,
            "issued_on": D(YEAR, 1, 10),
        }
        self.plan = Plan.objects.create(
            title=f"{YEAR}年{city.CITY}卫生健康工作要点", doc_number=f"澄卫发〔{YEAR}〕1号", **common
        )
        self.small = Plan.objects.create(
            title=f"{YEAR}年{city.CITY}爱国卫生运动工作要点", doc_number=f"澄卫发〔{YEAR}〕9号", **common
        )
        labels = "一二三四五六七八九十"
        n_small = max(50, self.n_tasks // SMALL_SHARE)
        rows = 0
        for plan, n, n_sections in ((self.plan, self.n_tasks, 20), (self.small, n_small, 4)):
            sections = Section.objects.bulk_create(
                [
                    Section(
                        plan=plan,
                        label=labels[i % 10] + ("" if i < 10 else "（续）"),
                        title=city.TOPICS[i],
                        order=i,
                    )
                    for i in range(n_sections)
                ]
            )
            rows += len(sections) + self.plan_tasks(plan, n, sections)
        self.log("plans, sections, tasks", rows, started)

    def shape(self, kind: str) -> tuple[datetime.date, int, str, datetime.date | None]:
        """(due date, percent, status, completed on) of a task of `kind` on DAY."""
        rng = self.rng
        if kind == "closed":
            completed = D(YEAR, rng.randint(2, 11), rng.randint(1, 28))
            # A fifth finished after their due date (their close-out counts late).
            due = completed - datetime.timedelta(days=rng.randint(3, 40)) if rng.random() < 0.2 else D(YEAR, 12, 31)
            if due == D(YEAR, 12, 31) and rng.random() < 0.5:
                due = D(YEAR, rng.choice([6, 9, 11]), 30)
                due = max(due, completed)
            return due, 100, "closed", completed
        if kind == "done":
            return D(YEAR, 12, 31), 100, "done", None
        if kind == "overdue":
            due = D(YEAR, rng.randint(3, 11), rng.randint(1, 28))
            return due, rng.randint(40, 95), rng.choice(["in_progress", "lagging"]), None
        if kind == "lagging":
            return D(YEAR, 12, 31), rng.randint(30, 70), "lagging", None
        if kind == "not_started":
            return D(YEAR, 12, 31), 0, "not_started", None
        if kind == "on_hold":
            return D(YEAR, 12, 31), rng.randint(10, 60), "on_hold", None
        return D(YEAR, 12, 31), rng.randint(80, 99), "in_progress", None

    def plan_tasks(self, plan, n: int, sections) -> int:
        from tasks.models import Task

        rng = self.rng
        cumulative, total = [], 0.0
        for kind, share in KINDS:
            total += share
            cumulative.append((total, kind))
        rows, infos = [], []
        for i in range(n):
            draw = rng.random()
            kind = next((k for edge, k in cumulative if draw < edge), "on_pace")
            due_on, percent, status, completed_on = self.shape(kind)
            section = sections[i % len(sections)]
            # 已完成 waiting for its close-out: it said so in the last few weeks.
            finished_on = completed_on or (
                DAY - datetime.timedelta(days=rng.randint(3, 40)) if kind == "done" else None
            )
            rows.append(
                Task(
                    plan=plan,
                    section=section,
                    number=str(i // len(sections) + 1),
                    heading=f"{rng.choice(city.VERBS)}{rng.choice(city.TOPICS)}{rng.choice(city.SUFFIXES)}",
                    text=rng.choice(city.SENTENCES),
                    due_on=due_on,
                    baseline_due_on=due_on,
                    status=status,
                    percent=percent,
                    order=i,
                    completed_on=completed_on,
                    version=12,
                    last_progress_at=at(finished_on or D(YEAR, 12, rng.randint(5, 15))),
                )
            )
            infos.append(
                {
                    "plan": plan,
                    "kind": kind,
                    "due_on": due_on,
                    "percent": percent,
                    "status": status,
                    "finished_on": finished_on,
                }
            )
            self.counts[kind] += plan.pk == self.plan.pk
        created = Task.objects.bulk_create(rows, batch_size=5000)
        for task, info in zip(created, infos, strict=True):
            info["pk"] = task.pk
        self.tasks.extend(infos)
        return len(created)

    def owners_and_extras(self):
        """Lead and co-owners, 责任人, milestones, progress notes, public narratives."""
        from publication.models import PublicNarrative
        from tasks.choices import OwnerRole
        from tasks.models import Milestone, ProgressUpdate, Task, TaskOwner

        started = time.perf_counter()
        rng = self.rng
        owners, responsible, milestones, updates, narratives = [], [], [], [], []
        through = Task.responsible_users.through
        for info in self.tasks:
            pk = info["pk"]
            lead = rng.choices(self.agencies, self.weights)[0]
            info["lead"] = lead
            info["co"] = []
            owners.append(TaskOwner(task_id=pk, agency_id=lead, role=OwnerRole.LEAD, order=0))
            if rng.random() < CO_OWNED_SHARE:
                info["co"] = rng.sample([a for a in self.agencies if a != lead], rng.choice([1, 1, 2]))
                for order, agency in enumerate(info["co"], start=1):
                    owners.append(TaskOwner(task_id=pk, agency_id=agency, role=OwnerRole.CO_OWNER, order=order))
            if rng.random() < RESPONSIBLE_SHARE:
                responsible.append(through(task_id=pk, user_id=rng.choice(self.staff[lead])))
            for order in range(rng.randint(0, 3)):
                due = D(YEAR, rng.randint(1, 12), rng.randint(1, 28))
                done = info["status"] in ("done", "closed") or (due < DAY and rng.random() < 0.85)
                milestones.append(
                    Milestone(
                        task_id=pk,
                        due_on=due,
                        baseline_due_on=due,
                        text=rng.choice(city.MILESTONE_TEXTS),
                        done_on=min(due, DAY) if done else None,
                        order=order,
                    )
                )
            author = rng.choice(self.staff[lead])
            last = (info["finished_on"] or D(YEAR, 12, 10)) - datetime.timedelta(days=1)
            for back, part in ((30, 0.8), (0, 1.0)):
                percent = info["percent"] if back == 0 else int(info["percent"] * part)
                status = info["status"] if back == 0 else ("not_started" if percent == 0 else "in_progress")
                if status == "closed":
                    status = "done"
                updates.append(
                    ProgressUpdate(
                        task_id=pk,
                        author_id=author,
                        created_at=at(last - datetime.timedelta(days=back)),
                        status=status,
                        percent=percent,
                        note=rng.choice(city.NOTES),
                    )
                )
            if rng.random() < NARRATIVE_SHARE:
                narratives.append(PublicNarrative(task_id=pk, text=rng.choice(city.SENTENCES)))
        TaskOwner.objects.bulk_create(owners, batch_size=5000)
        through.objects.bulk_create(responsible, batch_size=5000)
        Milestone.objects.bulk_create(milestones, batch_size=5000)
        ProgressUpdate.objects.bulk_create(updates, batch_size=5000)
        PublicNarrative.objects.bulk_create(narratives, batch_size=5000)
        rows = len(owners) + len(responsible) + len(milestones) + len(updates) + len(narratives)
        self.log("owners, 责任人, milestones, notes, narratives", rows, started)

    def reports(self):
        """The twelve months' reports, their revisions and their steps."""
        from supervision.models import PeriodReport, ReportRevision, Transition

        started = time.perf_counter()
        rng = self.rng
        reports, details = [], []  # details: per report, its revisions and steps to write
        for info in self.tasks:
            author = rng.choice(self.staff[info["lead"]])
            for month in range(1, 13):
                due = D(YEAR, month, REPORT_DUE_DAY)
                if info["finished_on"] is not None and info["finished_on"] <= due:
                    break  # finished before the report was due: nothing owed
                start = D(YEAR, month, 1)
                end = (D(YEAR, month + 1, 1) if month < 12 else D(YEAR + 1, 1, 1)) - datetime.timedelta(days=1)
                percent = info["percent"] if month == 12 else min(info["percent"], round(info["percent"] * month / 12))
                status = (
                    "not_started" if percent == 0 else ("lagging" if info["status"] == "lagging" else "in_progress")
                )
                draw = rng.random()
                if month < 12:
                    if draw < MISSING:
                        self.counts["reports missing"] += info["plan"].pk == self.plan.pk
                        continue
                    state = "draft" if draw < MISSING + LEFT_DRAFT else "accepted"
                    returned = state == "accepted" and rng.random() < RETURNED_ONCE
                else:
                    if draw < DEC_NONE:
                        self.counts["reports missing"] += info["plan"].pk == self.plan.pk
                        continue
                    state = "draft" if draw < DEC_NONE + DEC_DRAFT else weighted(rng, DEC_STATES)
                    returned = state == "returned"
                sent = None
                if state != "draft":
                    if rng.random() < LATE:
                        sent = at(due + datetime.timedelta(days=rng.randint(1, 2 if month == 12 else 10)), 9)
                    else:
                        sent = at(D(YEAR, month, rng.randint(5, REPORT_DUE_DAY)))
                    if sent > NOW - datetime.timedelta(hours=2):
                        sent = NOW - datetime.timedelta(hours=2)
                late = sent is not None and sent.date() > due
                submissions = [] if sent is None else [sent]
                if returned and state != "returned":
                    submissions.append(min(sent + datetime.timedelta(days=4), NOW - datetime.timedelta(hours=1)))
                accepted_at = None
                if state == "accepted":
                    accepted_at = min(
                        submissions[-1] + datetime.timedelta(days=2), NOW - datetime.timedelta(minutes=30)
                    )
                self.counts[f"reports {'late' if late else state}"] += info["plan"].pk == self.plan.pk
                reports.append(
                    PeriodReport(
                        task_id=info["pk"],
                        period_start=start,
                        period_end=end,
                        period_label=f"{YEAR}年{month}月",
                        due_on=due,
                        state=state,
                        version=1 + len(submissions) + (1 if returned else 0) + (1 if accepted_at else 0),
                        revision=len(submissions),
                        author_id=author,
                        progress=rng.choice(city.NOTES),
                        problems=rng.choice(PROBLEMS),
                        next_steps=rng.choice(NEXT_STEPS),
                        status=status,
                        percent=percent,
                        submitted_at=submissions[-1] if submissions else None,
                        late=late,
                        decision_due_on=due + datetime.timedelta(days=5) if state == "pending_review" else None,
                        accepted_at=accepted_at,
                        created_at=at(start + datetime.timedelta(days=3)),
                    )
                )
                details.append((info["pk"], author, submissions, returned, state, accepted_at, due, status, percent))
        reports = PeriodReport.objects.bulk_create(reports, batch_size=5000)
        self.log("reports (twelve months)", len(reports), started)

        started = time.perf_counter()
        revisions, steps = [], []
        supervisor = self.supervisor.pk
        for report, (task_id, author, submissions, returned, state, accepted_at, due, status, percent) in zip(
            reports, details, strict=True
        ):
            for number, sent in enumerate(submissions, start=1):
                revisions.append(
                    ReportRevision(
                        report_id=report.pk,
                        task_id=task_id,
                        number=number,
                        progress=report.progress,
                        problems=report.problems,
                        next_steps=report.next_steps,
                        status=status,
                        percent=percent,
                        submitted_by_id=author,
                        submitted_at=sent,
                        late=sent.date() > due,
                    )
                )
                after = "pending_signoff" if state == "pending_signoff" else "pending_review"
                steps.append(
                    Transition(
                        task_id=task_id,
                        report_id=report.pk,
                        action="submit",
                        state_before="draft" if number == 1 else "returned",
                        state_after=after,
                        actor_id=author,
                        created_at=sent,
                    )
                )
                if returned and number == 1:
                    steps.append(
                        Transition(
                            task_id=task_id,
                            report_id=report.pk,
                            action="return",
                            state_before="pending_review",
                            state_after="returned",
                            actor_id=supervisor,
                            comment=self.rng.choice(RETURN_REASONS),
                            created_at=min(sent + datetime.timedelta(days=2), NOW - datetime.timedelta(hours=1)),
                        )
                    )
            if accepted_at is not None:
                steps.append(
                    Transition(
                        task_id=task_id,
                        report_id=report.pk,
                        action="accept",
                        state_before="pending_review",
                        state_after="accepted",
                        actor_id=supervisor,
                        created_at=accepted_at,
                    )
                )
        ReportRevision.objects.bulk_create(revisions, batch_size=5000)
        Transition.objects.bulk_create(steps, batch_size=5000)
        self.log("report revisions and their steps", len(revisions) + len(steps), started)

    def close_outs_and_requests(self):
        from supervision.models import ChangeRequest, CloseOut

        started = time.perf_counter()
        rng = self.rng
        close_outs, requests = [], []
        supervisor = self.supervisor.pk
        for info in self.tasks:
            pk, author = info["pk"], rng.choice(self.staff[info["lead"]])
            if info["kind"] == "closed":
                sent = info["finished_on"] + datetime.timedelta(days=rng.randint(1, 5))
                close_outs.append(
                    CloseOut(
                        task_id=pk,
                        state="approved",
                        summary="任务已按要求全部完成，佐证材料已上传。",
                        submitted_by_id=author,
                        submitted_at=at(sent),
                        evidence_checked=True,
                        milestones_checked=True,
                        indicators_checked=True,
                        decided_by_id=supervisor,
                        decided_at=at(
                            min(sent + datetime.timedelta(days=rng.randint(2, 6)), DAY - datetime.timedelta(days=1))
                        ),
                    )
                )
            elif info["kind"] == "done":
                close_outs.append(
                    CloseOut(
                        task_id=pk,
                        state="pending",
                        summary="任务已完成，申请销号。",
                        submitted_by_id=author,
                        submitted_at=at(info["finished_on"]),
                        decision_due_on=info["finished_on"] + datetime.timedelta(days=7),
                    )
                )
            elif rng.random() < REJECTED_CLOSE_OUT_SHARE:
                sent = D(YEAR, rng.randint(3, 10), rng.randint(1, 28))
                close_outs.append(
                    CloseOut(
                        task_id=pk,
                        state="rejected",
                        summary="申请销号。",
                        submitted_by_id=author,
                        submitted_at=at(sent),
                        decided_by_id=supervisor,
                        decided_at=at(sent + datetime.timedelta(days=3)),
                        requirements="佐证材料不全，请补充后重新申请。",
                    )
                )
            if info["status"] not in ("done", "closed") and rng.random() < DELAY_SHARE:
                state = weighted(rng, DELAY_STATES)
                filed = D(YEAR, rng.randint(2, 11), rng.randint(1, 28))
                proposed = min(info["due_on"] + datetime.timedelta(days=rng.randint(30, 90)), D(YEAR, 12, 31))
                decided = state in ("approved", "rejected", "withdrawn")
                requests.append(
                    ChangeRequest(
                        task_id=pk,
                        kind="delay",
                        state=state,
                        reason=rng.choice(["受上级政策调整影响，需顺延完成时限。", "项目招标流程延长，申请延期。"]),
                        progress_so_far=rng.choice(city.NOTES),
                        current_due_on=info["due_on"],
                        proposed_due_on=proposed,
                        approved_due_on=proposed if state == "approved" else None,
                        filed_by_id=author,
                        filed_at=at(filed),
                        filed_late=rng.random() < 0.2,
                        decision_due_on=None if decided else filed + datetime.timedelta(days=7),
                        decided_at=at(filed + datetime.timedelta(days=5)) if decided else None,
                    )
                )
                self.counts[f"delay {state}"] += info["plan"].pk == self.plan.pk
        CloseOut.objects.bulk_create(close_outs, batch_size=5000)
        ChangeRequest.objects.bulk_create(requests, batch_size=5000)
        self.log("close-outs and delay requests", len(close_outs) + len(requests), started)

    def notices(self):
        from escalation import policy
        from escalation.models import Notice, NoticeCounter

        started = time.perf_counter()
        rng = self.rng
        series = policy.series()
        drafts = []
        for info in self.tasks:
            draw = rng.random()
            edge = 0.0
            for level, share in NOTICE_SHARES:
                edge += share
                if draw < edge:
                    issued_on = D(YEAR, rng.randint(2, 12), rng.randint(1, 28))
                    if issued_on >= DAY:
                        issued_on = DAY - datetime.timedelta(days=rng.randint(1, 20))
                    drafts.append((issued_on, info["pk"], level, weighted(rng, NOTICE_STATES), info))
                    break
        drafts.sort(key=lambda d: (d[0], d[1]))
        notices = []
        for seq, (issued_on, pk, level, state, info) in enumerate(drafts, start=1):
            issued_at = at(issued_on, 8)
            answered = state in ("answered", "closed")
            by_hand = rng.random() < 0.1
            notices.append(
                Notice(
                    series=series,
                    year=YEAR,
                    seq=seq,
                    number=policy.number_text(series, YEAR, seq),
                    level=level,
                    task_id=pk,
                    agency_id=info["lead"],
                    origin="hand" if by_hand else "rule",
                    issued_by=self.supervisor if by_hand else None,
                    causes=[] if by_hand else [rng.choice(["report_late", "overdue", "behind"])],
                    facts="截至当日，该任务进展情况见附表。",
                    requirements=str(policy.DEFAULT_REQUIREMENTS[level]),
                    wants_evidence=level != "blue",
                    wants_plan=level == "red",
                    reply_due_on=policy.default_reply_due(level, issued_on),
                    state=state,
                    issued_on=issued_on,
                    issued_at=issued_at,
                    acknowledged_at=issued_at + datetime.timedelta(hours=5) if state != "issued" else None,
                    answer="已按要求整改。" if answered else "",
                    answered_at=issued_at + datetime.timedelta(days=2) if answered else None,
                    closed_at=issued_at + datetime.timedelta(days=4) if state == "closed" else None,
                    cancel_reason="误发，已核实该任务已按时报送。" if state == "cancelled" else "",
                )
            )
            self.counts[f"notices {level}"] += info["plan"].pk == self.plan.pk
        notices = Notice.objects.bulk_create(notices, batch_size=2000)
        copies = Notice.copied_to.through
        co = {info["pk"]: info["co"] for info in self.tasks if info["co"]}
        copied = copies.objects.bulk_create(
            [copies(notice_id=nt.pk, agency_id=a) for nt in notices for a in co.get(nt.task_id, ())], batch_size=5000
        )
        NoticeCounter.objects.create(series=series, year=YEAR, last=len(notices))
        self.log("督办单 and their copies", len(notices) + len(copied), started)

    def indicators(self):
        from indicators.models import Indicator, Reading

        started = time.perf_counter()
        rng = self.rng
        indicators, values = [], []
        for info in self.tasks:
            if rng.random() >= INDICATOR_SHARE:
                continue
            for order in range(rng.choice([1, 1, 2])):
                name, comparator, unit = rng.choice(city.INDICATOR_KINDS)
                target = rng.randint(60, 95) if comparator == ">=" else rng.randint(5, 20)
                due_on = D(YEAR, 6, 30) if rng.random() < 0.2 else None
                indicators.append(
                    Indicator(
                        plan=info["plan"],
                        task_id=info["pk"],
                        name=name,
                        comparator=comparator,
                        target=Decimal(target),
                        baseline_target=Decimal(target),
                        unit=unit,
                        due_on=due_on,
                        order=order,
                    )
                )
                values.append((info, target))
        indicators = Indicator.objects.bulk_create(indicators, batch_size=5000)
        readings = []
        for indicator, (info, target) in zip(indicators, values, strict=True):
            if rng.random() >= READINGS_SHARE:
                continue
            reporter = rng.choice(self.staff[info["lead"]])
            for month in sorted(rng.sample(range(3, 12), rng.randint(1, 4))):
                as_of = D(YEAR, month, 28)
                readings.append(
                    Reading(
                        plan=info["plan"],
                        indicator=indicator,
                        value=Decimal(str(round(target * rng.uniform(0.8, 1.15), 1))),
                        as_of=as_of,
                        reporter_id=reporter,
                        created_at=at(as_of + datetime.timedelta(days=2)),
                    )
                )
        Reading.objects.bulk_create(readings, batch_size=5000)
        self.log("indicators and readings", len(indicators) + len(readings), started)


def set_up_services(data: Builder) -> None:
    """What the services set up for each plan, untimed: its 考核 scheme, activated, with
    leaders' evaluations, and its public page switched on with every field."""
    from assessment import services as assessment
    from assessment.choices import SchemeState
    from publication import services as publication
    from publication.choices import PublicField, Schedule

    rng = random.Random(len(data.tasks))
    for plan in (data.plan, data.small):
        scheme = assessment.create_scheme(plan, data.supervisor)
        scheme = assessment.set_state(scheme.pk, data.supervisor, version=scheme.version, state=SchemeState.ACTIVE)
        for agency_id in sorted(assessment.participant_ids(plan))[:EVALUATIONS]:
            assessment.add_evaluation(
                scheme.pk,
                data.leader,
                agency_id=agency_id,
                points=Decimal(rng.choice(["-2", "-1", "1", "2", "3"])),
                reason="年度重点工作推进有力。",
            )
        publication.save_settings(
            plan.pk, data.admin, enabled=True, fields=list(PublicField.values), schedule=Schedule.MANUAL, version=1
        )


# --- Measuring ------------------------------------------------------------------------------------


class Figure:
    """One timed figure: its work on the main plan (timed, queries counted) and on the small
    plan (queries counted: the same when they do not grow with the tasks)."""

    def __init__(self, label, target_s=None, *, constant=False, repeatable=True):
        self.label = label
        self.target_s = target_s
        self.constant = constant
        self.repeatable = repeatable
        self.seconds = None
        self.queries = None
        self.small_queries = None
        self.note = ""
        self.profile_work = None
        self.profiler = None  # a profile taken beforehand (the freeze's, rolled back)

    @property
    def passed(self) -> bool | None:
        checks = []
        if self.target_s is not None:
            checks.append(self.seconds <= self.target_s)
        if self.constant and self.small_queries is not None:
            checks.append(self.queries == self.small_queries)
        return all(checks) if checks else None

    @property
    def over_target(self) -> bool:
        return self.target_s is not None and self.seconds > self.target_s


SHAPES = [
    (re.compile(r"'(?:[^']|'')*'"), "?"),
    (re.compile(r"\b\d+(?:\.\d+)?\b"), "?"),
    (re.compile(r"\(\s*(?:%s|\?)(?:\s*,\s*(?:%s|\?))*\s*\)"), "(?…)"),
    (re.compile(r"\"?s\d+_x\d+\"?|_django_curs_\w+"), "<name>"),
    (re.compile(r"\s+"), " "),
]


def shape(sql: str) -> str:
    for pattern, replacement in SHAPES:
        sql = pattern.sub(replacement, sql)
    return sql.strip()


def run_captured(work):
    """(seconds, the SQL run, result) of one run of `work`, queries recorded."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as captured:
        started = time.perf_counter()
        result = work()
        seconds = time.perf_counter() - started
    return seconds, [query["sql"] for query in captured.captured_queries], result


def measure(figure: Figure, work, small_work=None, *, repeat: int = 1, before=None):
    """Time `work` (median of `repeat` runs, `before()` run untimed before each) and count
    its queries; and count those of `small_work`, run first, after a warm-up run when the
    work can be repeated (so what a process reads once, the working-day calendar or a
    user's scope kept on the user, is read for neither). Prints the figure, and the
    queries one run made and the other did not when the counts should be equal and are
    not. Returns the first run's result."""
    small_sql = None
    if small_work is not None:
        if figure.repeatable:  # a warm-up: what a process reads once per user or per year
            if before is not None:
                before(small=True)
            small_work()
        if before is not None:
            before(small=True)
        _seconds, small_sql, _result = run_captured(small_work)
        figure.small_queries = len(small_sql)
    timings, sql, first = [], [], None
    for index in range(repeat if figure.repeatable else 1):
        if before is not None:
            before()
        seconds, sql, result = run_captured(work)
        timings.append(seconds)
        if index == 0:
            first = result
    figure.seconds = statistics.median(timings)
    figure.queries = len(sql)
    if figure.repeatable and figure.profile_work is None:
        figure.profile_work = work
    small = f", small plan {figure.small_queries:,} queries" if small_sql is not None else ""
    spread = f" (median of {len(timings)}: {min(timings):.3f}–{max(timings):.3f} s)" if len(timings) > 1 else ""
    print(f"  {figure.label}: {figure.seconds:.3f} s{spread}, {figure.queries:,} queries{small}", flush=True)
    if figure.constant and small_sql is not None and len(small_sql) != len(sql):
        ours, theirs = Counter(map(shape, sql)), Counter(map(shape, small_sql))
        for query, n in ((ours - theirs) + (theirs - ours)).items():
            where = "main" if ours[query] > theirs[query] else "small"
            print(f"    only in the {where} plan's run, {n} ×: {city.shorten(query, 300)}")
    return first


def measure_reference(label: str, work, runs: int = 3) -> dict:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    work()  # warm-up
    timings = []
    for _ in range(runs):
        started = time.perf_counter()
        work()
        timings.append(time.perf_counter() - started)
    with CaptureQueriesContext(connection) as captured:
        work()
    return {"label": label, "seconds": statistics.median(timings), "queries": len(captured.captured_queries)}


def assessment_figures(data: Builder, args) -> list[Figure]:
    from django.db import transaction

    from assessment import services as assessment
    from assessment.models import FrozenItem

    plan, small = data.plan, data.small
    print("\n1. 考核 (assessment.services), the year to " + DAY.isoformat())
    figures = []
    whole = Figure("考核 result(), the year (active scheme)", SCORING_TARGET_S, constant=True)
    outcome = measure(
        whole,
        lambda: assessment.result(plan, until=DAY),
        lambda: assessment.result(small, until=DAY),
        repeat=args.repeat,
    )
    whole.note = f"{len(outcome.items):,} items, {len(outcome.standings)} agencies ranked"
    figures.append(whole)

    ranking = Figure("考核 standings()", SCORING_TARGET_S, constant=True)
    measure(
        ranking,
        lambda: assessment.standings(plan, until=DAY),
        lambda: assessment.standings(small, until=DAY),
        repeat=args.repeat,
    )
    figures.append(ranking)

    scoring: list[float] = []

    def freeze_work(target):
        """The freeze, the scoring it does inside (its call of result()) timed apart."""
        scheme = assessment.scheme_of(target)

        def work():
            original = assessment.result

            def timed(*args, **kwargs):
                started = time.perf_counter()
                try:
                    return original(*args, **kwargs)
                finally:
                    scoring.append(time.perf_counter() - started)

            assessment.result = timed
            try:
                return assessment.freeze(scheme.pk, data.supervisor, version=scheme.version, until=DAY)
            finally:
                assessment.result = original

        return work

    freezing = Figure("考核 freeze() (scores and stores the year)", SCORING_TARGET_S, repeatable=False)
    if args.profile or args.profile_all:
        # Freezing happens once: its profile is taken before, of a freeze rolled back.
        def rolled_back():
            with transaction.atomic():
                freeze_work(plan)()
                transaction.set_rollback(True)

        freezing.profiler = profiled(rolled_back)
    measure(freezing, freeze_work(plan), freeze_work(small))
    stored = FrozenItem.objects.filter(scheme__plan=plan).count()
    freezing.note = f"{stored:,} items stored; scoring (its result()) {scoring[-1]:.2f} s of it"
    figures.append(freezing)

    frozen = Figure("考核 result() once frozen", SCORING_TARGET_S, constant=True)
    outcome = measure(frozen, lambda: assessment.result(plan), lambda: assessment.result(small), repeat=args.repeat)
    frozen.note = f"{len(outcome.items):,} items read"
    figures.append(frozen)
    frozen_ranking = Figure("考核 standings() once frozen", SCORING_TARGET_S, constant=True)
    measure(frozen_ranking, lambda: assessment.standings(plan), lambda: assessment.standings(small), repeat=args.repeat)
    figures.append(frozen_ranking)
    return figures


def bulletin_figures(data: Builder, args) -> list[Figure]:
    from dashboards import bulletins

    plan, small = data.plan, data.small
    period = bulletins.default_period(plan, DAY)
    compared = bulletins.compared_with(plan, period)
    print(f"\n2. 通报 (dashboards.bulletins), {period.label} against {compared.label}, as of {DAY}")
    draft = Figure("通报 draft_data()", BULLETIN_TARGET_S, constant=True)
    content = measure(
        draft,
        lambda: bulletins.draft_data(plan, period, compared, DAY),
        lambda: bulletins.draft_data(small, period, compared, DAY),
        repeat=args.repeat,
    )
    draft.note = (
        f"{len(content['ranking'])} ranked, {len(content['unreported'])} unreported, "
        f"{len(content['indicators_missed'])} indicators missed"
    )
    created = Figure("通报 create_draft()", BULLETIN_TARGET_S, constant=True)
    measure(
        created,
        lambda: bulletins.create_draft(plan, period, data.supervisor, today=DAY),
        lambda: bulletins.create_draft(small, period, data.supervisor, today=DAY),
        repeat=args.repeat,
    )
    return [draft, created]


def public_figures(data: Builder, args, page_keys: list) -> list[Figure]:
    from django.conf import settings
    from django.core.cache import cache
    from django.test import Client

    from publication import services as publication
    from publication import views
    from publication.choices import SnapshotState
    from publication.models import PublicSnapshot

    plan, small = data.plan, data.small
    print("\n3. 政务公开 (publication), every field public")

    def no_draft(small=False):
        """Each build starts as the first one: no earlier draft to replace."""
        PublicSnapshot.objects.filter(plan=data.small if small else data.plan, state=SnapshotState.DRAFT).update(
            state=SnapshotState.SUPERSEDED
        )

    build = Figure("公开 build_snapshot()", constant=True)
    measure(
        build,
        lambda: publication.build_snapshot(plan.pk, data.admin, today=DAY),
        lambda: publication.build_snapshot(small.pk, data.admin, today=DAY),
        repeat=args.repeat,
        before=no_draft,
    )
    publishing = Figure("公开 publish()", constant=True, repeatable=False)
    snapshot = PublicSnapshot.objects.get(plan=plan, state=SnapshotState.DRAFT)
    small_snapshot = PublicSnapshot.objects.get(plan=small, state=SnapshotState.DRAFT)
    published = measure(
        publishing,
        lambda: publication.publish(snapshot.pk, data.admin),
        lambda: publication.publish(small_snapshot.pk, data.admin),
    )
    published = PublicSnapshot.objects.get(pk=published.pk)
    small_published = PublicSnapshot.objects.get(pk=small_snapshot.pk)
    for shot in (published, small_published):
        page_keys.extend(views._page_key(shot, code) for code, _name in settings.LANGUAGES)
    sections = published.data["sections"]
    build.note = f"{len(sections)} sections, {sum(len(section['tasks']) for section in sections):,} tasks"

    client = Client()
    url, small_url = f"/public/{plan.pk}/", f"/public/{small.pk}/"

    def get(address):
        def work():
            response = client.get(address)
            if response.status_code != 200:
                raise RuntimeError(f"GET {address} answered {response.status_code}")
            return response

        return work

    def forget(small=False):
        cache.delete_many(page_keys)

    cold = Figure("公开 page, not cached (renders the snapshot)", constant=True)
    cold.profile_work = lambda: (forget(), get(url)())
    response = measure(cold, get(url), get(small_url), repeat=max(args.repeat, 3), before=forget)
    cold.note = f"{len(response.content) / 1024:,.0f} KB of HTML"
    get(url)()
    get(small_url)()
    cached = Figure("公开 page, cached", PAGE_TARGET_S, constant=True)
    measure(cached, get(url), get(small_url), repeat=args.page_runs)
    cached.note = f"median of {args.page_runs} requests"
    return [build, publishing, cold, cached]


def ledger_figures(data: Builder, args) -> list[Figure]:
    from dashboards.exports import runner
    from dashboards.models import Export, ExportKind

    print("\n4. 督办台账 (dashboards.exports.runner.run_export), the plan, asked by the leader in charge")
    figures = []
    for options, label in (
        ({}, "台账 ledger build"),
        ({"per_agency": True, "monthly": True}, "台账 per_agency + monthly"),
    ):
        figure = Figure(label)
        exports = []

        def work(options=options, exports=exports):
            export = Export.objects.create(
                kind=ExportKind.LEDGER, requested_by=data.leader, plan=data.plan, year=YEAR, options=options
            )
            exports.append(export.pk)
            outcome = runner.run_export(export.pk)
            if outcome != "done":
                raise RuntimeError(f"ledger export {outcome}: {Export.objects.get(pk=export.pk).error}")
            return export.pk

        measure(figure, work, repeat=args.repeat)
        export = Export.objects.get(pk=exports[0])
        figure.note = (
            f"{export.done_rows:,} rows, {export.done_rows / figure.seconds:,.0f} rows/s, "
            f"{export.file.size / 1024:,.0f} KB"
        )
        print(f"    {figure.note}")
        figures.append(figure)
    return figures


def sheet_figures(data: Builder, args) -> list[Figure]:
    import openpyxl
    from django.core.files.uploadedfile import SimpleUploadedFile

    from accounts.models import Agency, User
    from core.roles import Role
    from tasks.choices import FINISHED, OwnerRole
    from tasks.models import TaskOwner
    from workbench import sheet_services, sheets

    def busiest(plan) -> Agency:
        counts = Counter(
            TaskOwner.objects.filter(task__plan=plan, role=OwnerRole.LEAD)
            .exclude(task__status__in=FINISHED)
            .values_list("agency_id", flat=True)
        )
        agency_id = min(counts, key=lambda a: (-counts[a], a))
        return Agency.objects.get(pk=agency_id)

    def fill(content: bytes) -> bytes:
        """Every row's report written, as a unit would type it (openpyxl, the cells only)."""
        book = openpyxl.load_workbook(io.BytesIO(content))
        sheet = book.worksheets[0]
        column = {key: sheets.COLUMNS.index(key) + 1 for key in sheets.COLUMNS}
        rng = random.Random(7)
        for row in range(sheets.FIRST_ROW, sheet.max_row + 1):
            if sheet.cell(row, column["task_id"]).value is None:
                continue
            percent = sheet.cell(row, column["percent"]).value or 0
            sheet.cell(row, column["percent"]).value = min(99, int(percent) + rng.randint(1, 10))
            sheet.cell(row, column["progress"]).value = rng.choice(city.NOTES) + "（十二月）"
            sheet.cell(row, column["problems"]).value = rng.choice(PROBLEMS[2:])
            sheet.cell(row, column["next_steps"]).value = rng.choice(NEXT_STEPS)
        out = io.BytesIO()
        book.save(out)
        return out.getvalue()

    sides = {}
    for name, plan in (("main", data.plan), ("small", data.small)):
        agency = busiest(plan)
        staff = User.objects.filter(agency=agency, role=Role.STAFF).order_by("pk").first()
        sides[name] = (plan, agency, staff)
    plan, agency, _staff = sides["main"]
    print(f"\n5. 填报表 (workbench.sheet_services) of {agency.name}, the busiest lead")
    made = {}

    def make(side):
        def work():
            plan, agency, _staff = sides[side]
            content, rows, _cycle = sheet_services.make_sheet(plan, agency, today=DAY)
            made[side] = (content, rows)
            return rows

        return work

    build = Figure("填报表 make_sheet()", constant=True)
    rows = measure(build, make("main"), make("small"), repeat=args.repeat)
    filled = {side: fill(content) for side, (content, _rows) in made.items()}
    build.note = f"{rows:,} rows, {len(made['main'][0]) / 1024:,.0f} KB"
    imports = {}

    def receive(side):
        def work():
            _plan, _agency, staff = sides[side]
            upload = SimpleUploadedFile("填报表.xlsx", filled[side])
            imports[side] = sheet_services.receive(upload, staff, today=DAY)
            return imports[side]

        return work

    reading = Figure("填报表 receive() (read back, filled by openpyxl)", constant=True)
    measure(reading, receive("main"), receive("small"), repeat=args.repeat)
    reading.note = f"{len(filled['main']) / 1024:,.0f} KB file, {len(imports['main'].rows):,} rows read"

    def preview(side):
        def work():
            _plan, _agency, staff = sides[side]
            return sheet_services.preview(imports[side], staff, today=DAY)

        return work

    previewing = Figure("填报表 preview()", constant=True)
    shown = measure(previewing, preview("main"), preview("small"), repeat=args.repeat)
    outcomes = Counter(row.outcome for row in shown)
    problems = Counter(kind for row in shown for kind, _message in row.problems)
    previewing.note = ", ".join(f"{outcome} {n:,}" for outcome, n in sorted(outcomes.items()))
    previewing.note += " (" + ", ".join(f"{kind} {n:,}" for kind, n in sorted(problems.items())) + ")"
    return [build, reading, previewing]


def profiled(work) -> cProfile.Profile:
    profiler = cProfile.Profile()
    profiler.enable()
    try:
        work()
    finally:
        profiler.disable()
    return profiler


def profile(figure: Figure, args) -> None:
    profiler = figure.profiler
    if profiler is None and figure.profile_work is None:
        print(f"\nprofile: {figure.label} is done once only: not profiled")
        return
    print(f"\nprofile: {figure.label} (run again under cProfile; times inflated by the profiler)")
    if profiler is None:
        profiler = profiled(figure.profile_work)
    out = io.StringIO()
    stats = pstats.Stats(profiler, stream=out).sort_stats("cumulative")
    stats.print_stats(
        r"(assessment|dashboards|publication|workbench|supervision|escalation|indicators|tasks|workdays|workplans)/",
        args.profile_lines,
    )
    out.seek(0)
    print(out.read())
    out = io.StringIO()
    pstats.Stats(profiler, stream=out).sort_stats("tottime").print_stats(args.profile_lines // 2)
    print(out.getvalue())


def describe(data: Builder) -> None:
    counts = data.counts
    n = data.n_tasks
    kinds = [kind for kind, _share in KINDS] + ["on_pace"]
    print("      main plan's tasks: " + ", ".join(f"{k} {counts[k]:,} ({100 * counts[k] / n:.1f} %)" for k in kinds))
    reports = sorted((k, v) for k, v in counts.items() if k.startswith("reports "))
    print("      its reports: " + ", ".join(f"{k[8:]} {v:,}" for k, v in reports))
    others = sorted((k, v) for k, v in counts.items() if k.startswith(("delay ", "notices ")))
    print("      and: " + ", ".join(f"{k} {v:,}" for k, v in others))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", type=int, default=10_000, help="tasks in the main plan")
    parser.add_argument("--seed", type=int, default=20261217)
    parser.add_argument("--repeat", type=int, default=1, help="runs of each figure (the median is printed)")
    parser.add_argument("--page-runs", type=int, default=30, help="requests of the cached public page")
    parser.add_argument("--profile", action="store_true", help="profile the figures over target")
    parser.add_argument("--profile-all", action="store_true", help="profile every figure")
    parser.add_argument("--profile-lines", type=int, default=30)
    parser.add_argument("--keep", action="store_true", help="keep the database (PostgreSQL) at the end")
    args = parser.parse_args()

    import django

    django.setup()
    import time_machine
    from django.conf import settings
    from django.core.cache import cache
    from django.db import connection
    from django.template import Template
    from django.test.utils import override_settings, setup_databases, setup_test_environment, teardown_databases

    from dashboards.rollup import figures_query
    from tasks.models import Task

    logging.getLogger("audit").setLevel(logging.WARNING)  # not a JSON line per audited step
    db = settings.DATABASES["default"]
    db.setdefault("TEST", {})
    if db["ENGINE"].endswith("sqlite3"):
        db["TEST"]["NAME"] = os.path.join(tempfile.mkdtemp(prefix="bench_outputs_"), "bench.sqlite3")
    else:
        db["TEST"]["NAME"] = f"test_{db['NAME']}_outputs"
    render = Template._render
    setup_test_environment()
    Template._render = render  # the pages rendered as in production, not recorded for tests
    media_root = tempfile.mkdtemp(prefix="bench_outputs_media_")
    media = override_settings(MEDIA_ROOT=media_root)
    media.enable()
    connection.queries_limit = 10_000_000
    started = time.perf_counter()
    old = setup_databases(verbosity=0, interactive=False)
    print(
        f"database: {connection.vendor} ({connection.settings_dict['NAME']}), created and migrated in "
        f"{time.perf_counter() - started:.1f} s; DEBUG={settings.DEBUG}, cache "
        f"{settings.CACHES['default']['BACKEND'].rsplit('.', 1)[-1]}; the clock at {NOW.isoformat()}"
    )
    page_keys: list[str] = []
    traveller = time_machine.travel(NOW, tick=True)
    traveller.start()
    try:
        started = time.perf_counter()
        small_tasks = max(50, args.tasks // SMALL_SHARE)
        print(f"data: {args.tasks:,} tasks in the main plan, {small_tasks:,} in the small one (seed {args.seed}) …")
        data = Builder(args.tasks, args.seed).run()
        set_up_services(data)
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
        print(f"data: made in {time.perf_counter() - started:.1f} s")
        describe(data)
        load = ", ".join(f"{n:.1f}" for n in os.getloadavg())
        print(f"timing (load average {load} on {os.cpu_count()} CPUs):")

        tasks = Task.objects.filter(plan=data.plan)
        references = [
            measure_reference("ref: Task.objects.filter(plan=plan).count()", lambda: tasks.count()),
            measure_reference("ref: dashboards.rollup.figures_query(plan's tasks)", lambda: figures_query(tasks, DAY)),
        ]
        figures = assessment_figures(data, args)
        figures += bulletin_figures(data, args)
        figures += public_figures(data, args, page_keys)
        figures += ledger_figures(data, args)
        figures += sheet_figures(data, args)

        width = 50
        print(
            f"\n{city.pad(f'figure ({args.tasks:,} tasks; small: {max(50, args.tasks // SMALL_SHARE):,})', width)} "
            f"{'wall':>10} {'queries':>8} {'small':>6}  {'target':<16} {'':<5} note"
        )
        for figure in figures:
            target = (
                f"≤ {figure.target_s * 1000:.0f} ms"
                if figure.target_s and figure.target_s < 1
                else (f"≤ {figure.target_s:.0f} s" if figure.target_s else "—")
            )
            if figure.constant:
                target += ", q const"
            verdict = {True: "PASS", False: "FAIL", None: ""}[figure.passed]
            wall = f"{figure.seconds * 1000:.1f} ms" if figure.seconds < 1 else f"{figure.seconds:.2f} s"
            small = f"{figure.small_queries:,}" if figure.small_queries is not None else ""
            print(
                f"{city.pad(figure.label, width)} {wall:>10} {figure.queries:>8,} {small:>6}  "
                f"{target:<16} {verdict:<5} {figure.note}"
            )
        for ref in references:
            wall = f"{ref['seconds'] * 1000:.1f} ms" if ref["seconds"] < 1 else f"{ref['seconds']:.2f} s"
            print(f"{city.pad(ref['label'], width)} {wall:>10} {ref['queries']:>8,} {'':>6}  (reference)")

        if args.profile or args.profile_all:
            for figure in figures:
                if args.profile_all or figure.over_target:
                    profile(figure, args)
    finally:
        traveller.stop()
        if page_keys:
            cache.delete_many(page_keys)
        media.disable()
        shutil.rmtree(media_root, ignore_errors=True)
        if args.keep and connection.vendor == "postgresql":
            print(f"kept the database {connection.settings_dict['NAME']}")
        else:
            teardown_databases(old, verbosity=0)


if __name__ == "__main__":
    main()
