"""The leaders' weekly digest and escalation: the leader's own instructions (批示) not yet
settled, and the open red and yellow 督办单 of their agencies, in the payload and in the
message; a digest written before these were part of it renders as it did."""

import datetime
import itertools
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from core.roles import Role
from escalation.choices import InstructionState, Level, NoticeState, Origin
from escalation.models import Instruction, Notice
from notifications.choices import Rule
from notifications.delivery import Context, render
from notifications.digest import LISTED, leader_digest
from notifications.jobs import scan_reminders
from notifications.models import Delivery, Notification
from tasks.choices import OwnerRole
from tests.conftest import make_task, make_user

pytestmark = pytest.mark.django_db

SHANGHAI = ZoneInfo("Asia/Shanghai")
MONDAY = datetime.date(2026, 4, 20)
_seq = itertools.count(1)


def make_notice(task, level, state=NoticeState.ISSUED, *, due_on=None):
    seq = next(_seq)
    return Notice.objects.create(
        series="督办",
        year=2026,
        seq=seq,
        number=f"督办〔2026〕{seq}号",
        level=level,
        task=task,
        agency=task.task_owners.get(role=OwnerRole.LEAD).agency,
        origin=Origin.RULE,
        facts="进度滞后",
        requirements="请加快推进",
        reply_due_on=due_on or MONDAY + datetime.timedelta(days=5),
        state=state,
        issued_on=MONDAY - datetime.timedelta(days=10),
    )


def instruct(task, leader, text, respond_by, state=InstructionState.OPEN):
    return Instruction.objects.create(
        task=task,
        text=text,
        respond_by=respond_by,
        state=state,
        issued_by=leader,
        responded_at=timezone.now() if state != InstructionState.OPEN else None,
    )


@pytest.fixture
def world(plan, section, agency_a, agency_b, outside_agency, leader):
    a = make_task(plan, section, "1", lead=agency_a, heading="推进城市医疗集团建设", due_on=datetime.date(2026, 12, 31))
    b = make_task(plan, section, "2", lead=agency_b, heading="改善就医体验", due_on=datetime.date(2026, 12, 31))
    out = make_task(plan, None, "3", lead=outside_agency, heading="医保的任务", due_on=datetime.date(2026, 12, 31))
    other_leader = make_user("leader_outside", Role.LEADER, outside_agency)
    make_notice(a, Level.RED, due_on=MONDAY - datetime.timedelta(days=2))  # past its deadline, unanswered
    make_notice(a, Level.YELLOW, NoticeState.ANSWERED, due_on=MONDAY - datetime.timedelta(days=2))  # answered
    make_notice(b, Level.YELLOW, NoticeState.ACKNOWLEDGED)
    make_notice(b, Level.BLUE)
    make_notice(b, Level.RED, NoticeState.CLOSED)
    make_notice(a, Level.RED, NoticeState.SUPERSEDED)
    make_notice(out, Level.RED)  # not the leader's agencies
    return {
        "open": instruct(a, leader, "请医政医管处\n加快推进集团建设", MONDAY + datetime.timedelta(days=3)),
        "responded": instruct(
            b, leader, "请报送整改方案", MONDAY - datetime.timedelta(days=1), InstructionState.RESPONDED
        ),
        "settled": instruct(a, leader, "已办结的批示", MONDAY, InstructionState.SETTLED),
        "someone_elses": instruct(out, other_leader, "别人的批示", MONDAY),
    }


def test_the_digest_carries_the_leaders_open_instructions_and_the_scopes_open_notices(world, leader):
    payload = leader_digest(leader, MONDAY)
    assert payload["open_notices"] == {"red": 1, "yellow": 2, "unanswered_late": 1}
    assert payload["open_instruction_count"] == 2
    # Their own, not settled, the earliest deadline first.
    assert payload["open_instructions"] == [
        {
            "id": world["responded"].pk,
            "task_id": world["responded"].task_id,
            "task_number": "2",
            "task_heading": "改善就医体验",
            "text": "请报送整改方案",
            "respond_by": "2026-04-19",
            "state": "responded",
            "responded": True,
        },
        {
            "id": world["open"].pk,
            "task_id": world["open"].task_id,
            "task_number": "1",
            "task_heading": "推进城市医疗集团建设",
            "text": "请医政医管处\n加快推进集团建设",
            "respond_by": "2026-04-23",
            "state": "open",
            "responded": False,
        },
    ]


def test_a_leader_of_one_unit_counts_their_units_notices_only(world, agency_a):
    leader_a = make_user("leader_a", Role.LEADER, agency_a)
    payload = leader_digest(leader_a, MONDAY)
    assert payload["open_notices"] == {"red": 1, "yellow": 1, "unanswered_late": 1}
    assert payload["open_instruction_count"] == 0 and payload["open_instructions"] == []


def test_the_list_is_capped_and_the_count_covers_all(plan, agency_a, leader):
    task = make_task(plan, None, "1", lead=agency_a)
    for n in range(LISTED + 3):
        instruct(task, leader, f"批示{n}", MONDAY + datetime.timedelta(days=n))
    payload = leader_digest(leader, MONDAY)
    assert payload["open_instruction_count"] == LISTED + 3
    assert len(payload["open_instructions"]) == LISTED


def test_the_escalation_part_adds_a_fixed_number_of_queries(world, leader, plan, agency_a):
    task = make_task(plan, None, "9", lead=agency_a, due_on=datetime.date(2026, 12, 31))
    leader_digest(leader, MONDAY)  # the leader's scope, read once and kept on the user
    with CaptureQueriesContext(connection) as before:
        leader_digest(leader, MONDAY)
    for n in range(5):
        make_notice(task, Level.YELLOW)
        instruct(task, leader, f"批示{n}", MONDAY)
    with CaptureQueriesContext(connection) as after:
        leader_digest(leader, MONDAY)
    assert len(after) == len(before)
    escalation = [q["sql"] for q in after.captured_queries if "escalation_" in q["sql"]]
    assert len(escalation) == 2  # the instructions (their count too, past LISTED), the notices' counts


def digest_message(payload):
    delivery = Delivery(rule=Rule.LEADER_DIGEST, object_id=1, due_on=MONDAY, day_offset=0, payload=payload)
    return render(delivery, Context(tasks={}, milestones={}, today=MONDAY))


def test_the_message_lists_the_instructions_and_the_notices(world, leader):
    message = digest_message(leader_digest(leader, MONDAY))
    lines = message.lines
    assert "未办结的督办单：红色1件，黄色2件；逾期未反馈1件" in lines
    start = lines.index("您的批示尚未办结：2项")
    assert lines[start + 1 : start + 3] == [
        "  · 2 改善就医体验：请报送整改方案（反馈时限2026-04-19，已反馈，待您审阅）",
        "  · 1 推进城市医疗集团建设：请医政医管处 加快推进集团建设（反馈时限2026-04-23，待落实）",
    ]
    assert message.link == "/dashboard/"


OLD_PAYLOAD = {
    "week_of": "2026-04-13",
    "overdue_count": 1,
    "overdue": [{"id": 1, "number": "1", "heading": "逾期的任务", "due_on": "2026-03-31"}],
    "newly_at_risk_count": 0,
    "newly_at_risk": [],
    "missed_indicator_count": 0,
    "missed_indicators": [],
    "unreported_agencies": [],
}


def test_a_digest_written_before_escalation_renders_as_it_did():
    message = digest_message(dict(OLD_PAYLOAD))
    assert message.lines == [
        "逾期任务：1项",
        "  · 1 逾期的任务（2026-03-31）",
        "新增风险任务：0项",
        "未达目标的指标：0项",
        "本期未报送的单位：0个",
    ]


def test_a_digest_with_partial_escalation_keys_renders_with_defaults():
    message = digest_message({**OLD_PAYLOAD, "open_notices": {}, "open_instructions": [{"text": "批示"}]})
    assert "未办结的督办单：红色0件，黄色0件；逾期未反馈0件" in message.lines
    assert "您的批示尚未办结：1项" in message.lines
    assert "  · ：批示（反馈时限，待落实）" in message.lines


def test_the_inbox_digest_shows_them(world, leader, django_capture_on_commit_callbacks):
    with (
        time_machine.travel(datetime.datetime(2026, 4, 20, 9, tzinfo=SHANGHAI), tick=False),
        django_capture_on_commit_callbacks(execute=True),
    ):
        scan_reminders.delay()
    digest = Notification.objects.get(recipient=leader, rule=Rule.LEADER_DIGEST)
    assert "您的批示尚未办结：2项" in digest.body
    assert "未办结的督办单：红色1件，黄色2件；逾期未反馈1件" in digest.body
    assert digest.payload["open_instruction_count"] == 2
